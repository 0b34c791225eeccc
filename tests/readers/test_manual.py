"""Manual entry CSV parser: header handling, row checks, chunking and encoder round trips."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.protocols import make_parser
from readers.protocols.manual import (
    ManualParser,
    encode_manual,
    encode_manual_header,
    parse_time,
)
from timing.reads import Read, Rejected, undated_time

from .streams import FIXTURES, parse_chunks, parse_whole, split_at

ENTRIES = (FIXTURES / "manual-entries.csv").read_bytes()
NO_HEADER = "no valid header (need bib,time)"
ARABIC_NOON = "\u0661\u0662:\u0660\u0660:\u0660\u0660"


def undated(hours: int, minutes: int, seconds: int, milliseconds: int = 0) -> datetime:
    return undated_time(0, timedelta(hours=hours, minutes=minutes, seconds=seconds,
                                     milliseconds=milliseconds))


def test_registry_builds_a_manual_parser() -> None:
    assert isinstance(make_parser("manual"), ManualParser)


def test_plain_file() -> None:
    assert parse_whole(ManualParser(), b"bib,time\n101,09:15:02.250\n") == [Read(
        chip="", bib="101", time=datetime(2000, 1, 1, 9, 15, 2, 250_000), dated=False, line=2,
        raw="101,09:15:02.250")]


def test_entries_fixture_exact_records() -> None:
    records = parse_whole(ManualParser(), ENTRIES)
    summary = [(r.line, r.reason if isinstance(r, Rejected) else (r.bib, r.time, r.dated))
               for r in records]
    assert summary == [
        (2, ("101", undated(9, 15, 2, 250), False)),
        (4, ("102", datetime(2025, 5, 4, 9, 15, 3), True)),
        (5, "time '25:00:00' does not exist"),
        (6, "missing bib"),
        (7, "2 columns, the header has 3"),
        (8, ("105", undated(9, 16, 0), False)),            # quoted cells
        (10, ("106", undated(9, 5, 0, 500), False)),        # one-digit hour, .5 s
        (11, "time '09:00:00.1234' is not HH:MM:SS[.fff] or YYYY-MM-DD HH:MM:SS[.fff]"),
        (12, ("108", datetime(2025, 5, 4, 9, 15, 3, 500_000), True)),
        (13, "date '2025-02-30 09:00:00' does not exist"),
        (14, "line is not valid text (binary noise?)"),
        (15, ("111", undated(9, 17, 0), False)),           # no final line ending
    ]
    # Line 1 is the header (BOM, other order, spaces, an extra column); line 3 is blank and
    # line 9 repeats the header: none of them is a record.
    first = records[0]
    assert isinstance(first, Read)
    assert (first.chip, first.reader, first.raw) == ("", None, "09:15:02.250,101,finish")


def test_missing_header_rejects_every_row() -> None:
    records = parse_whole(ManualParser(), b"\n101,09:00:00\n102,09:00:01\n")
    assert records == [
        Rejected(raw="101,09:00:00", line=2,
                 reason="bad header (missing column bib and time): the first line must be "
                        "bib,time"),
        Rejected(raw="102,09:00:01", reason=NO_HEADER, line=3),
    ]


@pytest.mark.parametrize(("header", "problem"), [
    (b"bib,when", "missing column time"),
    (b"number,time", "missing column bib"),
    (b"bib,time,bib", "duplicated column bib"),
])
def test_bad_header(header: bytes, problem: str) -> None:
    records = parse_whole(ManualParser(), header + b"\r\n101,09:00:00\r\n")
    assert [record.reason for record in records if isinstance(record, Rejected)] == [
        f"bad header ({problem}): the first line must be bib,time", NO_HEADER]


def test_bib_with_control_characters() -> None:
    assert parse_whole(ManualParser(), b"bib,time\n1\x002,10:00:00\n") == [
        Rejected(raw="1\x002,10:00:00", reason="bib contains control characters", line=2)]


def test_lone_bom_line_before_the_header() -> None:
    assert len(parse_whole(ManualParser(), b"\xef\xbb\xbf\nbib,time\n7,10:00:00\n")) == 1


@pytest.mark.parametrize(("written", "expected"), [
    ("00:00:00", timedelta(0)),
    ("23:59:59.999", timedelta(hours=23, minutes=59, seconds=59, milliseconds=999)),
    ("07:08:09.1", timedelta(hours=7, minutes=8, seconds=9, milliseconds=100)),
    ("2024-02-29T23:00:00.05", datetime(2024, 2, 29, 23, 0, 0, 50_000)),
    ("", "missing time"),
    ("24:00:00", "time '24:00:00' does not exist"),
    ("12:60:00", "time '12:60:00' does not exist"),
    ("12:00:60", "time '12:00:60' does not exist"),
    ("12:00", "time '12:00' is not HH:MM:SS[.fff] or YYYY-MM-DD HH:MM:SS[.fff]"),
    ("2023-02-29 10:00:00", "date '2023-02-29 10:00:00' does not exist"),
    # Arabic-Indic digits are digits to Python's int() and to a bare \d, not to the format.
    (ARABIC_NOON, f"time {ARABIC_NOON!r} is not HH:MM:SS[.fff] or YYYY-MM-DD HH:MM:SS[.fff]"),
])
def test_parse_time(written: str, expected: timedelta | datetime | str) -> None:
    assert parse_time(written) == expected


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_entries_any_chunking_gives_the_same_records(data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(ENTRIES)), max_size=60))
    chunks = split_at(ENTRIES, set(cuts))
    assert parse_chunks(ManualParser(), chunks) == parse_whole(ManualParser(), ENTRIES)


def test_entries_byte_by_byte() -> None:
    chunks = split_at(ENTRIES, range(len(ENTRIES)))
    assert parse_chunks(ManualParser(), chunks) == parse_whole(ManualParser(), ENTRIES)


NOISY_PIECES = st.one_of(
    st.binary(max_size=40),
    st.text(alphabet=',"0123456789:.- T\r\nbitme', max_size=40).map(str.encode),
    st.sampled_from(ENTRIES.splitlines(keepends=True)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NOISY_PIECES, max_size=30), st.data())
def test_noise_never_raises_and_chunking_does_not_matter(pieces: list[bytes],
                                                         data: st.DataObject) -> None:
    stream = b"bib,time\n" + b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    records = parse_whole(ManualParser(), stream)
    assert parse_chunks(ManualParser(), split_at(stream, set(cuts))) == records
    assert all(record.reason for record in records if isinstance(record, Rejected))


BIBS = st.text(alphabet=st.characters(blacklist_characters=',"\r\n\ufeff',
                                      blacklist_categories=("Cs", "Zl", "Zp", "Cc")),
               min_size=1, max_size=8).filter(lambda bib: bib.strip() == bib and bib != "")


@given(bibs=st.lists(st.tuples(BIBS, st.times()), min_size=1, max_size=10))
def test_encode_parse_round_trip_time_of_day(bibs: list[tuple[str, time]]) -> None:
    stream = encode_manual_header() + b"".join(encode_manual(bib, at) for bib, at in bibs)
    records = parse_whole(ManualParser(), stream)
    assert records == [
        Read(chip="", bib=bib, dated=False, line=index,
             time=undated(at.hour, at.minute, at.second, at.microsecond // 1000),
             raw=encode_manual(bib, at).decode().strip())
        for index, (bib, at) in enumerate(bibs, start=2)]


@given(bib=BIBS, at=st.datetimes(min_value=datetime(1900, 1, 1)))
def test_encode_parse_round_trip_datetime(bib: str, at: datetime) -> None:
    (read,) = parse_whole(ManualParser(), encode_manual_header() + encode_manual(bib, at))
    assert isinstance(read, Read)
    assert (read.bib, read.dated) == (bib, True)
    assert read.time == at.replace(microsecond=at.microsecond // 1000 * 1000)


def test_encode_formats() -> None:
    assert encode_manual_header() == b"bib,time\n"
    assert encode_manual("12", time(9, 5, 1, 250_999)) == b"12,09:05:01.250\n"
    assert encode_manual("12", "09:05:01") == b"12,09:05:01\n"
    with pytest.raises(ValueError):
        encode_manual("1,2", "09:05:01")
