"""RFID Timing Systems Ultra / Joey reads, as sent on TCP port 23.

A read is one line of twelve comma-separated fields:

    0,chip,secs,ms,antenna,rssi,isRewind,readerNo,ultraId,readerTime,startTime,logId
    e.g. 0,11055,1170518701,698,1,-71,0,2,1,0000000000000000,0,29319

`secs` counts seconds since 1980-01-01 00:00:00 on the reader's local wall clock, `ms` adds the
milliseconds. A leading `1,` marks a rewound (stored) read and is parsed the same way. `logId`
numbers the reads in the reader's log: it becomes `Read.sequence`, so gaps show missed reads.

Everything else the reader says is skipped silently: `Connected,…` (also `1,Connected,…`) on
connect, `V=` voltage heartbeats, `S=` status, `U…`/`u…` settings, `HH:MM:SS DD-MM-YYYY (n)`
clock replies. Text that is none of these is rejected as "not an Ultra record".

Line endings: Chronokeep notes that every message ends with LF (0x0A) and PikaTimer reads up to
LF and then `parseInt`s the last field, which a trailing CR would break; so the reader sends LF
only, and `encode_ultra` does too. CrossMgr splits on CR instead; this parser accepts LF, CRLF
and CR (the shared `LineFramer`).

Extended status frames are binary: 0x03, a length byte counting the whole frame (the 0x03 and
the length byte included), then the rest, which may hold 0x0A (PikaTimer reads exactly that many
bytes). A 0x03 at the start of a line therefore opens such a frame: its length byte is trusted,
the frame is consumed whole and skipped, and line framing resumes after it (a line ending that
follows is just an empty line). A 0x03 anywhere else is ordinary line content (and makes that line
a rejection). Line numbers count text lines only.

Sources: PikaTimer `PikaRFIDDirectReader.java` (fields, `1,` reads, epoch, extended status
framing); CrossMgr `Ultra.py` (epoch, CR framing); grecaun/chronokeep-windows
`RfidUltraInterface.cs` (LF framing, message kinds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from readers.protocols.base import LineFramer, undecodable
from timing.reads import Read, Record, Rejected

ULTRA_EPOCH = datetime(1980, 1, 1)
FIELD_COUNT = 12
_EXTENDED_STATUS = 0x03
_LINE_ENDINGS = (0x0A, 0x0D)
_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_CLOCK_REPLY = re.compile(r"[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}")
_SKIPPED_PREFIXES = ("Connected", "V=", "S=", "U", "u")
_PLAIN_READ = re.compile(
    r"[01],([^,\s]+),([0-9]+),([0-9]{1,3}),([0-9]+),([+-]?[0-9]+(?:\.[0-9]*)?),[01],"
    r"([^,\s]+),[^,]*,[^,]*,[^,]*,([0-9]+)")
"""The common line: a read whose fields have no spaces around them."""


class UltraParser:
    """Sans-IO parser for Ultra / Joey read lines (see the module docstring for format, choices
    and sources)."""

    def __init__(self) -> None:
        self._lines = LineFramer()
        self._at_line_start = True
        self._in_frame = False
        self._frame_length_next = False
        self._frame_remaining = 0

    def feed(self, data: bytes) -> list[Record]:
        return _records(self._split(data))

    def close(self) -> list[Record]:
        # A status frame cut off by the end of the stream carries no read: nothing to report.
        self._in_frame = False
        return _records(self._lines.close())

    def _split(self, data: bytes) -> Iterator[tuple[int, str | None, bytes]]:
        """Text lines of `data`, with extended status frames taken out."""
        position = 0
        while position < len(data):
            if self._in_frame:
                position = self._skip_frame(data, position)
                continue
            start = self._next_frame_start(data, position)
            end = len(data) if start is None else start
            if end > position:
                yield from self._lines.feed(data[position:end])
                self._at_line_start = data[end - 1] in _LINE_ENDINGS
            if start is None:
                break
            self._in_frame, self._frame_length_next = True, True
            position = start + 1

    def _next_frame_start(self, data: bytes, position: int) -> int | None:
        """Where the next extended status frame begins: a 0x03 first on its line."""
        if self._at_line_start and data[position] == _EXTENDED_STATUS:
            return position
        index = data.find(_EXTENDED_STATUS, position + 1)
        while index != -1 and data[index - 1] not in _LINE_ENDINGS:
            index = data.find(_EXTENDED_STATUS, index + 1)
        return None if index == -1 else index

    def _skip_frame(self, data: bytes, position: int) -> int:
        """Consumes frame bytes from `position`; returns where the unconsumed data starts."""
        if self._frame_length_next:
            # The length byte counts the 0x03 and itself, both consumed by now.
            self._frame_remaining = max(data[position] - 2, 0)
            self._frame_length_next = False
            position += 1
        taken = min(self._frame_remaining, len(data) - position)
        self._frame_remaining -= taken
        if self._frame_remaining == 0:
            self._in_frame = False
            self._at_line_start = True
        return position + taken


def _records(lines: Iterable[tuple[int, str | None, bytes]]) -> list[Record]:
    records: list[Record] = []
    for number, text, raw in lines:
        read = None if text is None else plain_read(text, number)
        if read is not None:
            records.append(read)
        elif text is None:
            records.append(undecodable(number, raw))
        elif not is_skipped(text):
            records.append(parse_line(text, number))
    return records


def parse_line(text: str, line: int = 0) -> Record:
    """One read line as a `Read`, or a `Rejected` saying why not. The reader's other messages
    would be rejected here too: the parser leaves them out first (`is_skipped`)."""
    shown = text.strip()

    def rejected(reason: str) -> Rejected:
        return Rejected(raw=shown, reason=reason, line=line)

    fields = [field.strip() for field in shown.split(",")]
    if fields[0] not in ("0", "1"):
        return rejected("not an Ultra record")
    if len(fields) != FIELD_COUNT:
        return rejected(f"{len(fields)} fields (a read has {FIELD_COUNT})")
    _, chip, secs, ms, antenna, rssi, rewind, reader_no, _, _, _, log_id = fields
    if not chip:
        return rejected("empty chip")
    for name, value in (("secs", secs), ("ms", ms), ("antenna", antenna), ("logId", log_id)):
        if not _DIGITS.fullmatch(value):
            return rejected(f"{name} {value!r} is not a whole number")
    if int(ms) >= 1000:
        return rejected(f"ms {ms} out of range (0-999)")
    if not _NUMBER.fullmatch(rssi):
        return rejected(f"rssi {rssi!r} is not a number")
    if rewind not in ("0", "1"):
        return rejected(f"isRewind {rewind!r} is not 0 or 1")
    if not reader_no:
        return rejected("empty readerNo")
    try:
        time = ULTRA_EPOCH + timedelta(seconds=int(secs), milliseconds=int(ms))
    except OverflowError:
        return rejected(f"secs {secs} out of range")
    return Read(chip=chip, time=time, dated=True, reader=reader_no, antenna=int(antenna),
                rssi=float(rssi), sequence=int(log_id), line=line, raw=shown)


def plain_read(text: str, line: int = 0) -> Read | None:
    """`parse_line` for the common line (a read, no spaces around its fields), with one pattern
    instead of check after check; None for any other line, which then takes the full path. Same
    `Read` as `parse_line` (tests compare them)."""
    match = _PLAIN_READ.fullmatch(text)
    if match is None:
        return None
    chip, secs, ms, antenna, rssi, reader_no, log_id = match.groups()
    if chip == "Connected":  # `1,Connected,…`: a message, not a read
        return None
    try:
        time = ULTRA_EPOCH + timedelta(seconds=int(secs), milliseconds=int(ms))
    except OverflowError:
        return None
    return Read(chip=chip, time=time, dated=True, reader=reader_no, antenna=int(antenna),
                rssi=float(rssi), sequence=int(log_id), line=line, raw=text)


def is_skipped(text: str) -> bool:
    """Whether a line is one of the reader's non-read messages, skipped silently."""
    stripped = text.strip()
    if stripped.startswith(_SKIPPED_PREFIXES) or _CLOCK_REPLY.match(stripped):
        return True
    fields = stripped.split(",", 2)
    return len(fields) > 1 and fields[1] == "Connected"


def encode_ultra(chip: str, time: datetime, antenna: int = 1, rssi: int = -60,
                 reader_no: int = 1, log_id: int = 0, rewind: bool = False) -> bytes:
    """A read line as the reader sends it, LF-terminated (see the module docstring); `time` is
    the reader's naive local time, truncated to the millisecond, not before 1980."""
    if not chip or "," in chip or chip != chip.strip() or not chip.isprintable():
        raise ValueError(f"chip must be printable, non-empty, without commas or edge spaces: "
                         f"{chip!r}")
    if min(antenna, reader_no, log_id) < 0:
        raise ValueError("antenna, reader_no and log_id cannot be negative")
    offset = time - ULTRA_EPOCH
    if offset < timedelta(0):
        raise ValueError(f"time {time} is before the Ultra epoch 1980-01-01")
    secs = offset.days * 86_400 + offset.seconds
    flag = int(rewind)
    fields = (flag, chip, secs, offset.microseconds // 1000, antenna, rssi, flag, reader_no, 1,
              "0000000000000000", 0, log_id)
    return (",".join(str(field) for field in fields) + "\n").encode("ascii")
