"""RACE RESULT decoder lines: a recorded-style session, chunking independence, round trips."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.protocols import make_parser
from readers.protocols.raceresult import RaceResultParser, encode_raceresult, parse_line
from timing.reads import Read, Record, Rejected, undated_time

from .streams import FIXTURES, bytewise, parse_chunks, split_at

SESSION = FIXTURES / "raceresult-session.txt"


def one(text: str) -> Record | None:
    return parse_line(7, text)


# The session fixture, line by line (CRLF; the last line has no line ending).
SESSION_RECORDS: list[Record] = [
    Read(chip="33", time=undated_time(0, timedelta(seconds=2, milliseconds=773)), dated=False,
         rssi=-68.0, sequence=1, line=7, raw="1;33;0000-00-00;00:00:02.773;6692;12;-68;09ca52"),
    Read(chip="LKJC771", time=undated_time(1, timedelta(hours=7, minutes=15, seconds=9.5)),
         dated=False, rssi=-61.0, sequence=2, line=8,
         raw="2;LKJC771;0000-00-01;07:15:09.5;0;27;-61;1a2b3c"),
    Read(chip="1044", time=datetime(2026, 5, 10, 9, 31, 7, 120000), reader="A-1234", antenna=2,
         rssi=-59.0, sequence=3, line=9,
         raw="3;1044;2026-05-10;09:31:07.120;0;31;-59;00f1c2;0;;;;;;;;A-1234;1;2;1"),
    Read(chip="1045", time=datetime(2026, 5, 10, 9, 31, 8), reader="A-1234", antenna=3,
         rssi=-72.0, sequence=4, line=10,
         raw="#P;4;1045;2026-05-10;09:31:08;0;18;-72;00f1c3;0;;;;;;;;A-1234;1;3;1"),
    Read(chip="1046", time=datetime(2026, 5, 10, 9, 31, 9, 4000), rssi=-70.0, sequence=5,
         line=13, raw="5;1046;2026-05-10;09:31:09.004;0;22;-70;0f0f0f"),
    Rejected(raw="6;1047;2026-05-10;09:31:1x.000;0;22;-70;0f0f10",
             reason="bad passing time '09:31:1x.000' (expected hh:mm:ss.kkk)", line=14),
    Rejected(raw="7;1048;2026-13-10;09:31:10.000;0;19;-71;00f1c4;0;;;;;;;;A-1234;1;1;1",
             reason="bad passing date '2026-13-10' (expected yyyy-MM-dd or 0000-00-0N)",
             line=15),
    Rejected(raw="8;1049;2026-05-10;09:31:11.000;0;12;-74;00f1c5;0;;;",
             reason="passing has 12 fields; expected 20 (protocol 1.6 and later) "
                    "or 6 to 9, 15 or 16 (older protocols)", line=16),
    Rejected(raw="#P;x9;1050;2026-05-10;09:31:12.000;0;15;-69;00f1c6;0;;;;;;;;A-1234;1;2;1",
             reason="passing number 'x9' is not a number", line=17),
    Rejected(raw="hello decoder", reason="not a RACE RESULT record", line=18),
    # An active transponder: MaxRSSI is a coded hex byte, and MaxRSSIAntenna is empty.
    Read(chip="1052", time=undated_time(0, timedelta(hours=23, minutes=59, seconds=59.999)),
         dated=False, reader="A-1234", sequence=9, line=20,
         raw="9;1052;0000-00-00;23:59:59.999;0;40;5A;00f1c7;1;3;2;0;10234;3.1;21;0;A-1234;1;;1"),
    Rejected(raw="10;;2026-05-10;09:39:00.000;0;9;-75;ab12cc",
             reason="passing has an empty transponder code", line=22),
    # The box name is ISO-8859-1 on the wire; the antenna field is not a number.
    Read(chip="1053", time=datetime(2026, 5, 10, 9, 40), reader="Ziel Süd", rssi=-75.0,
         sequence=11, line=23,
         raw="11;1053;2026-05-10;09:40:00.000;0;9;-75;ab12cd;0;;;;;;;;Ziel Süd;1;x;1"),
    Read(chip="1054", time=datetime(2026, 5, 10, 9, 41, 0, 250000), rssi=-66.0, sequence=12,
         line=24, raw="12;1054;2026-05-10;09:41:00.25;0;14;-66;010203"),
]


def test_session_fixture_gives_exact_records() -> None:
    assert parse_chunks(RaceResultParser(), [SESSION.read_bytes()]) == SESSION_RECORDS


def test_last_line_without_line_ending_comes_from_close() -> None:
    parser = RaceResultParser()
    fed = parser.feed(SESSION.read_bytes())
    assert fed == SESSION_RECORDS[:-1]
    assert parser.close() == SESSION_RECORDS[-1:]
    assert parser.close() == []


def test_one_byte_at_a_time_matches_whole_stream() -> None:
    data = SESSION.read_bytes()
    assert parse_chunks(RaceResultParser(), bytewise(data)) == SESSION_RECORDS


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, SESSION.stat().st_size), max_size=40))
def test_any_chunking_matches_whole_stream(cuts: list[int]) -> None:
    assert parse_chunks(RaceResultParser(), split_at(SESSION.read_bytes(), cuts)) == SESSION_RECORDS


def test_registry_builds_this_parser() -> None:
    assert isinstance(make_parser("raceresult"), RaceResultParser)


@pytest.mark.parametrize("line", [
    "SETPROTOCOL;2.0", "GETPROTOCOL;1.0;2.0;3.2", "STARTOPERATION;OK;0000-00-00;00:00:00.000",
    "STOPOPERATION;OK", "GETTIME;2026-05-10;09:00:00.000", "SETTIME;2026-05-10;09:00:00.000",
    "PASSINGS;17", "PASSINGS;17;3", "17", "ONLY 5", "SETPUSHPASSINGS;1;0", "SETPUSHPREWARNS;0",
    "GETSTATUS;2026-05-10;09:00:00.000;1;0;1", "GETCONFIG;GENERAL;BOXNAME;A-1234;D-5000",
    "CLEARFILES;OK", "#PREWARN;1;2;3", "#", "   ",
])
def test_decoder_replies_are_skipped(line: str) -> None:
    assert one(line) is None


@pytest.mark.parametrize(("line", "reason"), [
    ("setprotocol;2.0", "not a RACE RESULT record"),
    ("Passing 12 at 09:00", "not a RACE RESULT record"),
    ("#P;", "passing has 1 fields; expected 20 (protocol 1.6 and later) "
            "or 6 to 9, 15 or 16 (older protocols)"),
    ("5;1;2026-05-10;09:00:00.000;0", "passing has 5 fields; expected 20 (protocol 1.6 and "
                                      "later) or 6 to 9, 15 or 16 (older protocols)"),
    ("5;1;2026-05-10;24:00:00.000;0;3;-60;aa", "bad passing time '24:00:00.000' "
                                               "(expected hh:mm:ss.kkk)"),
    ("5;1;2026-05-10;09:60:00.000;0;3;-60;aa", "bad passing time '09:60:00.000' "
                                               "(expected hh:mm:ss.kkk)"),
    ("5;1;2026-05-10;09:00:00.1234567;0;3;-60;aa", "bad passing time '09:00:00.1234567' "
                                                   "(expected hh:mm:ss.kkk)"),
    ("5;1;2026-02-30;09:00:00.000;0;3;-60;aa", "bad passing date '2026-02-30' "
                                               "(expected yyyy-MM-dd or 0000-00-0N)"),
    ("5;1;0000-01-00;09:00:00.000;0;3;-60;aa", "bad passing date '0000-01-00' "
                                               "(expected yyyy-MM-dd or 0000-00-0N)"),
    ("5;1;10.5.2026;09:00:00.000;0;3;-60;aa", "bad passing date '10.5.2026' "
                                              "(expected yyyy-MM-dd or 0000-00-0N)"),
    ("#P;-5;1;2026-05-10;09:00:00.000;0;3;-60;aa", "passing number '-5' is not a number"),
])
def test_corrupt_lines_are_rejected_with_a_reason(line: str, reason: str) -> None:
    assert one(line) == Rejected(raw=line, reason=reason, line=7)


@pytest.mark.parametrize(("clock", "expected"), [
    ("09:00:00", timedelta(hours=9)),
    ("09:00:00.5", timedelta(hours=9, milliseconds=500)),
    ("09:00:00.05", timedelta(hours=9, milliseconds=50)),
    ("09:00:00.123456", timedelta(hours=9, microseconds=123456)),
    ("23:59:59.999", timedelta(hours=23, minutes=59, seconds=59, milliseconds=999)),
])
def test_time_fraction_digits(clock: str, expected: timedelta) -> None:
    record = one(f"1;1;0000-00-00;{clock};0;3;-60;aa")
    assert isinstance(record, Read)
    assert record.time == undated_time(0, expected)


def test_day_count_beyond_nine_days() -> None:
    record = one("1;7;0000-00-12;01:02:03.004;0;3;-60;aa")
    assert isinstance(record, Read)
    assert (record.dated, record.day_offset) == (False, 12)
    assert record.time == undated_time(12, timedelta(hours=1, minutes=2, seconds=3.004))


def test_older_layouts_read_their_common_fields() -> None:
    protocol_1_0 = one("4;9;2026-05-10;09:00:00.000;0;3")
    assert protocol_1_0 == Read(chip="9", time=datetime(2026, 5, 10, 9), sequence=4, line=7,
                                raw="4;9;2026-05-10;09:00:00.000;0;3")
    protocol_1_4 = "4;9;2026-05-10;09:00:00.000;0;3;-61;aa;1;2;3;0;10001;3.0;20;0"
    assert one(protocol_1_4) == Read(chip="9", time=datetime(2026, 5, 10, 9), rssi=-61.0,
                                     sequence=4, line=7, raw=protocol_1_4)


def test_active_transponder_rssi_is_not_taken_as_dbm() -> None:
    # MaxRSSI of an active passing is a coded byte in hex: "42" is not 42 dBm.
    active = one("9;1052;2026-05-10;09:00:00.000;0;40;42;aa;1;3;2;0;10234;3.1;21;0;B;1;4;1")
    passive = one("9;1052;2026-05-10;09:00:00.000;0;40;42;aa;0;;;;;;;;B;1;4;1")
    assert isinstance(active, Read)
    assert isinstance(passive, Read)
    assert (active.rssi, active.antenna, passive.rssi, passive.antenna) == (None, 4, 42.0, 4)


def test_non_numeric_rssi_keeps_the_passing() -> None:
    record = one("4;9;2026-05-10;09:00:00.000;0;3;n/a;aa")
    assert isinstance(record, Read)
    assert (record.chip, record.rssi) == ("9", None)


def test_binary_noise_and_overlong_lines_are_rejected() -> None:
    parser = RaceResultParser()
    records = parser.feed(b"\x00\xff\xfe\x01\r\n" + b"9" * 5000 + b"\r\n")
    assert [(type(r), r.line) for r in records] == [(Rejected, 1), (Rejected, 2)]
    assert isinstance(records[0], Rejected)
    assert records[0].reason == "line is not valid text (binary noise?)"
    assert isinstance(records[1], Rejected)
    assert records[1].reason == "line longer than 4096 bytes"


def test_encoder_writes_the_documented_layouts() -> None:
    when = datetime(2026, 5, 10, 9, 0, 0, 123999)
    assert encode_raceresult(1, "33", when, twenty_fields=False) == (
        b"1;33;2026-05-10;09:00:00.123;0;12;-68;000001\r\n")
    assert encode_raceresult(2, "33", when, dated=False, day_offset=1, pushed=True) == (
        b"#P;2;33;0000-00-01;09:00:00.123;0;12;-68;000002;0;;;;;;;;A-1234;1;1;1\r\n")


@pytest.mark.parametrize("kwargs", [
    {"chip": "1;2"}, {"chip": ""}, {"box_name": "A\r\n"}, {"day_offset": 100},
    {"time": datetime(2026, 5, 10, 9, tzinfo=UTC)},
])
def test_encoder_refuses_what_the_wire_cannot_carry(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"passing_no": 1, "chip": "33",
                                    "time": datetime(2026, 5, 10, 9), **kwargs}
    with pytest.raises(ValueError):
        encode_raceresult(**arguments)  # type: ignore[arg-type]


CHIPS = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=12)
NAMES = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=16)
MILLISECOND_TIMES = st.datetimes(min_value=datetime(2000, 1, 1),
                                 max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))


@settings(max_examples=300)
@given(passing_no=st.integers(0, 10**9), chip=CHIPS, when=MILLISECOND_TIMES,
       dated=st.booleans(), day_offset=st.integers(0, 99), twenty_fields=st.booleans(),
       pushed=st.booleans(), rssi=st.integers(-120, 0), antenna=st.integers(0, 8),
       box_name=NAMES)
def test_encode_parse_round_trip(passing_no: int, chip: str, when: datetime, dated: bool,
                                 day_offset: int, twenty_fields: bool, pushed: bool, rssi: int,
                                 antenna: int, box_name: str) -> None:
    line = encode_raceresult(passing_no, chip, when, dated=dated, day_offset=day_offset,
                             rssi=rssi, twenty_fields=twenty_fields, pushed=pushed,
                             box_name=box_name, antenna=antenna)
    midnight = when.replace(hour=0, minute=0, second=0, microsecond=0)
    expected = Read(
        chip=chip,
        time=when if dated else undated_time(day_offset, when - midnight),
        dated=dated,
        reader=box_name if twenty_fields else None,
        antenna=antenna if twenty_fields else None,
        rssi=float(rssi),
        sequence=passing_no,
        line=1,
        raw=line.decode("ascii").removesuffix("\r\n"),
    )
    assert parse_chunks(RaceResultParser(), [line]) == [expected]
