"""MYLAPS / AMB P3 frames: the real capture, a corrupted stream, chunking, CRC, round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.protocols import make_parser
from readers.protocols.p3 import (
    MAX_FRAME_BYTES,
    STATUS_TYPE,
    P3Parser,
    encode_p3_frame,
    encode_p3_passing,
    frame_crc,
    p3_crc,
    tlv,
)
from timing.reads import Read, Record, Rejected

from .streams import FIXTURES, bytewise, capture_path, parse_chunks, split_at

SESSION = FIXTURES / "p3-session.hex"
DECODER = 0x00012A3B

# Two frames of the public capture vmindru/ambp3client `test_server/amb.out` (Apache-2.0),
# frames 1 (status) and 188 (the first passing), so CRC checks run without ../shared too.
CAPTURED_STATUS = bytes.fromhex("8e021f004d7c0000020001022700070216000c01760601008104131804008f")
CAPTURED_PASSING = bytes.fromhex(
    "8e02330053c800000100010451680200030473d75600040888f2fab51e8305000502b200060234000802000081"
    "04131804008f")


def capture_frames() -> list[bytes]:
    path = capture_path("mylaps-p3-amb.hex")
    return [bytes.fromhex(line) for line in path.read_text().split()]


def session_stream() -> bytes:
    lines = SESSION.read_text().splitlines()
    return bytes.fromhex("".join(line for line in lines if not line.startswith("#")))


def textbook_crc16_ccitt_false(data: bytes) -> int:
    """The usual bitwise CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), which P3 does not use."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def unescaped(wire: bytes) -> bytes:
    inner, escape = bytearray(), False
    for byte in wire[1:-1]:
        if escape:
            inner.append(byte - 0x20)
            escape = False
        elif byte == 0x8D:
            escape = True
        else:
            inner.append(byte)
    return wire[:1] + bytes(inner) + wire[-1:]


# The real capture

def test_capture_gives_84_passings_and_no_rejections() -> None:
    records = parse_chunks(P3Parser(), [b"".join(capture_frames())])
    reads = [record for record in records if isinstance(record, Read)]
    assert len(reads) == 84
    assert [record for record in records if isinstance(record, Rejected)] == []
    # Frame 188, checked by hand: TLV 03 = 73 d7 56 00 -> 0x0056D773 = 5691251; TLV 04 =
    # 88 f2 fa b5 1e 83 05 00 -> 0x0005831EB5FAF288 = 1551542808933000 µs since 1970.
    assert reads[0] == Read(
        chip="5691251", time=datetime(2019, 3, 2, 16, 6, 48, 933000, tzinfo=UTC),
        reader="13180400", rssi=178.0, sequence=157777, line=188, raw=CAPTURED_PASSING.hex())
    # Frame 1270 carries an escaped byte inside its RTC time (8d af -> 8f).
    escaped = next(read for read in reads if read.line == 1270)
    assert (escaped.chip, escaped.time, escaped.sequence) == (
        "3438895", datetime(2019, 3, 2, 17, 31, 31, 290000, tzinfo=UTC), 157853)
    chips = [read.chip for read in reads]
    assert {chip: chips.count(chip) for chip in set(chips)} == {
        "3438895": 31, "5691251": 27, "3292480": 26}
    # Passing numbers run without a gap; the last passing is frame 1386.
    assert [read.sequence for read in reads] == list(range(157777, 157861))
    assert (reads[-1].line, reads[-1].time) == (
        1386, datetime(2019, 3, 2, 17, 40, 43, 67000, tzinfo=UTC))


def test_capture_byte_at_a_time_matches_whole_stream() -> None:
    stream = b"".join(capture_frames())
    assert parse_chunks(P3Parser(), bytewise(stream)) == parse_chunks(P3Parser(), [stream])


def test_every_capture_crc_is_the_table_variant_not_the_textbook_one() -> None:
    frames = [unescaped(frame) for frame in capture_frames()]
    carried = [int.from_bytes(frame[4:6], "little") for frame in frames]
    assert [frame_crc(frame) for frame in frames] == carried
    zeroed = [frame[:4] + b"\x00\x00" + frame[6:] for frame in frames]
    assert sum(textbook_crc16_ccitt_false(frame) == crc
               for frame, crc in zip(zeroed, carried, strict=True)) == 0


# CRC without the capture

def test_crc_matches_captured_frames_and_differs_from_textbook() -> None:
    for frame in (CAPTURED_STATUS, CAPTURED_PASSING):
        carried = int.from_bytes(frame[4:6], "little")
        assert frame_crc(frame) == carried
        assert textbook_crc16_ccitt_false(frame[:4] + b"\x00\x00" + frame[6:]) != carried
    assert frame_crc(CAPTURED_STATUS) == 0x7C4D


def test_frame_with_textbook_crc_is_rejected() -> None:
    frame = bytearray(unescaped(encode_p3_passing(1, 2, datetime(2026, 5, 10, tzinfo=UTC))))
    frame[4:6] = b"\x00\x00"
    textbook = textbook_crc16_ccitt_false(bytes(frame))
    assert textbook != p3_crc(bytes(frame))
    frame[4:6] = textbook.to_bytes(2, "little")
    records = parse_chunks(P3Parser(), [bytes(frame)])
    assert len(records) == 1
    assert isinstance(records[0], Rejected)
    assert records[0].reason.startswith(f"bad CRC: frame carries 0x{textbook:04X}")


# The corrupted-stream fixture

SESSION_RECORDS: list[tuple[str, int, object]] = [
    ("read", 2, ("4021337", datetime(2026, 5, 10, 7, 31, 7, 120000, tzinfo=UTC), 1001, 131.0)),
    ("rejected", 2, "5 bytes outside any frame (skipped up to the next start byte 0x8E)"),
    ("read", 3, (str(0x8F8E8D8D), datetime(2026, 5, 10, 7, 31, 8, 5, tzinfo=UTC), 0x8E8F8D01,
                 float(0x8F8E))),
    ("rejected", 4, "bad CRC: frame carries 0xA989, content gives 0x0775"),
    ("rejected", 5, "frame cut short: a new start byte 0x8E came before its end byte 0x8F"),
    ("read", 6, ("4021341", datetime(2026, 5, 10, 7, 31, 11, 500000, tzinfo=UTC), 1005, 99.0)),
    ("rejected", 7, "length field says 38 bytes, frame has 37"),
    ("rejected", 8, "passing without a transponder (TLV 0x03)"),
    ("rejected", 9, "passing without a time (TLV 0x04)"),
    ("rejected", 10, "TLV 0x04 at body offset 12 says 8 bytes, 3 left"),
    ("read", 12, ("4021346", datetime(2026, 5, 10, 8, 2, 0, 999999, tzinfo=UTC), 1010, 77.0)),
    ("rejected", 12, "2 bytes outside any frame (skipped up to the next start byte 0x8E)"),
    ("rejected", 13, "stream ended inside a frame (no end byte 0x8F)"),
]


def summary(records: list[Record]) -> list[tuple[str, int, object]]:
    rows: list[tuple[str, int, object]] = []
    for record in records:
        if isinstance(record, Read):
            assert record.reader == "3B2A0100"
            assert (record.dated, record.antenna, record.bib) == (True, None, None)
            rows.append(("read", record.line,
                         (record.chip, record.time, record.sequence, record.rssi)))
        else:
            rows.append(("rejected", record.line, record.reason))
    return rows


def test_session_fixture_gives_exact_records() -> None:
    assert summary(parse_chunks(P3Parser(), [session_stream()])) == SESSION_RECORDS


def test_session_fixture_first_passing_is_what_the_encoder_writes() -> None:
    lines = [line for line in SESSION.read_text().splitlines() if not line.startswith("#")]
    assert bytes.fromhex(lines[1]) == encode_p3_passing(
        1001, 4021337, datetime(2026, 5, 10, 7, 31, 7, 120000, tzinfo=UTC), strength=131,
        hits=42, decoder_id=DECODER)


def test_session_byte_at_a_time_matches_whole_stream() -> None:
    stream = session_stream()
    assert parse_chunks(P3Parser(), bytewise(stream)) == parse_chunks(P3Parser(), [stream])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_chunking_matches_whole_stream(data: st.DataObject) -> None:
    stream = session_stream()
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=60))
    assert parse_chunks(P3Parser(), split_at(stream, cuts)) == parse_chunks(P3Parser(), [stream])


# Framing edge cases

PASSING = encode_p3_passing(7, 1234567, datetime(2026, 5, 10, 9, tzinfo=UTC), decoder_id=DECODER)


def test_frame_split_between_escape_byte_and_escaped_byte() -> None:
    frame = encode_p3_passing(0x8F, 1, datetime(2026, 5, 10, tzinfo=UTC))
    escape_at = frame.index(0x8D)
    whole = parse_chunks(P3Parser(), [frame])
    assert parse_chunks(P3Parser(), [frame[:escape_at + 1], frame[escape_at + 1:]]) == whole
    assert isinstance(whole[0], Read)
    assert whole[0].sequence == 0x8F


def test_several_frames_in_one_feed_and_status_frames_are_skipped() -> None:
    status = encode_p3_frame(STATUS_TYPE, tlv(0x01, 39, 2) + tlv(0x81, DECODER, 4))
    records = parse_chunks(P3Parser(), [status + PASSING + status + PASSING])
    assert [(type(record), record.line) for record in records] == [(Read, 2), (Read, 4)]


def test_garbage_is_one_rejection_per_run_however_it_is_fed() -> None:
    garbage = bytes(range(0x10, 0x60))  # 80 bytes, none of them 0x8E
    records = parse_chunks(P3Parser(), [PASSING[:5], PASSING[5:], *bytewise(garbage), PASSING])
    assert [(type(record), record.line) for record in records] == [
        (Read, 1), (Rejected, 1), (Read, 2)]
    rejected = records[1]
    assert isinstance(rejected, Rejected)
    assert rejected.reason == "80 bytes outside any frame (skipped up to the next start byte 0x8E)"
    assert rejected.raw == garbage[:64].hex() + "…"


def test_garbage_before_first_frame_and_at_end_of_stream() -> None:
    records = parse_chunks(P3Parser(), [b"\x8f\x00", PASSING, b"\x8d"])
    assert [(type(record), record.line) for record in records] == [
        (Rejected, 0), (Read, 1), (Rejected, 1)]
    assert isinstance(records[2], Rejected)
    assert records[2].reason == "1 byte outside any frame (skipped up to the next start byte 0x8E)"


@pytest.mark.parametrize(("stream", "reason"), [
    (b"\x8e\x02\x8f", "frame of 3 bytes is shorter than a header"),
    (b"\x8e\x02\x0b\x00\x8d\x8f", "escape byte 0x8D right before the end byte 0x8F"),
    (b"\x8e\x02\x0b\x00\x8d", "stream ended inside a frame (no end byte 0x8F)"),
])
def test_malformed_frames_are_rejected(stream: bytes, reason: str) -> None:
    assert parse_chunks(P3Parser(), [stream]) == [Rejected(raw=stream.hex(), reason=reason, line=1)]


def test_escape_byte_before_a_start_byte_cuts_the_frame() -> None:
    records = parse_chunks(P3Parser(), [b"\x8e\x02\x8d" + PASSING])
    assert records[0] == Rejected(
        raw="8e028d", reason="frame cut short: escape byte 0x8D followed by a new start byte 0x8E",
        line=1)
    assert isinstance(records[1], Read)
    assert records[1].line == 2


def test_frame_without_end_byte_is_bounded() -> None:
    noise = b"\x8e" + b"\x01" * (MAX_FRAME_BYTES + 99)
    records = parse_chunks(P3Parser(), [noise[:1000], noise[1000:], PASSING])
    assert [(type(record), record.line) for record in records] == [
        (Rejected, 1), (Rejected, 1), (Read, 2)]
    assert [record.reason for record in records if isinstance(record, Rejected)] == [
        f"no end byte 0x8F within {MAX_FRAME_BYTES} bytes of a start byte",
        "99 bytes outside any frame (skipped up to the next start byte 0x8E)"]


def test_status_frame_with_bad_crc_is_rejected_and_unknown_types_skipped() -> None:
    status = bytearray(encode_p3_frame(STATUS_TYPE, tlv(0x01, 39, 2)))
    status[-2] ^= 0x01
    unknown = encode_p3_frame(0x0024, tlv(0x01, 5, 4))
    records = parse_chunks(P3Parser(), [bytes(status), unknown])
    assert len(records) == 1
    assert isinstance(records[0], Rejected)
    assert records[0].reason.startswith("bad CRC")


def test_passing_with_extra_tlvs_and_no_optional_ones() -> None:
    body = tlv(0x03, 42, 4) + tlv(0x04, 1_000_000, 8) + tlv(0x10, 5, 8) + tlv(0x0A, 7, 8)
    records = parse_chunks(P3Parser(), [encode_p3_frame(0x0001, body)])
    assert records == [Read(chip="42", time=datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), line=1,
                            raw=encode_p3_frame(0x0001, body).hex())]


def test_passing_time_out_of_range_is_rejected() -> None:
    body = tlv(0x03, 42, 4) + tlv(0x04, 2**64 - 1, 8)
    records = parse_chunks(P3Parser(), [encode_p3_frame(0x0001, body)])
    assert len(records) == 1
    assert isinstance(records[0], Rejected)
    assert records[0].reason == f"passing time {2**64 - 1} µs is out of range"


def test_registry_builds_this_parser() -> None:
    assert isinstance(make_parser("p3"), P3Parser)


def test_encoder_refuses_naive_time() -> None:
    with pytest.raises(ValueError):
        encode_p3_passing(1, 2, datetime(2026, 5, 10))


# Round trips

U32 = st.integers(0, 2**32 - 1)
U16 = st.integers(0, 2**16 - 1)
INSTANTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1),
                        timezones=st.just(UTC))
CONTROL_HEAVY_U32 = st.lists(st.sampled_from([0x8D, 0x8E, 0x8F, 0x00, 0xAD, 0xAF]),
                             min_size=4, max_size=4).map(lambda b: int.from_bytes(bytes(b),
                                                                                  "little"))
# The passing number always carries one control byte, so every frame needs escaping (the
# other fields may or may not add more).
WITH_A_CONTROL_BYTE_U32 = st.tuples(st.sampled_from([0x8D, 0x8E, 0x8F]), CONTROL_HEAVY_U32).map(
    lambda pair: (pair[1] & 0xFFFFFF00) | pair[0])
CONTROL_HEAVY_U16 = st.lists(st.sampled_from([0x8D, 0x8E, 0x8F, 0x20]),
                             min_size=2, max_size=2).map(lambda b: int.from_bytes(bytes(b),
                                                                                  "little"))


def assert_round_trip(passing_no: int, transponder: int, when: datetime, strength: int,
                      hits: int, decoder_id: int) -> bytes:
    wire = encode_p3_passing(passing_no, transponder, when, strength, hits, decoder_id)
    assert 0x8E not in wire[1:-1]
    assert 0x8F not in wire[1:-1]
    expected = Read(chip=str(transponder), time=when, reader=decoder_id.to_bytes(4, "little")
                    .hex().upper(), rssi=float(strength), sequence=passing_no, line=1,
                    raw=wire.hex())
    assert parse_chunks(P3Parser(), [wire]) == [expected]
    return wire


@settings(max_examples=300)
@given(passing_no=U32, transponder=U32, when=INSTANTS, strength=U16, hits=U16, decoder_id=U32)
def test_encode_parse_round_trip(passing_no: int, transponder: int, when: datetime,
                                 strength: int, hits: int, decoder_id: int) -> None:
    assert_round_trip(passing_no, transponder, when, strength, hits, decoder_id)


@settings(max_examples=300)
@given(passing_no=WITH_A_CONTROL_BYTE_U32, transponder=CONTROL_HEAVY_U32, when=INSTANTS,
       strength=CONTROL_HEAVY_U16, hits=CONTROL_HEAVY_U16, decoder_id=CONTROL_HEAVY_U32)
def test_round_trip_with_bytes_that_must_be_escaped(passing_no: int, transponder: int,
                                                    when: datetime, strength: int, hits: int,
                                                    decoder_id: int) -> None:
    wire = assert_round_trip(passing_no, transponder, when, strength, hits, decoder_id)
    unescaped_frame = unescaped(wire)
    controls = sum(byte in (0x8D, 0x8E, 0x8F) for byte in unescaped_frame[1:-1])
    assert controls > 0
    assert len(wire) == len(unescaped_frame) + controls
    assert int.from_bytes(unescaped_frame[2:4], "little") == len(unescaped_frame)


def test_known_escaped_encoding() -> None:
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=0x8F)
    wire = encode_p3_passing(0x8E, 0x8D, when, strength=1, hits=2, decoder_id=0)
    # Passing number 0x8E, transponder 0x8D and RTC time 0x8F, each escaped as 8D, byte + 0x20.
    assert bytes.fromhex("01048dae000000" "03048dad000000" "04088daf00000000000000") in wire
