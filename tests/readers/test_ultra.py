"""Ultra / Joey parser: a session fixture with status frames, chunking and encoder round trips."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from readers.protocols import make_parser
from readers.protocols.ultra import UltraParser, encode_ultra, parse_line
from timing.reads import Read, Record, Rejected

from .streams import FIXTURES, parse_chunks, parse_whole, split_at

SESSION = (FIXTURES / "ultra-session.txt").read_bytes()
PIKATIMER_EXAMPLE = "0,11055,1170518701,698,1,-71,0,2,1,0000000000000000,0,29319"


def test_registry_builds_an_ultra_parser() -> None:
    assert isinstance(make_parser("ultra"), UltraParser)


def test_pikatimer_example_by_hand() -> None:
    # 1170518701 s = 13547 days (1980-01-01 + 13547 d = 2017-02-02) + 57901 s (16:05:01).
    assert parse_line(PIKATIMER_EXAMPLE, 3) == Read(
        chip="11055", time=datetime(2017, 2, 2, 16, 5, 1, 698_000), dated=True, reader="2",
        antenna=1, rssi=-71.0, sequence=29319, line=3, raw=PIKATIMER_EXAMPLE)


def test_session_fixture_exact_records() -> None:
    records = parse_whole(UltraParser(), SESSION)
    summary = [(r.line, r.reason if isinstance(r, Rejected) else r.chip) for r in records]
    assert summary == [
        (4, "11055"),                             # LF
        (9, "058000128608"),                      # CRLF
        (11, "11055"),                            # rewound `1,` read, CR only
        (12, "11 fields (a read has 12)"),
        (13, "secs '1170518a03' is not a whole number"),
        (14, "ms 1000 out of range (0-999)"),
        (15, "rssi 'abc' is not a number"),
        (16, "empty chip"),
        (17, "antenna 'x' is not a whole number"),
        (18, "isRewind '2' is not 0 or 1"),
        (19, "logId '-1' is not a whole number"),
        (20, "not an Ultra record"),
        (21, "line is not valid text (binary noise?)"),
        (22, "line longer than 4096 bytes"),
        (23, "11063"),                            # no final line ending: flushed by close()
    ]
    # Connected, voltage, status, settings and clock lines (1-3, 5-8) are skipped, and so are
    # both 64-byte extended status frames, whose bytes include LF, CR and invalid UTF-8.
    second, rewound, last = records[1], records[2], records[-1]
    assert second == Read(
        chip="058000128608", time=datetime(2017, 2, 2, 16, 5, 2, 5_000), reader="1", antenna=4,
        rssi=-62.5, sequence=29320, line=9,
        raw="0,058000128608,1170518702,5,4,-62.5,0,1,1,0000000000000000,0,29320")
    assert isinstance(rewound, Read) and rewound.sequence == 29319
    assert isinstance(last, Read)
    assert (last.time, last.antenna, last.sequence) == (
        datetime(2017, 2, 2, 16, 5, 4, 999_000), 3, 29327)


def test_status_frame_split_across_feeds() -> None:
    frame = bytes([0x03, 8, 0x0A, 0x0D, 0xFF, 0x0A, 0x00, 0x0A])
    stream = frame + PIKATIMER_EXAMPLE.encode() + b"\n" + frame + b"\r\n"
    parser = UltraParser()
    records: list[Record] = []
    for index in range(len(stream)):
        records += parser.feed(stream[index:index + 1])
    assert records + parser.close() == parse_whole(UltraParser(), stream)
    assert [record.raw for record in records] == [PIKATIMER_EXAMPLE]


def test_status_byte_inside_a_line_is_not_a_frame() -> None:
    (record,) = parse_whole(UltraParser(), b"0,1\x03,2\n")
    assert record == Rejected(raw="0,1\x03,2", reason="3 fields (a read has 12)", line=1)


def test_truncated_status_frame_at_the_end_is_dropped() -> None:
    assert parse_whole(UltraParser(), PIKATIMER_EXAMPLE.encode() + b"\n\x03\x40\x01\x02") == [
        parse_line(PIKATIMER_EXAMPLE, 1)]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_session_any_chunking_gives_the_same_records(data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(SESSION)), max_size=60))
    chunks = split_at(SESSION, set(cuts))
    assert parse_chunks(UltraParser(), chunks) == parse_whole(UltraParser(), SESSION)


def test_session_byte_by_byte() -> None:
    chunks = split_at(SESSION, range(len(SESSION)))
    assert parse_chunks(UltraParser(), chunks) == parse_whole(UltraParser(), SESSION)


NOISY_PIECES = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(SESSION.splitlines(keepends=True)),
    st.sampled_from([b"\r", b"\n", b"\r\n", b"\x03", b"\x03\x05", b"0,", b"1,"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NOISY_PIECES, max_size=30), st.data())
def test_noise_never_raises_and_chunking_does_not_matter(pieces: list[bytes],
                                                         data: st.DataObject) -> None:
    stream = b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    records = parse_whole(UltraParser(), stream)
    assert parse_chunks(UltraParser(), split_at(stream, set(cuts))) == records
    assert all(record.reason for record in records if isinstance(record, Rejected))


@given(
    chip=st.text(alphabet="0123456789ABCDEFabcdef", min_size=1, max_size=24),
    time=st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2100, 1, 1)),
    antenna=st.integers(0, 8),
    rssi=st.integers(-120, 0),
    reader_no=st.integers(1, 2),
    log_id=st.integers(0, 2**31),
    rewind=st.booleans(),
)
def test_encode_parse_round_trip(chip: str, time: datetime, antenna: int, rssi: int,
                                 reader_no: int, log_id: int, rewind: bool) -> None:
    encoded = encode_ultra(chip, time, antenna, rssi, reader_no, log_id, rewind)
    assert encoded.endswith(b"\n") and not encoded.endswith(b"\r\n")
    assert encoded.startswith(b"1," if rewind else b"0,")
    (read,) = parse_whole(UltraParser(), encoded)
    assert read == Read(
        chip=chip, time=time.replace(microsecond=time.microsecond // 1000 * 1000),
        reader=str(reader_no), antenna=antenna, rssi=float(rssi), sequence=log_id, line=1,
        raw=encoded.decode().strip())


def test_encode_matches_the_pikatimer_example() -> None:
    encoded = encode_ultra("11055", datetime(2017, 2, 2, 16, 5, 1, 698_500), antenna=1,
                           rssi=-71, reader_no=2, log_id=29319)
    assert encoded == b"0,11055,1170518701,698,1,-71,0,2,1,0000000000000000,0,29319\n"
