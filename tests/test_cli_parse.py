"""`gambero parse` as an operator runs it: a real `python -m gambero` process for every reader
format, from a file and from standard input, with rejected records reported on standard error.

The subprocesses run in the checkout's root, so fixture files are named by their path relative
to it (`tests/fixtures/...`), which is also how `gambero parse` names them in its messages.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import IO, Any

import pytest

from readers.protocols.ipico import encode_ipico
from readers.protocols.manual import encode_manual, encode_manual_header
from readers.protocols.p3 import encode_p3_passing
from readers.protocols.raceresult import encode_raceresult
from readers.protocols.ultra import encode_ultra

from .readers.streams import capture_path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path("tests") / "fixtures"
TIMEOUT = 30.0
"""Generous: a run takes well under a second; this only stops a hung process hanging pytest."""

CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
"""The command must flush its own output: an operator's shell does not set PYTHONUNBUFFERED."""

JSONObject = dict[str, Any]


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def reads(self) -> list[JSONObject]:
        return [json.loads(line) for line in self.lines]

    @property
    def messages(self) -> list[str]:
        """Standard error without its final count line."""
        return self.stderr.splitlines()[:-1]

    @property
    def count_line(self) -> str:
        return self.stderr.splitlines()[-1]


def gambero_parse(*args: str, stdin: bytes | None = None) -> Run:
    """`gambero parse ARGS` in a subprocess; `stdin` piped in (nothing at all when None)."""
    completed = subprocess.run(
        [sys.executable, "-m", "gambero", "parse", *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        cwd=ROOT,
        env=CHILD_ENV,
        timeout=TIMEOUT,
        check=False,
    )
    return Run(completed.returncode, completed.stdout.decode("utf-8"),
               completed.stderr.decode("utf-8"))


def hex_to_binary(text: str) -> bytes:
    """A hex dump with `#` comment lines (the P3 fixture and capture) as the bytes it shows."""
    return bytes.fromhex("".join(line for line in text.splitlines()
                                 if not line.startswith("#")))


def json_line(obj: JSONObject) -> str:
    """A read exactly as `gambero parse` prints it (keys in the order given)."""
    return json.dumps(obj)


# Fixture cases: every read's line, every rejection's line, a few reads and rejections exactly.
# Expected values were worked out from the fixture bytes and the formats (PROTOCOLS.md), e.g.
# IPICO `...18455927a7` = 18:45:59 + 0x27 hundredths = .390; Ultra 1170518701 s after
# 1980-01-01 = 2017-02-02 16:05:01.


@dataclass(frozen=True)
class Case:
    format: str
    fixture: str
    binary: bool
    """The fixture is a hex dump of a binary stream (P3): the command gets the bytes."""
    read_lines: tuple[int, ...]
    rejected_lines: tuple[int, ...]
    known_reads: tuple[JSONObject, ...]
    known_rejections: tuple[str, ...]
    """Exact standard error lines; `{name}` stands for the input's name."""

    def data(self) -> bytes:
        raw = (ROOT / FIXTURES / self.fixture).read_bytes()
        return hex_to_binary(raw.decode("ascii")) if self.binary else raw


CASES = (
    Case(
        format="ipico",
        fixture="ipico-mixed.txt",
        binary=False,
        read_lines=(5, 6, 7, 15, 16, 20),
        rejected_lines=(9, 10, 11, 12, 13, 14, 17, 18, 19),
        known_reads=(
            # The vendor PDF's example line: hundredths 0x27 = 39; IPICO has no antenna,
            # rssi or sequence.
            {"chip": "000000012345", "time": "2001-12-30T18:45:59.390", "reader": "40",
             "line": 5},
            # LF-only line; hundredths 0x5f = 95.
            {"chip": "058000128608", "time": "2026-03-07T13:48:51.950", "reader": "00",
             "line": 6},
            # Ended by a lone CR, followed by an `ab` control frame on the same physical line.
            {"chip": "058000123b32", "time": "2026-03-07T13:48:50.500", "reader": "00",
             "line": 7},
            # TTO variant (42 characters).
            {"chip": "058000128608", "time": "2026-03-07T13:48:51.950", "reader": "00",
             "line": 15},
            # Software export with an `FS` suffix.
            {"chip": "000000012345", "time": "2001-12-30T18:45:59.390", "reader": "40",
             "line": 16},
            # Last line, no line ending: flushed at the end of the input.
            {"chip": "058000121838", "time": "2026-03-07T13:48:51.360", "reader": "00",
             "line": 20},
        ),
        known_rejections=(
            "{name}:9: rejected: bad LRC a8 (computed a7): aa400000000123450a2a01123018455927a8",
            "{name}:10: rejected: bad length 35 (expected 36, or 42 with TTO): "
            "aa400000000123450a2a01123018455927a",
            "{name}:11: rejected: non-hex characters 'g': aa40000000g123450a2a01123018455927a7",
            "{name}:13: rejected: hundredths 64 (= 100) out of range: "
            "aa400000000123450a2a01123018455964a8",
            "{name}:17: rejected: not an IPICO record: hello world",
            "{name}:18: rejected: line is not valid text (binary noise?): "
            "\\xff\\xfe\\x80\\x00noise",
        ),
    ),
    Case(
        format="ultra",
        fixture="ultra-session.txt",
        binary=False,
        read_lines=(4, 9, 11, 23),
        rejected_lines=(12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22),
        known_reads=(
            {"chip": "11055", "time": "2017-02-02T16:05:01.698", "reader": "2", "antenna": 1,
             "rssi": -71.0, "sequence": 29319, "line": 4},
            {"chip": "058000128608", "time": "2017-02-02T16:05:02.005", "reader": "1",
             "antenna": 4, "rssi": -62.5, "sequence": 29320, "line": 9},
            # The rewound copy (leading `1,`), after a binary status frame holding LF bytes:
            # line numbers count text lines only.
            {"chip": "11055", "time": "2017-02-02T16:05:01.698", "reader": "2", "antenna": 1,
             "rssi": -71.0, "sequence": 29319, "line": 11},
            {"chip": "11063", "time": "2017-02-02T16:05:04.999", "reader": "1", "antenna": 3,
             "rssi": -55.0, "sequence": 29327, "line": 23},
        ),
        known_rejections=(
            "{name}:12: rejected: 11 fields (a read has 12): "
            "0,11056,1170518703,0,2,-70,0,2,1,0000000000000000,0",
            "{name}:14: rejected: ms 1000 out of range (0-999): "
            "0,11058,1170518703,1000,2,-70,0,2,1,0000000000000000,0,29322",
            "{name}:16: rejected: empty chip: "
            "0,,1170518703,10,2,-70,0,2,1,0000000000000000,0,29324",
            "{name}:20: rejected: not an Ultra record: hello",
            "{name}:21: rejected: line is not valid text (binary noise?): xx\\x03\\xff",
        ),
    ),
    Case(
        format="raceresult",
        fixture="raceresult-session.txt",
        binary=False,
        read_lines=(7, 8, 9, 10, 13, 20, 23, 24),
        rejected_lines=(14, 15, 16, 17, 18, 22),
        known_reads=(
            # Protocol 1.1 line, date 0000-00-00: undated, day 0; no reader or antenna.
            {"chip": "33", "time": "00:00:02.773", "day": 0, "rssi": -68.0, "sequence": 1,
             "line": 7},
            {"chip": "LKJC771", "time": "07:15:09.500", "day": 1, "rssi": -61.0, "sequence": 2,
             "line": 8},
            {"chip": "1044", "time": "2026-05-10T09:31:07.120", "reader": "A-1234",
             "antenna": 2, "rssi": -59.0, "sequence": 3, "line": 9},
            # Pushed (`#P;`), time without a fraction.
            {"chip": "1045", "time": "2026-05-10T09:31:08.000", "reader": "A-1234",
             "antenna": 3, "rssi": -72.0, "sequence": 4, "line": 10},
            # Active transponder: its MaxRSSI is not dBm (no rssi); empty MaxRSSIAntenna.
            {"chip": "1052", "time": "23:59:59.999", "day": 0, "reader": "A-1234",
             "sequence": 9, "line": 20},
            # Latin-1 box name; antenna `x` is not a number (left out, the read kept).
            {"chip": "1053", "time": "2026-05-10T09:40:00.000", "reader": "Ziel S\u00fcd",
             "rssi": -75.0, "sequence": 11, "line": 23},
        ),
        known_rejections=(
            "{name}:14: rejected: bad passing time '09:31:1x.000' (expected hh:mm:ss.kkk): "
            "6;1047;2026-05-10;09:31:1x.000;0;22;-70;0f0f10",
            "{name}:17: rejected: passing number 'x9' is not a number: "
            "#P;x9;1050;2026-05-10;09:31:12.000;0;15;-69;00f1c6;0;;;;;;;;A-1234;1;2;1",
            "{name}:18: rejected: not a RACE RESULT record: hello decoder",
            "{name}:22: rejected: passing has an empty transponder code: "
            "10;;2026-05-10;09:39:00.000;0;9;-75;ab12cc",
        ),
    ),
    Case(
        format="p3",
        fixture="p3-session.hex",
        binary=True,
        read_lines=(2, 3, 6, 12),
        rejected_lines=(2, 4, 5, 7, 8, 9, 10, 12, 13),
        known_reads=(
            # P3 time is an instant (UTC); decoder id 0x00012A3B as its wire bytes in hex.
            {"chip": "4021337", "time": "2026-05-10T07:31:07.120+00:00", "reader": "3B2A0100",
             "rssi": 131.0, "sequence": 1001, "line": 2},
            # Every field holds escaped 0x8D/0x8E/0x8F bytes.
            {"chip": "2408484237", "time": "2026-05-10T07:31:08.000005+00:00",
             "reader": "3B2A0100", "rssi": 36750.0, "sequence": 2391772417, "line": 3},
            {"chip": "4021346", "time": "2026-05-10T08:02:00.999999+00:00",
             "reader": "3B2A0100", "rssi": 77.0, "sequence": 1010, "line": 12},
        ),
        known_rejections=(
            "{name}:2: rejected: 5 bytes outside any frame (skipped up to the next start byte "
            "0x8E): 0a0d8f5500",
            "{name}:4: rejected: bad CRC: frame carries 0xA989, content gives 0x0775: "
            "8e02330089a9000001000104eb03000003045b5c3d00040840c9179d7151060005027900060214"
            "000802000081043b2a01008f",
            "{name}:8: rejected: passing without a transponder (TLV 0x03): "
            "8e022500d325000001000104ef030000040840d2549d7151060005025a0081043b2a01008f",
            "{name}:13: rejected: stream ended inside a frame (no end byte 0x8F): "
            "8e023300c225000001000104f30300000304635c3d00040800",
        ),
    ),
    Case(
        format="manual",
        fixture="manual-entries.csv",
        binary=False,
        read_lines=(2, 4, 8, 10, 12, 15),
        rejected_lines=(5, 6, 7, 11, 13, 14),
        known_reads=(
            # Entries by bib: chip null, bib set; a time of day is undated (day 0).
            {"chip": None, "time": "09:15:02.250", "day": 0, "bib": "101", "line": 2},
            {"chip": None, "time": "2025-05-04T09:15:03.000", "bib": "102", "line": 4},
            {"chip": None, "time": "09:16:00.000", "day": 0, "bib": "105", "line": 8},
            {"chip": None, "time": "09:05:00.500", "day": 0, "bib": "106", "line": 10},
            {"chip": None, "time": "2025-05-04T09:15:03.500", "bib": "108", "line": 12},
            {"chip": None, "time": "09:17:00.000", "day": 0, "bib": "111", "line": 15},
        ),
        known_rejections=(
            "{name}:5: rejected: time '25:00:00' does not exist: 25:00:00,103,no such hour",
            "{name}:6: rejected: missing bib: 09:00:00,,no bib",
            "{name}:7: rejected: 2 columns, the header has 3: 09:00:01,104",
            "{name}:13: rejected: date '2025-02-30 09:00:00' does not exist: "
            "2025-02-30 09:00:00,109,no such day",
        ),
    ),
)


@dataclass(frozen=True)
class CaseRuns:
    case: Case
    name: str
    """How the command names the file it was given."""
    from_file: Run
    from_stdin: Run


@pytest.fixture(scope="module", params=CASES, ids=lambda case: case.format)
def runs(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> CaseRuns:
    """Each fixture parsed twice, once per module: named on the command line, and piped in."""
    case: Case = request.param
    data = case.data()
    if case.binary:
        path = tmp_path_factory.mktemp("binary") / f"{case.format}.bin"
        path.write_bytes(data)
        name = str(path)
    else:
        name = str(FIXTURES / case.fixture)
    return CaseRuns(case, name,
                    from_file=gambero_parse("--format", case.format, name),
                    from_stdin=gambero_parse("--format", case.format, stdin=data))


def test_fixture_parses_with_exit_status_0_and_a_count_line(runs: CaseRuns) -> None:
    case = runs.case
    for run in (runs.from_file, runs.from_stdin):
        assert run.returncode == 0, run.stderr
        assert run.count_line == (f"{counted(len(case.read_lines), 'read')}, "
                                  f"{counted(len(case.rejected_lines), 'rejected record')}")


def test_every_read_is_one_json_object_per_line_in_stream_order(runs: CaseRuns) -> None:
    assert [read["line"] for read in runs.from_file.reads] == list(runs.case.read_lines)


def test_known_reads_are_printed_exactly(runs: CaseRuns) -> None:
    by_line = dict(zip((read["line"] for read in runs.from_file.reads), runs.from_file.lines,
                       strict=True))
    for expected in runs.case.known_reads:
        assert by_line[expected["line"]] == json_line(expected)


def test_rejections_name_the_file_and_line_on_stderr(runs: CaseRuns) -> None:
    messages = runs.from_file.messages
    prefix = f"{runs.name}:"
    assert all(message.startswith(prefix) for message in messages), messages
    lines = [int(message[len(prefix):].split(":", 1)[0]) for message in messages]
    assert lines == list(runs.case.rejected_lines)
    assert all(": rejected: " in message for message in messages)
    for expected in runs.case.known_rejections:
        assert expected.replace("{name}", runs.name) in messages
    # Nothing but reads on standard output.
    assert "rejected" not in runs.from_file.stdout


def test_rejected_records_never_stop_the_stream(runs: CaseRuns) -> None:
    # Reads keep coming after rejected records (every fixture has one after its first
    # rejection, and the exact read lines are checked above).
    first_rejected = runs.case.rejected_lines[0]
    assert any(read["line"] > first_rejected for read in runs.from_file.reads)
    assert runs.from_file.returncode == 0


def test_stdin_gives_the_same_output_as_the_file(runs: CaseRuns) -> None:
    assert runs.from_stdin.stdout == runs.from_file.stdout
    assert runs.from_stdin.stdout  # something to compare
    expected = [message.replace(runs.name, "<stdin>", 1) for message in runs.from_file.messages]
    assert runs.from_stdin.messages == expected
    assert all(message.startswith("<stdin>:") for message in runs.from_stdin.messages)


def test_an_overlong_line_is_rejected_with_its_start_shown() -> None:
    name = str(FIXTURES / "ipico-mixed.txt")
    run = gambero_parse("--format", "ipico", name)
    (message,) = [line for line in run.messages if line.startswith(f"{name}:19:")]
    assert message.startswith(f"{name}:19: rejected: line longer than 4096 bytes: {'a' * 64}")
    assert message.endswith("…")  # marks the cut, not escaped as bytes


def test_a_dash_reads_standard_input_and_one_read_is_singular() -> None:
    run = gambero_parse("--format", "ipico", "-",
                        stdin=encode_ipico("000000012345", WHEN) + b"about\r\n")
    assert json.loads(run.lines[0])["chip"] == "000000012345"
    assert run.messages == ["<stdin>:2: rejected: not an IPICO record: about"]
    assert run.count_line == "1 read, 1 rejected record"


def test_a_closed_output_pipe_stops_quietly() -> None:
    # `gambero parse … | head -1`: the reader of our output goes away after one line.
    stream = b"".join(encode_ipico("000000012345", WHEN) for _ in range(50_000))
    with subprocess.Popen([sys.executable, "-m", "gambero", "parse", "-f", "ipico"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=ROOT, env=CHILD_ENV) as child:
        assert child.stdin is not None and child.stdout is not None
        feeder = threading.Thread(target=_feed_until_closed, args=(child.stdin, stream))
        feeder.start()
        assert child.stdout.readline().startswith(b'{"chip": "000000012345"')
        child.stdout.close()
        assert child.wait(timeout=TIMEOUT) == 0
        feeder.join(timeout=TIMEOUT)
        assert child.stderr is not None
        assert child.stderr.read() == b""


def _feed_until_closed(pipe: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError):
        pipe.write(data)
        pipe.close()


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


# Streams built with the parsers' own encoders: a good record, a corrupt one, a good one.

WHEN = datetime(2026, 5, 10, 9, 31, 7, 120_000)


def _corrupt(line: bytes) -> bytes:
    """`line` with one character of its record changed (so a checksum or a field breaks)."""
    index = len(line.rstrip(b"\r\n")) // 2
    replacement = b"0" if line[index:index + 1] != b"0" else b"1"
    return line[:index] + replacement + line[index + 1:]


@dataclass(frozen=True)
class Encoded:
    format: str
    stream: Callable[[], bytes]
    expected: tuple[JSONObject, ...]
    rejected_line: int


ENCODED = (
    Encoded(
        "ipico",
        lambda: (encode_ipico("0580001286a8", WHEN, reader_id="0a")
                 + _corrupt(encode_ipico("0580001286a9", WHEN))
                 + encode_ipico("0580001286aa", WHEN.replace(microsecond=999_999))),
        ({"chip": "0580001286a8", "time": "2026-05-10T09:31:07.120", "reader": "0a",
          "line": 1},
         # Hundredths are truncated: .999999 s is sent as 0x63 = 99.
         {"chip": "0580001286aa", "time": "2026-05-10T09:31:07.990", "reader": "00",
          "line": 3}),
        rejected_line=2,
    ),
    Encoded(
        "ultra",
        lambda: (encode_ultra("11055", WHEN, antenna=3, rssi=-64, reader_no=2, log_id=77)
                 + b"0,11056,not-a-time,0,1,-60,0,1,1,0000000000000000,0,78\n"
                 + encode_ultra("11057", WHEN, antenna=4, log_id=79, rewind=True)),
        ({"chip": "11055", "time": "2026-05-10T09:31:07.120", "reader": "2", "antenna": 3,
          "rssi": -64.0, "sequence": 77, "line": 1},
         {"chip": "11057", "time": "2026-05-10T09:31:07.120", "reader": "1", "antenna": 4,
          "rssi": -60.0, "sequence": 79, "line": 3}),
        rejected_line=2,
    ),
    Encoded(
        "raceresult",
        lambda: (encode_raceresult(5, "1044", WHEN, box_name="Finish", antenna=2, rssi=-59)
                 + b"6;1045;2026-05-10;9:31;0;12;-68;000006\r\n"
                 + encode_raceresult(7, "1046", WHEN, dated=False, day_offset=1, pushed=True)
                 + encode_raceresult(8, "1047", WHEN, twenty_fields=False)),
        ({"chip": "1044", "time": "2026-05-10T09:31:07.120", "reader": "Finish", "antenna": 2,
          "rssi": -59.0, "sequence": 5, "line": 1},
         {"chip": "1046", "time": "09:31:07.120", "day": 1, "reader": "A-1234", "antenna": 1,
          "rssi": -68.0, "sequence": 7, "line": 3},
         {"chip": "1047", "time": "2026-05-10T09:31:07.120", "rssi": -68.0, "sequence": 8,
          "line": 4}),
        rejected_line=2,
    ),
    Encoded(
        "p3",
        lambda: (encode_p3_passing(1001, 4021337, WHEN.replace(tzinfo=UTC), strength=131)
                 + _corrupt_frame(encode_p3_passing(1002, 4021338, WHEN.replace(tzinfo=UTC)))
                 + encode_p3_passing(1003, 4021339, WHEN.replace(hour=23, tzinfo=UTC),
                                     decoder_id=0x04181300)),
        ({"chip": "4021337", "time": "2026-05-10T09:31:07.120+00:00", "reader": "3B2A0100",
          "rssi": 131.0, "sequence": 1001, "line": 1},
         {"chip": "4021339", "time": "2026-05-10T23:31:07.120+00:00", "reader": "00131804",
          "rssi": 100.0, "sequence": 1003, "line": 3}),
        rejected_line=2,
    ),
    Encoded(
        "manual",
        lambda: (encode_manual_header()
                 + encode_manual("101", time_of_day(9, 15, 2, 250_000))
                 + encode_manual("102", "9:61:00")
                 + encode_manual("103", WHEN)),
        ({"chip": None, "time": "09:15:02.250", "day": 0, "bib": "101", "line": 2},
         {"chip": None, "time": "2026-05-10T09:31:07.120", "bib": "103", "line": 4}),
        rejected_line=3,
    ),
)


def _corrupt_frame(frame: bytes) -> bytes:
    """A P3 frame with its last TLV byte before the end byte changed (its CRC no longer fits)."""
    return frame[:-2] + bytes([frame[-2] ^ 0x01]) + frame[-1:]


@pytest.mark.parametrize("encoded", ENCODED, ids=lambda encoded: encoded.format)
def test_encoded_reads_round_trip_around_a_corrupt_record(encoded: Encoded) -> None:
    run = gambero_parse("-f", encoded.format, stdin=encoded.stream())
    assert run.returncode == 0, run.stderr
    assert run.lines == [json_line(expected) for expected in encoded.expected]
    (message,) = run.messages
    assert message.startswith(f"<stdin>:{encoded.rejected_line}: rejected: ")
    assert run.count_line == f"{len(encoded.expected)} reads, 1 rejected record"


# Command line errors.


def test_an_unknown_format_is_refused_by_argparse() -> None:
    run = gambero_parse("--format", "mylaps", str(FIXTURES / "ipico-mixed.txt"))
    assert run.returncode == 2
    assert run.stdout == ""
    assert "invalid choice: 'mylaps'" in run.stderr
    assert run.stderr.startswith("usage: gambero parse")


def test_the_format_is_required() -> None:
    run = gambero_parse(str(FIXTURES / "ipico-mixed.txt"))
    assert run.returncode == 2
    assert run.stdout == ""
    assert "the following arguments are required: --format/-f" in run.stderr


def test_a_missing_file_gives_exit_status_2_and_a_clear_message() -> None:
    missing = str(FIXTURES / "no-such-capture.txt")
    run = gambero_parse("--format", "ipico", missing)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == f"gambero parse: cannot read {missing}: No such file or directory\n"


def test_empty_stdin_gives_no_reads() -> None:
    run = gambero_parse("--format", "raceresult", stdin=b"")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "0 reads, 0 rejected records\n")


# The real captures in ../shared (absent from a user's clone).


def test_ipico_capture_gives_one_json_line_per_line() -> None:
    path = capture_path("ipico-lite-testreads.txt")
    run = gambero_parse("--format", "ipico", str(path))
    assert run.returncode == 0
    assert run.stderr == "4116 reads, 0 rejected records\n"
    reads = run.reads
    assert len(reads) == 4116
    assert [read["line"] for read in reads] == list(range(1, 4117))
    # Hundredths `32` are hex: .50 s, not .32 s.
    assert run.lines[0] == json_line(
        {"chip": "058000123b32", "time": "2026-03-07T13:48:50.500", "reader": "00", "line": 1})


def test_p3_capture_gives_its_84_passings_from_binary_stdin() -> None:
    path = capture_path("mylaps-p3-amb.hex")
    run = gambero_parse("--format", "p3", stdin=hex_to_binary(path.read_text()))
    assert run.returncode == 0
    assert run.stderr == "84 reads, 0 rejected records\n"
    reads = run.reads
    assert len(reads) == 84
    assert [read["sequence"] for read in reads] == list(range(157777, 157861))
    assert {read["chip"] for read in reads} == {"3292480", "3438895", "5691251"}
    assert run.lines[0] == json_line(
        {"chip": "5691251", "time": "2019-03-02T16:06:48.933+00:00", "reader": "13180400",
         "rssi": 178.0, "sequence": 157777, "line": 188})


# Live use: reads come out as they come in, not when the input ends.


def test_a_slow_pipe_is_decoded_as_it_arrives() -> None:
    first = encode_ipico("000000012345", WHEN)
    second = encode_ipico("000000012346", WHEN.replace(second=9))
    with subprocess.Popen(
            [sys.executable, "-m", "gambero", "parse", "--format", "ipico"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
            env=CHILD_ENV, bufsize=0) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(first + second[:10])  # the first read, and a part of the next
            time.sleep(0.2)
            printed = _read_first_line(process.stdout.fileno(), deadline=time.monotonic() + 5)
            assert process.poll() is None  # still waiting for more input
            assert printed == json_line(
                {"chip": "000000012345", "time": "2026-05-10T09:31:07.120", "reader": "00",
                 "line": 1}).encode() + b"\n"
            rest, errors = process.communicate(second[10:], timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0
    assert rest == json_line(
        {"chip": "000000012346", "time": "2026-05-10T09:31:09.120", "reader": "00",
         "line": 2}).encode() + b"\n"
    assert errors == b"2 reads, 0 rejected records\n"


def _read_first_line(fd: int, deadline: float) -> bytes:
    """Bytes from `fd` up to and including the first newline; fails at `deadline`."""
    received = b""
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            pytest.fail(f"no read printed while the input stayed open (got {received!r})")
        chunk = os.read(fd, 65536)
        if not chunk:
            pytest.fail(f"output ended before a read was printed (got {received!r})")
        received += chunk
    return received
