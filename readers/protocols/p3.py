"""MYLAPS / AMB P3 decoder protocol (binary, TCP port 5403).

Sources (facts only, no code taken): vmindru/ambp3client (`AmbP3/records.py` TLV names,
`AmbP3/decoder.py` framing and escaping; its `test_server/amb.out` is the shared capture
`captures/mylaps-p3-amb.hex`), erathe/p3-rust-parser (`p3-protocol/src/fields.rs`,
`p3-parser/src/messages.rs`, `p3-parser/src/stream.rs`), and `PROTOCOLS.md` in the shared reader
notes, whose CRC description every frame of the capture confirms.

Frame, little-endian, as unescaped bytes:

    8E | version | length u16 | crc u16 | flags u16 | type u16 | TLV… | 8F

`length` counts the whole unescaped frame, 8E and 8F included. Between 8E and 8F a byte 0x8D,
0x8E or 0x8F is sent as 0x8D followed by the byte + 0x20, so a raw 8E or 8F on the wire is
always a frame boundary (p3-rust-parser escapes 0x8A-0x8C too; unescaping any `8D x` as
`x - 0x20` reads both). The CRC covers the unescaped frame with its CRC field zeroed, computed
by the table-driven CCITT variant of `p3_crc` (not the textbook CRC-16/CCITT-FALSE). Each TLV is
tag u8, length u8, value (little-endian integers).

Passing frames (type 0x0001) become `Read`s: `chip` = transponder (TLV 0x03) as a decimal string,
the number MYLAPS software prints; `time` = RTC time (TLV 0x04, microseconds since 1970-01-01)
as an aware UTC datetime; `sequence` = passing number (TLV 0x01); `rssi` = strength (TLV 0x05);
`reader` = decoder id (TLV 0x81) as upper-case hex of its bytes in wire order (the capture's
`13 18 04 00` gives "13180400"), the form p3-rust-parser reports; `raw` = the frame as received,
in hex; `line` = the frame's number in the stream (1-based, every frame counted, skipped ones
too).

Time zone: both client sources read TLV 0x04 as a count of microseconds since the Unix epoch,
which is an absolute instant, so it is taken as UTC (as `timing/reads.py` records for P3). The
count comes from the decoder's real-time clock, which the host software sets; a decoder set to
local wall-clock time shows up as a constant offset, which the reader's clock offset corrects.
TLV 0x10 (GPS UTC time, only with a GPS fix and not seen in either capture) is not used.

Frames of other types (status 0x0002, version, …) are skipped silently once their length and CRC
check out. Rejected with a reason: a bad CRC, a length field that disagrees with the frame, a
frame too short for its header, a frame cut short (a new 8E before its 8F, an escape byte right
before 8E or 8F, the stream ending inside it, no 8F within `MAX_FRAME_BYTES`), a truncated TLV,
and a passing without transponder or time. Bytes outside any frame are skipped up to the next 8E
and reported as one rejection per contiguous run; its `line` is the number of the frame it
follows (0 before the first).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from timing.reads import Read, Record, Rejected

START, END, ESCAPE = 0x8E, 0x8F, 0x8D
ESCAPE_OFFSET = 0x20
HEADER_BYTES = 10
"""Start byte, version, length, CRC, flags and type: the bytes before the first TLV."""
PASSING_TYPE = 0x0001
STATUS_TYPE = 0x0002
PROTOCOL_VERSION = 0x02

TLV_PASSING_NUMBER = 0x01
TLV_TRANSPONDER = 0x03
TLV_RTC_TIME = 0x04
TLV_STRENGTH = 0x05
TLV_HITS = 0x06
TLV_FLAGS = 0x08
TLV_DECODER_ID = 0x81

MAX_FRAME_BYTES = 4096
"""Real frames are under 100 bytes; a start byte not followed by an end byte within this many
bytes (as received) is noise, and is rejected rather than buffered without bound."""
MAX_SHOWN_BYTES = 64
"""How much of a rejected run of bytes its `raw` shows."""

DEFAULT_DECODER_ID = 0x0001_2A3B
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_CONTROL_BYTE = re.compile(rb"[\x8d\x8e\x8f]")


def _crc_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        crc = index << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def p3_crc(frame: bytes) -> int:
    """The P3 CRC of `frame` (unescaped, CRC field already zeroed), per PROTOCOLS.md: each
    byte is XORed in after the table step, which is what sets it apart from CRC-16/CCITT-FALSE."""
    crc = 0xFFFF
    for byte in frame:
        crc = _CRC_TABLE[crc >> 8] ^ ((crc << 8) & 0xFFFF) ^ byte
    return crc


def frame_crc(frame: bytes) -> int:
    """The CRC an unescaped frame should carry in bytes 4..5."""
    return p3_crc(frame[:4] + b"\x00\x00" + frame[6:])


class P3Parser:
    """Sans-IO parser for a P3 byte stream (see the module docstring)."""

    def __init__(self) -> None:
        self._frames_seen = 0
        self._in_frame = False
        self._wire = bytearray()  # the current frame as received (escaped)
        self._frame = bytearray()  # the current frame unescaped
        self._escape_pending = False
        self._garbage_shown = bytearray()
        self._garbage_count = 0

    def feed(self, data: bytes) -> list[Record]:
        records: list[Record] = []
        position = 0
        while position < len(data):
            if not self._in_frame:
                start = data.find(START, position)
                stop = len(data) if start < 0 else start
                self._skip(data[position:stop])
                if start < 0:
                    break
                self._start_frame(records)
                position = start + 1
            elif self._escape_pending:
                self._escaped(data[position], records)
                position += 1
            else:
                control = _CONTROL_BYTE.search(data, position)
                stop = len(data) if control is None else control.start()
                position = self._take(data, position, stop, records)
                # A frame that grew too long was rejected in `_take`: what follows is outside.
                if self._in_frame and control is not None:
                    self._control(data[stop], records)
                    position = stop + 1
        return records

    def close(self) -> list[Record]:
        records: list[Record] = []
        if self._in_frame:
            self._reject_frame(records, "stream ended inside a frame (no end byte 0x8F)")
        self._report_garbage(records)
        return records

    # Framing

    def _start_frame(self, records: list[Record]) -> None:
        self._report_garbage(records)
        self._frames_seen += 1
        self._in_frame = True
        self._escape_pending = False
        self._wire[:] = bytes([START])
        self._frame[:] = bytes([START])

    def _take(self, data: bytes, position: int, stop: int, records: list[Record]) -> int:
        """Add plain frame bytes `data[position:stop]`; returns where the frame stopped taking
        them (before `stop` only when it grew too long and was rejected)."""
        room = MAX_FRAME_BYTES + 1 - len(self._wire)
        end = min(stop, position + room)
        self._wire += data[position:end]
        self._frame += data[position:end]
        self._check_length(records)
        return end

    def _control(self, byte: int, records: list[Record]) -> None:
        if byte == START:
            self._reject_frame(records, "frame cut short: a new start byte 0x8E came before "
                                        "its end byte 0x8F")
            self._start_frame(records)
            return
        self._wire.append(byte)
        if byte == ESCAPE:
            self._escape_pending = True
            self._check_length(records)
            return
        self._frame.append(byte)
        self._in_frame = False
        record = decode_frame(bytes(self._frame), bytes(self._wire), self._frames_seen)
        if record is not None:
            records.append(record)

    def _escaped(self, byte: int, records: list[Record]) -> None:
        self._escape_pending = False
        if byte == START:
            self._reject_frame(records, "frame cut short: escape byte 0x8D followed by a new "
                                        "start byte 0x8E")
            self._start_frame(records)
            return
        self._wire.append(byte)
        if byte == END:
            self._reject_frame(records, "escape byte 0x8D right before the end byte 0x8F")
            return
        self._frame.append((byte - ESCAPE_OFFSET) & 0xFF)
        self._check_length(records)

    def _check_length(self, records: list[Record]) -> None:
        if self._in_frame and len(self._wire) > MAX_FRAME_BYTES:
            self._reject_frame(records, f"no end byte 0x8F within {MAX_FRAME_BYTES} bytes "
                                        "of a start byte")

    def _reject_frame(self, records: list[Record], reason: str) -> None:
        records.append(Rejected(raw=_shown(self._wire), reason=reason, line=self._frames_seen))
        self._in_frame = False
        self._escape_pending = False

    def _skip(self, garbage: bytes) -> None:
        room = MAX_SHOWN_BYTES + 1 - len(self._garbage_shown)  # one more marks "there is more"
        self._garbage_shown += garbage[:max(room, 0)]
        self._garbage_count += len(garbage)

    def _report_garbage(self, records: list[Record]) -> None:
        if not self._garbage_count:
            return
        count = self._garbage_count
        records.append(Rejected(
            raw=_shown(self._garbage_shown),
            reason=f"{count} byte{'s' if count != 1 else ''} outside any frame "
                   "(skipped up to the next start byte 0x8E)",
            line=self._frames_seen))
        self._garbage_shown.clear()
        self._garbage_count = 0


def decode_frame(frame: bytes, wire: bytes, number: int) -> Record | None:
    """A complete unescaped frame (0x8E to 0x8F) as a record; None for a valid frame that is not
    a passing. `wire` is the frame as received, `number` its place in the stream."""
    raw = wire.hex()

    def rejected(reason: str) -> Rejected:
        return Rejected(raw=_shown(wire), reason=reason, line=number)

    if len(frame) < HEADER_BYTES + 1:
        return rejected(f"frame of {len(frame)} bytes is shorter than a header")
    length = int.from_bytes(frame[2:4], "little")
    if length != len(frame):
        return rejected(f"length field says {length} bytes, frame has {len(frame)}")
    carried, computed = int.from_bytes(frame[4:6], "little"), frame_crc(frame)
    if carried != computed:
        return rejected(f"bad CRC: frame carries 0x{carried:04X}, content gives 0x{computed:04X}")
    if int.from_bytes(frame[8:10], "little") != PASSING_TYPE:
        return None
    fields = _tlvs(frame[HEADER_BYTES:-1])
    if isinstance(fields, str):
        return rejected(fields)
    transponder, rtc_time = fields.get(TLV_TRANSPONDER), fields.get(TLV_RTC_TIME)
    if not transponder:
        return rejected("passing without a transponder (TLV 0x03)")
    if not rtc_time:
        return rejected("passing without a time (TLV 0x04)")
    try:
        when = EPOCH + timedelta(microseconds=_unsigned(rtc_time))
    except OverflowError:
        return rejected(f"passing time {_unsigned(rtc_time)} µs is out of range")
    strength = fields.get(TLV_STRENGTH)
    passing_number = fields.get(TLV_PASSING_NUMBER)
    decoder_id = fields.get(TLV_DECODER_ID)
    return Read(
        chip=str(_unsigned(transponder)),
        time=when,
        reader=decoder_id.hex().upper() if decoder_id else None,
        rssi=float(_unsigned(strength)) if strength else None,
        sequence=_unsigned(passing_number) if passing_number else None,
        line=number,
        raw=raw,
    )


def _tlvs(body: bytes) -> dict[int, bytes] | str:
    """The TLVs of a frame body by tag (a repeated tag keeps its last value), or why not."""
    fields: dict[int, bytes] = {}
    position = 0
    while position < len(body):
        tag = body[position]
        if position + 2 > len(body):
            return f"TLV 0x{tag:02X} at body offset {position} has no length byte"
        size = body[position + 1]
        if position + 2 + size > len(body):
            return (f"TLV 0x{tag:02X} at body offset {position} says {size} bytes, "
                    f"{len(body) - position - 2} left")
        fields[tag] = body[position + 2:position + 2 + size]
        position += 2 + size
    return fields


def _unsigned(value: bytes) -> int:
    return int.from_bytes(value, "little")


def _shown(data: bytes | bytearray) -> str:
    if len(data) <= MAX_SHOWN_BYTES:
        return bytes(data).hex()
    return bytes(data[:MAX_SHOWN_BYTES]).hex() + "…"


def escape_frame(frame: bytes) -> bytes:
    """An unescaped frame as sent on the wire: 0x8D, 0x8E and 0x8F between its start and end
    bytes become 0x8D, byte + 0x20 (as the decoder in the capture does)."""
    inner = bytearray()
    for byte in frame[1:-1]:
        if byte in (ESCAPE, START, END):
            inner += bytes([ESCAPE, byte + ESCAPE_OFFSET])
        else:
            inner.append(byte)
    return frame[:1] + bytes(inner) + frame[-1:]


def encode_p3_frame(record_type: int, body: bytes, *, version: int = PROTOCOL_VERSION,
                    flags: int = 0) -> bytes:
    """A complete escaped frame of `record_type` around the TLV `body`, with length and CRC."""
    length = HEADER_BYTES + len(body) + 1
    frame = bytearray([START, version])
    frame += length.to_bytes(2, "little") + b"\x00\x00" + flags.to_bytes(2, "little")
    frame += record_type.to_bytes(2, "little") + body + bytes([END])
    frame[4:6] = p3_crc(bytes(frame)).to_bytes(2, "little")
    return escape_frame(bytes(frame))


def tlv(tag: int, value: int, size: int) -> bytes:
    """One TLV holding `value` as a little-endian unsigned integer of `size` bytes."""
    return bytes([tag, size]) + value.to_bytes(size, "little")


def encode_p3_passing(
    passing_no: int,
    transponder: int,
    time: datetime,
    strength: int = 100,
    hits: int = 20,
    decoder_id: int = DEFAULT_DECODER_ID,
) -> bytes:
    """A passing frame as a decoder sends it (escaped, correct length and CRC), with the TLVs
    of the capture's passings in their order: passing number (u32), transponder (u32), RTC time
    (u64), strength (u16), hits (u16), flags (u16, zero), decoder id (u32).

    `time` must be aware; it is written to the microsecond. Raises ValueError for a naive
    time and OverflowError for a value that does not fit its field.
    """
    if time.tzinfo is None:
        raise ValueError("P3 times are instants: pass an aware datetime")
    micros = (time - EPOCH) // timedelta(microseconds=1)
    body = (tlv(TLV_PASSING_NUMBER, passing_no, 4) + tlv(TLV_TRANSPONDER, transponder, 4)
            + tlv(TLV_RTC_TIME, micros, 8) + tlv(TLV_STRENGTH, strength, 2)
            + tlv(TLV_HITS, hits, 2) + tlv(TLV_FLAGS, 0, 2)
            + tlv(TLV_DECODER_ID, decoder_id, 4))
    return encode_p3_frame(PASSING_TYPE, body)


__all__ = ["P3Parser", "decode_frame", "encode_p3_frame", "encode_p3_passing", "escape_frame",
           "frame_crc", "p3_crc", "tlv"]
