"""Bounded fuzzing of what comes in from outside (issue 12: no reader, file or request can wedge
or brick an event): every reader format, event.toml, participants.csv and adjustments.csv.

Runs in CI: derandomized (the same examples every run) and without an example database, with
few enough examples that the file takes seconds. Each test asserts what must hold for any
input, so each could fail: no exception escapes; a stream gives the same records whole or in
chunks; every valid reader record put among garbage comes out as a `Read`; whatever the event
files say, what they let through is within the limits of docs/scoring.md ("Limits").
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readers.protocols import FORMATS, make_parser
from readers.protocols.ipico import encode_ipico
from readers.protocols.manual import encode_manual, encode_manual_header
from readers.protocols.p3 import encode_p3_passing
from readers.protocols.raceresult import encode_raceresult
from readers.protocols.ultra import encode_ultra
from timing import limits
from timing import participants as csv_files
from timing.eventfile import EventFileError, parse_event_toml
from timing.limits import TimeWindow
from timing.model import ADJUSTABLE_STATUSES, GENDERS, Athlete, Event, Problem
from timing.participants import CsvHeaderError, parse_adjustments, parse_participants
from timing.reads import Read, Record, Rejected
from timing.results import results_csv
from timing.standings import Standings
from timing.text import control_character, isolate_bidi

from .readers.test_llrp import message, report, tag_report

EXPLORE = int(os.environ.get("GAMBERO_FUZZ_EXAMPLES", "0"))
"""Set GAMBERO_FUZZ_EXAMPLES=5000 to search deeper, with fresh random examples each run."""
FUZZ = settings(max_examples=EXPLORE or 150, deadline=timedelta(seconds=5),
                derandomize=not EXPLORE, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
"""The deadline is generous on purpose: it is there to catch a quadratic path (seconds for
one example), not to time a slow CI machine."""
MESSAGE_MAX = 600
"""No problem's message quotes a hostile value whole."""


# -- reader formats -----------------------------------------------------------------------

HEX = "0123456789abcdef"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LOCAL_TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))


def ipico_record() -> st.SearchStrategy[bytes]:
    return st.builds(encode_ipico, st.text(HEX, min_size=12, max_size=12), LOCAL_TIMES,
                     reader_id=st.text(HEX, min_size=2, max_size=2))


def ultra_record() -> st.SearchStrategy[bytes]:
    # `0,Connected,…` is the reader's connect message whatever follows, never a read.
    chips = st.text(ALNUM, min_size=1, max_size=24).filter(lambda chip: chip != "Connected")
    return st.builds(encode_ultra, chips, LOCAL_TIMES,
                     antenna=st.integers(0, 8), rssi=st.integers(-99, 0),
                     reader_no=st.integers(0, 9), log_id=st.integers(0, 10**9),
                     rewind=st.booleans())


def raceresult_record() -> st.SearchStrategy[bytes]:
    return st.builds(encode_raceresult, st.integers(0, 10**9), st.text(ALNUM, min_size=1,
                                                                      max_size=16),
                     LOCAL_TIMES, dated=st.booleans(), day_offset=st.integers(0, 99),
                     twenty_fields=st.booleans(), pushed=st.booleans(),
                     box_name=st.text(ALNUM, min_size=1, max_size=8),
                     antenna=st.integers(0, 8), event_id=st.integers(0, 9))


def p3_record() -> st.SearchStrategy[bytes]:
    instants = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31),
                            timezones=st.just(UTC))
    return st.builds(encode_p3_passing, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
                     instants, strength=st.integers(0, 2**16 - 1),
                     hits=st.integers(0, 2**16 - 1), decoder_id=st.integers(0, 2**32 - 1))


def manual_record() -> st.SearchStrategy[bytes]:
    moments = st.one_of(st.times(), LOCAL_TIMES)
    return st.builds(encode_manual, st.text(ALNUM, min_size=1, max_size=8), moments)


FIRST_SEEN_US = st.integers(0, 4_102_444_800_000_000)  # 1970 to 2100


def llrp_record() -> st.SearchStrategy[bytes]:
    tags = st.builds(tag_report, st.text(HEX, min_size=24, max_size=24), st.integers(0, 2**16 - 1),
                     st.integers(-128, 127), FIRST_SEEN_US)
    return st.builds(lambda tag, number: report(tag, message_id=number), tags,
                     st.integers(0, 2**32 - 1))


RECORDS: dict[str, Callable[[], st.SearchStrategy[bytes]]] = {
    "ipico": ipico_record, "ultra": ultra_record, "raceresult": raceresult_record,
    "p3": p3_record, "manual": manual_record, "llrp": llrp_record,
}
HEADERS = {"manual": encode_manual_header()}
LINE_FORMATS = {"ipico", "ultra", "raceresult", "manual"}


def test_every_format_has_a_record_strategy() -> None:
    assert set(RECORDS) == set(FORMATS)


def whole(name: str, data: bytes) -> list[Record]:
    parser = make_parser(name)
    return parser.feed(data) + parser.close()


def chunked(name: str, data: bytes, cuts: Sequence[int]) -> list[Record]:
    parser = make_parser(name)
    bounds = [0, *sorted(cuts), len(data)]
    records: list[Record] = []
    for start, end in itertools.pairwise(bounds):
        records += parser.feed(data[start:end])
    return records + parser.close()


def identity(read: Read) -> tuple[Any, ...]:
    """A read without where it stood in its stream."""
    return (read.chip, read.bib, read.time, read.dated, read.reader, read.antenna, read.rssi,
            read.sequence)


def cuts_of(data: bytes) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, len(data)), max_size=12)


GARBAGE = st.one_of(st.binary(max_size=80), st.binary(min_size=4090, max_size=4200),
                    st.sampled_from([b"\r", b"\r\n", b"\x03\x05abc", b"\x8e\x02", b"\x8d",
                                     b"#P;1;2", b"0,1,2", b"aa" + b"0" * 34, b"bib,time",
                                     b"\xff\xfe", b"\x00" * 9]))


SIGNIFICANT = st.lists(st.sampled_from([
    b"\r", b"\n", b"\r\n", b"\x03", b"\x05", b"\xff", b"\x8e", b"\x8f", b"\x8d", b"\x00",
    b",", b";", b"0", b"1", b"a", b"aa", b"#P;", b"bib,time\n", b"0,", b"\xc3", b"\xa9",
    b"\x00\x00\x00\x0a", b"\x04\x3d"]), max_size=200).map(b"".join)
"""Bytes that mean something to some parser (line ends, Ultra's status frame byte, P3's frame
bytes, separators, half a UTF-8 letter), packed close so that they meet."""


@FUZZ
@given(st.sampled_from(sorted(FORMATS)), st.one_of(st.binary(max_size=600), SIGNIFICANT),
       st.data())
def test_arbitrary_bytes_never_raise_and_chunks_change_nothing(
        name: str, data: bytes, draw: st.DataObject) -> None:
    records = whole(name, data)
    assert all(isinstance(record, Read | Rejected) for record in records)
    if name == "llrp":
        # LLRP has no start marker: a stream with an impossible length is dropped from there
        # on (the session reconnects), and where it is dropped depends on the chunks.
        chunked(name, data, draw.draw(cuts_of(data)))
        return
    assert chunked(name, data, draw.draw(cuts_of(data))) == records


@st.composite
def mixed_stream(draw: st.DrawFn, name: str) -> tuple[bytes, list[bytes]]:
    """Valid records of format `name` with garbage between them (for the line formats, whole
    garbage lines: a record needs its own line), and the valid records."""
    valid = draw(st.lists(RECORDS[name](), min_size=1, max_size=8))
    pieces = [HEADERS.get(name, b"")]
    for record in valid:
        if name != "llrp":
            garbage = draw(GARBAGE)
            if name == "ultra":
                # A 0x03 first on a line opens a binary status frame whose length byte is
                # trusted: it may swallow the records after it (as on the wire).
                garbage = garbage.replace(b"\x03", b"")
            if name in LINE_FORMATS:
                garbage += b"\n"
            pieces.append(garbage)
        else:
            pieces.append(draw(st.sampled_from([b"", message(62, b"", 8), message(63, b"", 1)])))
        pieces.append(record)
    return b"".join(pieces), valid


def alone(name: str, record: bytes) -> Read:
    """The one read a valid record gives by itself (the encoders are tested elsewhere)."""
    records = whole(name, HEADERS.get(name, b"") + record)
    assert len(records) == 1 and isinstance(records[0], Read), records
    return records[0]


def is_subsequence(wanted: list[Any], given_: list[Any]) -> bool:
    remaining = iter(given_)
    return all(any(item == other for other in remaining) for item in wanted)


@FUZZ
@given(st.sampled_from(sorted(FORMATS)).flatmap(
    lambda name: st.tuples(st.just(name), mixed_stream(name))), st.data())
def test_valid_records_among_garbage_all_come_out(
        case: tuple[str, tuple[bytes, list[bytes]]], draw: st.DataObject) -> None:
    name, (data, valid) = case
    records = whole(name, data)
    assert chunked(name, data, draw.draw(cuts_of(data))) == records
    expected = [identity(alone(name, record)) for record in valid]
    out = [identity(record) for record in records if isinstance(record, Read)]
    assert is_subsequence(expected, out), (expected, out)


def test_an_llrp_time_past_year_9999_is_rejected_not_raised() -> None:
    """Found by fuzzing: it raised OverflowError out of `LlrpParser.feed`."""
    records = make_parser("llrp").feed(report(tag_report("00" * 12, 1, -50, 2**64 - 1)))
    assert [type(record).__name__ for record in records] == ["Rejected"]


# -- event.toml ---------------------------------------------------------------------------

BASE: list[tuple[str, dict[str, Any]]] = [
    ("[event]", {"name": "Fuzz Mile", "date": "2026-05-10", "timezone": "Europe/Rome"}),
    ("[categories]", {"age_bounds": [0, 20, 40]}),
    ("[[races]]", {"id": "mile", "name": "Mile", "distance_m": 1609.344, "gun": "09:00:00",
                   "laps": 1, "rank_by": "gun", "min_lap_s": 30, "precision": "s",
                   "record": "6:05"}),
    ("[[races.waves]]", {"id": "elite", "gun": "2026-05-10T08:55:00"}),
    ("[[races]]", {"id": "kids", "gun": datetime(2026, 5, 10, 10), "points": ["finish"]}),
    ("[[points]]", {"id": "start", "kind": "start"}),
    ("[[points]]", {"id": "finish", "kind": "finish", "distance_m": 1609.344}),
    ("[[readers]]", {"id": "main", "point": "finish", "format": "ipico",
                     "path": "reads/main.txt", "clock_offset_s": -1.2}),
    ("[[readers]]", {"id": "box", "point": "start", "format": "ultra", "host": "10.0.0.2",
                     "baud": 9600}),
]
KEYS = sorted({key for _, table in BASE for key in table} | {"window_days", "port"})


def toml_value(value: Any) -> str:
    """`value` written as TOML (strings as basic strings, escaping what TOML requires)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        escaped = "".join(f"\\u{ord(char):04x}" if ord(char) < 0x20 or ord(char) == 0x7F
                          else "\\\\" if char == "\\" else '\\"' if char == '"' else char
                          for char in value)
        return f'"{escaped}"'
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) \
            + "}"
    raise TypeError(value)


HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(["", " ", "\u202e", "a\u0000b", "\u2067x", "x" * 300, "y" * 3000,
                     "Europe/Rome", "../../etc/passwd", "9am", "24:00:00", "2026-05-10",
                     "2026-02-30", "9999-12-31T23:59:59", "0001-01-01T00:00:00", "0:00",
                     "99999999:00:00", "finish", "start", "chip", "0.1"]))
HOSTILE_NUMBER = st.one_of(
    st.integers(-10**40, 10**40), st.sampled_from([0, -1, 1, 2**31, 2**63, 10**300, -10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e16, -1e16, 86400.0, 86400.001, 1e308, 5e-324, -0.0]))
HOSTILE_TIME = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.sampled_from([UTC, *(timezone(timedelta(minutes=minutes))
                                                   for minutes in (-1439, -60, 90, 1439))])),
    st.dates(), st.times())


def nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Arrays and inline tables of hostile values (where a number or a string belongs)."""
    return st.one_of(st.lists(inner, max_size=4),
                     st.dictionaries(st.sampled_from(KEYS), inner, max_size=3))


HOSTILE = st.recursive(st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER, HOSTILE_TIME, st.booleans()),
                       nested, max_leaves=6)


@st.composite
def hostile_event(draw: st.DrawFn) -> str:
    """BASE with a few keys given hostile values (some of which are in range), added, or
    dropped: few enough that most mistakes come alone and many events still load."""
    tables = [dict(table) for _, table in BASE]
    for _ in range(draw(st.integers(0, 3))):
        entries = tables[draw(st.integers(0, len(BASE) - 1))]
        key = draw(st.sampled_from(KEYS))
        if draw(st.integers(0, 7)) == 0:
            entries.pop(key, None)
        else:
            entries[key] = draw(HOSTILE)
    text = toml_text([(header, entries) for (header, _), entries in zip(BASE, tables,
                                                                          strict=True)])
    if draw(st.integers(0, 19)) == 0:  # a whole section replaced by a value (if it parses)
        text = (f"{draw(st.sampled_from(['races', 'points', 'readers', 'event']))} = "
                f"{toml_value(draw(HOSTILE))}\n{text}")
    return text


def toml_text(tables: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(f"{header}\n" + "".join(f"{key} = {toml_value(value)}\n"
                                           for key, value in table.items())
                   for header, table in tables)


def assert_printable(text: str, max_length: int, *, free: bool) -> None:
    assert 0 < len(text) <= max_length, text
    assert control_character(text, free=free) is None, text
    assert isolate_bidi(text) == text, text


def assert_event_within_limits(event: Event) -> None:
    assert_printable(event.name, limits.NAME_MAX, free=True)
    assert 0 <= event.window_days <= limits.WINDOW_DAYS_MAX
    window = TimeWindow.around(event.date, event.timezone, event.window_days)
    assert all(0 <= bound <= limits.AGE_MAX for bound in event.age_bounds)
    for point in event.points:
        assert_printable(point.id, limits.ID_MAX, free=False)
        assert point.distance_m is None or 0 <= point.distance_m <= limits.DISTANCE_MAX_M
    for race in event.races:
        assert_printable(race.id, limits.ID_MAX, free=False)
        assert_printable(race.name, limits.NAME_MAX, free=True)
        assert 1 <= race.laps <= limits.LAPS_MAX and 0 <= race.min_lap_ms <= limits.DAY_MS
        assert race.distance_m is None or 0 <= race.distance_m <= limits.DISTANCE_MAX_M
        assert race.record_ms is None or 0 < race.record_ms < limits.DAY_MS
        for gun in (race.gun_ms, *(wave.gun_ms for wave in race.waves)):
            assert gun is None or window.contains_ms(gun), (gun, str(window))
        for wave in race.waves:
            assert_printable(wave.id, limits.ID_MAX, free=False)
    for reader in event.readers:
        assert_printable(reader.id, limits.ID_MAX, free=False)
        assert abs(reader.clock_offset_ms) <= limits.CLOCK_OFFSET_MAX_MS
        assert reader.baud is None or 1 <= reader.baud <= limits.BAUD_MAX
        for where in (reader.path, reader.port, reader.host):
            assert where is None or (len(where) <= 1000 and control_character(
                where, free=False) is None)


def test_the_fuzzed_base_event_is_valid() -> None:
    assert_event_within_limits(parse_event_toml(toml_text(BASE)))


@FUZZ
@given(hostile_event())
def test_a_hostile_event_toml_is_an_event_within_limits_or_located_problems(text: str) -> None:
    try:
        event = parse_event_toml(text, "event.toml")
    except EventFileError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == "event.toml"
            assert len(problem.message) <= MESSAGE_MAX, problem.message
        return
    assert_event_within_limits(event)
    # And the core takes it: standings and a results file of nobody.
    assert results_csv(event, Standings(event).results()).count("\n") == 1


# -- participants.csv and adjustments.csv ---------------------------------------------------

EVENT = parse_event_toml(toml_text(BASE))

CELL = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["", "mile", "kids", "elite", "F", "m", "X", "Q", "1990-05-10",
                     "1899-12-31", "2026-05-11", "2026-02-30", "AA01 aa01 BB02", "\u202e",
                     "\u202bשרה\u202c", "D’Angelo", "a\x00b", "\t", "\r\n", '"', "1" * 33,  # noqa: RUF001
                     "x" * 201, "y" * 1500, "c" * 65, "penalty", "status", "DQ", "dnf",
                     "86400", "86399.999", "1e400", "nan", "-0", "12345"]))
"""Any cell: hostile, or a value that belongs in some other column."""
NAMES = st.one_of(st.sampled_from(["Ada", "Ó Súilleabháin", "Schäfer", "محمد", "Zoë"]),
                  st.text(st.characters(codec="utf-8"),
                          max_size=40))
PLAUSIBLE: dict[str, st.SearchStrategy[str]] = {
    "bib": st.integers(1, 99999).map(str),
    "first_name": NAMES, "last_name": NAMES, "club": NAMES, "category": NAMES,
    "gender": st.sampled_from(["F", "M", "X", "f"]),
    "birth_date": st.dates(date(1890, 1, 1), date(2030, 1, 1)).map(str),
    "race": st.sampled_from(["mile", "kids"]),
    "wave": st.sampled_from(["", "elite"]),
    "chips": st.lists(st.text(HEX, min_size=2, max_size=6), max_size=2).map(" ".join),
    "kind": st.sampled_from(["status", "penalty"]),
    "value": st.one_of(st.sampled_from(["DQ", "DNF", "DNS"]),
                       st.floats(0, 100_000).map(str)),
    "reason": NAMES,
}
PARTICIPANT_HEADER = ["bib", "first_name", "last_name", "gender", "birth_date", "race", "wave",
                      "chips", "club", "category"]


ADJUSTED_BIBS = {"1", "7", "12345"}
"""Bibs that adjustments.csv names most often, and that the fuzzed event always has."""


@st.composite
def hostile_csv(draw: st.DrawFn, columns: list[str],
                bibs: st.SearchStrategy[str] = PLAUSIBLE["bib"]) -> str:
    """A CSV file of `columns` (in any order, maybe with extra ones): each cell most often
    plausible for its column, else hostile; a row now and then too long or too short; and
    now and then a quote, CR or NUL thrown in anywhere."""
    header = draw(st.permutations(columns))
    header += draw(st.lists(st.one_of(st.text(max_size=8), st.just("x" * 70)), max_size=3))
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(0, 10))):
        rows.append([draw(CELL if column not in PLAUSIBLE or draw(st.integers(0, 9)) == 0
                          else bibs if column == "bib" else PLAUSIBLE[column])
                     for column in header])
        if draw(st.integers(0, 9)) == 0:
            rows[-1] = rows[-1][:-1] if draw(st.booleans()) else [*rows[-1], draw(CELL)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.integers(0, 9)) == 0:  # not even well-formed CSV
        position = draw(st.integers(0, len(text)))
        text = text[:position] + draw(st.sampled_from(['"', "\r", "\x00", "\n\n", ",,,"])) \
            + text[position:]
    return text


def assert_located(problems: list[Problem], file_name: str) -> None:
    for problem in problems:
        assert problem.file == file_name
        assert problem.line is not None and problem.line >= 1
        assert len(problem.message) <= MESSAGE_MAX, problem.message


def assert_athletes_within_limits(athletes: list[Athlete], skipped: set[str]) -> None:
    assert len({athlete.bib for athlete in athletes}) == len(athletes)
    chips = [chip.lower() for athlete in athletes for chip in athlete.chips]
    assert len(set(chips)) == len(chips)
    for athlete in athletes:
        assert_printable(athlete.bib, limits.BIB_MAX, free=False)
        for name in (athlete.first_name, athlete.last_name, athlete.club, athlete.category):
            assert len(name) <= limits.NAME_MAX
            if name:
                assert_printable(name, limits.NAME_MAX, free=True)
        assert len(athlete.category) <= limits.CATEGORY_MAX
        assert athlete.gender in GENDERS
        race = EVENT.race(athlete.race)
        assert athlete.wave is None or race.wave(athlete.wave) is not None
        for chip in athlete.chips:
            assert_printable(chip, limits.CHIP_MAX, free=False)
        assert athlete.birth_date is None or date(1900, 1, 1) <= athlete.birth_date <= EVENT.date
        assert len(athlete.extra) <= csv_files.EXTRA_COLUMNS_MAX
        for key, value in athlete.extra:
            assert len(key) <= limits.ID_MAX and control_character(key, free=False) is None
            assert len(value) <= csv_files.EXTRA_VALUE_MAX and isolate_bidi(value) == value
            assert control_character(value, free=True) is None
    for bib in skipped:
        assert_printable(bib, limits.BIB_MAX, free=False)


@FUZZ
@given(hostile_csv(PARTICIPANT_HEADER),
       hostile_csv(["bib", "kind", "value", "reason"], st.sampled_from(sorted(ADJUSTED_BIBS))))
def test_hostile_participants_and_adjustments_stay_within_limits(
        participants: str, adjustments: str) -> None:
    skipped: set[str] = set()
    try:
        athletes, problems = parse_participants(participants, EVENT, "participants.csv",
                                                skipped)
    except CsvHeaderError as error:
        assert error.problem.file == "participants.csv"
        athletes, problems = [], []
    assert_located(problems, "participants.csv")
    assert_athletes_within_limits(athletes, skipped)
    bibs = {athlete.bib for athlete in athletes} | ADJUSTED_BIBS
    try:
        kept, problems = parse_adjustments(adjustments, bibs, "adjustments.csv")
    except CsvHeaderError as error:
        assert error.problem.file == "adjustments.csv"
        return
    assert_located(problems, "adjustments.csv")
    for adjustment in kept:
        assert adjustment.bib in bibs
        assert 0 <= adjustment.penalty_ms < limits.PENALTY_MAX_MS
        assert adjustment.status is None or adjustment.status in ADJUSTABLE_STATUSES
        assert len(adjustment.reason) <= limits.REASON_MAX
        if adjustment.reason:
            assert_printable(adjustment.reason, limits.REASON_MAX, free=True)
    # And the core takes them: standings and a results file with a row for each athlete.
    registered = {athlete.bib for athlete in athletes}
    theirs = [adjustment for adjustment in kept if adjustment.bib in registered]
    results = results_csv(EVENT, Standings(EVENT, athletes, theirs).results())
    assert len(list(csv.reader(io.StringIO(results)))) == len(athletes) + 1
