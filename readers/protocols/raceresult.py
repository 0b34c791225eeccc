"""RACE RESULT decoder protocol (TCP port 3601 or RS232): ASCII lines, fields split by `;`.

Sources (facts only, no code taken): raceresult.com knowledge base articles 19 (the decoder's
TCP/IP protocol: session commands and their replies) and 487 (the passing record); ndf-zz/metarace
`decoder/rrs.py` (which replies a real session carries, `#P;` push lines, ISO-8859-1 text);
CrossMgr `RaceResultImport.py` (fields by position, the 8-field example below; it cannot read a
`0000-00-00` date, which this parser must); `PROTOCOLS.md` in the shared reader notes.

Passing records (article 487), read by position:

    PassingNo;Bib/TranspCode;Date;Time;EventID;Hits;MaxRSSI;InternalData;IsActive;Channel;
    LoopID;LoopOnly;WakeupCounter;Battery;Temperature;InternalActiveData;BoxName;FileNumber;
    MaxRSSIAntenna;BoxId

- Protocol 1.6 and later send all 20 fields (empty where not applicable).
- Older protocols send the first six (1.0), MaxRSSI from 1.1, an optional InternalData, IsActive
  from 1.4 and an optional group of seven active-transponder fields: 6, 7, 8, 9, 15 or 16 fields.
  Only the first seven are common to all of those, so only they are read; any other field count
  is a corrupt line.
- A pushed passing (`SETPUSHPASSINGS;1;0`) is the same record prefixed with `#P;`.

What a `Read` gets: `chip` = the transponder code exactly as written (EventID is not folded in:
that is a bib-set matter for scoring, not the wire's); `sequence` = PassingNo; `rssi` = MaxRSSI
as a number, except for active transponders (IsActive = 1 in a 20-field line), whose MaxRSSI is a
coded hex byte, not dBm, and for values that are not numbers (both give None: a passing is never
lost over an auxiliary field); `antenna` = MaxRSSIAntenna when present and numeric; `reader` =
BoxName (20-field lines only). Date `YYYY-MM-DD` with time `hh:mm:ss.kkk` is the decoder's local
wall clock (GPS or SETTIME); date `0000-00-DD` means the decoder never learnt the date, and the
time is DD days plus a time of day since it started: an undated read (SCORING.md, "Reader
files"). Fewer than three fraction digits, or none, are accepted; so are up to six.

Skipped silently, because a decoder session carries them and they are not passings:
- replies that echo their command name as the first field, e.g. `SETPROTOCOL;2.0`,
  `GETPROTOCOL;1.0;2.0;3.2`, `STARTOPERATION;OK;0000-00-00;00:00:00.000`, `STOPOPERATION;OK`,
  `GETTIME;2026-05-10;09:00:00.000`, `SETTIME;…`, `PASSINGS;17` (or `PASSINGS;17;3` with the
  file number), `GETSTATUS;…`, `GETCONFIG;…`, `SETPUSHPASSINGS;1;0`, `SETPUSHPREWARNS;0`,
  `GETINTERFACES;…`, `CLEARFILES;…`: any first field made of upper-case words;
- `ONLY 5` (fewer passings left than a `<start>:<count>` fetch asked for);
- a bare passing count (`17`, older firmware's reply to `PASSINGS`);
- empty lines (the end of a `<start>:<count>` fetch) and whitespace-only lines;
- pushed messages other than passings (any line starting with `#` but not `#P;`).

A line that looks like a passing (digits then `;`, or `#P;`) but cannot be read is `Rejected`
with the reason; anything else is rejected as "not a RACE RESULT record".

metarace decodes the stream as ISO-8859-1: a BoxName with a non-ASCII letter is not valid UTF-8,
so a line the line framer could not decode is read here as Latin-1 instead of being rejected
(unless it holds control characters: binary noise).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from readers.protocols.base import MAX_LINE_BYTES, LineFramer, undecodable
from timing.reads import Read, Record, Rejected, undated_time

PUSHED_PREFIX = "#P;"

FIELD_COUNT_CURRENT = 20
"""Protocol 1.6 and later."""
FIELD_COUNTS_OLDER = frozenset({6, 7, 8, 9, 15, 16})
"""Protocols 1.0 to 1.5, depending on version and on which optional field groups are sent."""

# Positions in the record (article 487).
PASSING_NO, CHIP, DATE, TIME, EVENT_ID, HITS, MAX_RSSI, INTERNAL_DATA, IS_ACTIVE = range(9)
BOX_NAME, FILE_NUMBER, MAX_RSSI_ANTENNA, BOX_ID = 16, 17, 18, 19

_PASSING_LIKE = re.compile(r"\d+;", re.ASCII)
_BARE_COUNT = re.compile(r"\d+", re.ASCII)
_COMMAND_REPLY = re.compile(r"[A-Z][A-Z0-9_]*(?: [A-Z0-9_]+)*", re.ASCII)
_UNDATED = re.compile(r"0000-00-(\d{2})", re.ASCII)
_DATED = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME_OF_DAY = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?", re.ASCII)
_INTEGER = re.compile(r"-?\d+", re.ASCII)
_PLAIN_PASSING = re.compile(
    r"([0-9]+);([^;\s]+);([0-9]{4})-([0-9]{2})-([0-9]{2});([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?;[^;]*;[^;]*;(-?[0-9]+);[^;]*;0;[^;]*;[^;]*;[^;]*;[^;]*;[^;]*;[^;]*;"
    r"[^;]*;([^;\s]+);[^;]*;([0-9]+);[^;]*", re.ASCII)
"""The common line: a dated 20-field passive-transponder passing without spaces in its fields."""
_CONTROL_CHARACTER = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
"""Bytes no text line holds: a line with one is binary noise, not Latin-1 text."""


class RaceResultParser:
    """Sans-IO parser for a RACE RESULT decoder's output (see the module docstring)."""

    def __init__(self) -> None:
        self._framer = LineFramer()

    def feed(self, data: bytes) -> list[Record]:
        return _records(self._framer.feed(data))

    def close(self) -> list[Record]:
        return _records(self._framer.close())


def _records(lines: Iterable[tuple[int, str | None, bytes]]) -> list[Record]:
    records: list[Record] = []
    for line_number, text, raw in lines:
        if text is None:
            if len(raw) > MAX_LINE_BYTES or _CONTROL_CHARACTER.search(raw):
                records.append(undecodable(line_number, raw))
                continue
            text = raw.decode("latin-1")  # the decoder's own encoding (see above)
        else:
            read = plain_passing(line_number, text)
            if read is not None:
                records.append(read)
                continue
        record = parse_line(line_number, text)
        if record is not None:
            records.append(record)
    return records


def parse_line(line_number: int, text: str) -> Record | None:
    """One line (without its line ending) as a record, or None for a line that is skipped."""
    line = text.strip()
    if line.startswith(PUSHED_PREFIX):
        return _passing(line_number, text, line[len(PUSHED_PREFIX):])
    if not line or line.startswith("#"):
        return None
    if _PASSING_LIKE.match(line):
        return _passing(line_number, text, line)
    if _BARE_COUNT.fullmatch(line) or _COMMAND_REPLY.fullmatch(line.split(";", 1)[0]):
        return None
    return Rejected(raw=text, reason="not a RACE RESULT record", line=line_number)


def _passing(line_number: int, raw: str, record: str) -> Record:
    def rejected(reason: str) -> Rejected:
        return Rejected(raw=raw, reason=reason, line=line_number)

    fields = record.split(";")
    count = len(fields)
    if count != FIELD_COUNT_CURRENT and count not in FIELD_COUNTS_OLDER:
        return rejected(f"passing has {count} fields; expected 20 (protocol 1.6 and later) "
                        f"or 6 to 9, 15 or 16 (older protocols)")
    if not fields[PASSING_NO].isascii() or not fields[PASSING_NO].isdigit():
        return rejected(f"passing number {fields[PASSING_NO]!r} is not a number")
    chip = fields[CHIP].strip()
    if not chip:
        return rejected("passing has an empty transponder code")
    time_of_day = _time_of_day(fields[TIME])
    if time_of_day is None:
        return rejected(f"bad passing time {fields[TIME]!r} (expected hh:mm:ss.kkk)")

    undated = _UNDATED.fullmatch(fields[DATE])
    if undated:
        when = undated_time(int(undated.group(1)), time_of_day)
    else:
        day = _date(fields[DATE])
        if day is None:
            return rejected(f"bad passing date {fields[DATE]!r} (expected yyyy-MM-dd "
                            f"or 0000-00-0N)")
        when = datetime(day.year, day.month, day.day) + time_of_day

    current = count == FIELD_COUNT_CURRENT
    active = current and fields[IS_ACTIVE].strip() == "1"
    return Read(
        chip=chip,
        time=when,
        dated=not undated,
        reader=(fields[BOX_NAME].strip() or None) if current else None,
        antenna=_integer(fields[MAX_RSSI_ANTENNA]) if current else None,
        rssi=None if active or count <= MAX_RSSI else _number(fields[MAX_RSSI]),
        sequence=int(fields[PASSING_NO]),
        line=line_number,
        raw=raw,
    )


def plain_passing(line_number: int, text: str) -> Read | None:
    """`parse_line` for the common line (a dated 20-field passing of a passive transponder,
    no spaces in its fields), with one pattern instead of check after check; None for any other
    line, which then takes the full path. Same `Read` as `parse_line` (tests compare them)."""
    match = _PLAIN_PASSING.fullmatch(text)
    if match is None:
        return None
    (number, chip, year, month, day, hours, minutes, seconds, fraction, rssi, box,
     antenna) = match.groups()
    if year == "0000":  # undated: the full path reads it
        return None
    hour, minute, second = int(hours), int(minutes), int(seconds)
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        when = datetime(int(year), int(month), int(day), hour, minute, second,
                        int(fraction.ljust(6, "0")) if fraction else 0)
    except ValueError:
        return None
    return Read(chip=chip, time=when, dated=True, reader=box, antenna=int(antenna),
                rssi=float(rssi), sequence=int(number), line=line_number, raw=text)


def _time_of_day(text: str) -> timedelta | None:
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = (int(group) for group in match.group(1, 2, 3))
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    fraction = match.group(4) or ""
    microseconds = int(fraction.ljust(6, "0")) if fraction else 0
    return timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=microseconds)


def _date(text: str) -> date | None:
    match = _DATED.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(*(int(group) for group in match.group(1, 2, 3)))
    except ValueError:  # month 13, 30 February, year 0
        return None


def _integer(text: str) -> int | None:
    text = text.strip()
    return int(text) if _INTEGER.fullmatch(text) else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def encode_raceresult(
    passing_no: int,
    chip: str,
    time: datetime,
    *,
    dated: bool = True,
    day_offset: int = 0,
    hits: int = 12,
    rssi: int = -68,
    twenty_fields: bool = True,
    pushed: bool = False,
    box_name: str = "A-1234",
    antenna: int = 1,
    event_id: int = 0,
) -> bytes:
    """One passing line as a decoder sends it, CRLF-terminated (for example generators and
    reader simulators).

    `time` is a naive local wall-clock time; it is written to the millisecond (truncated), as the
    decoder does. `dated=False` writes only its time of day, under date `0000-00-DD` with
    DD = `day_offset` (a decoder without GPS or SETTIME). `twenty_fields=False` writes the 8-field
    protocol 1.1 record (no box name, no antenna); otherwise a passive-transponder 20-field record
    with the given `box_name`, `antenna` (MaxRSSIAntenna), file number 1 and box id 1.
    `pushed=True` prefixes `#P;` as in push mode. Raises ValueError for values the wire cannot
    carry (an aware time, a chip or box name containing `;` or a line break, a day offset
    outside 0..99).
    """
    if time.tzinfo is not None:
        raise ValueError("RACE RESULT times are local wall-clock times: pass a naive datetime")
    for name, text in (("chip", chip), ("box_name", box_name)):
        if not text or any(character in text for character in ";\r\n"):
            raise ValueError(f"{name} {text!r} cannot be written in a RACE RESULT record")
    if not 0 <= day_offset <= 99:
        raise ValueError(f"day offset {day_offset} is outside 0..99")
    day = time.strftime("%Y-%m-%d") if dated else f"0000-00-{day_offset:02d}"
    clock = f"{time:%H:%M:%S}.{time.microsecond // 1000:03d}"
    internal_data = f"{passing_no & 0xFFFFFF:06x}"
    fields = [str(passing_no), chip, day, clock, str(event_id), str(hits), str(rssi),
              internal_data]
    if twenty_fields:
        # IsActive=0 (passive); the active-transponder fields stay empty.
        fields += ["0", "", "", "", "", "", "", "", box_name, "1", str(antenna), "1"]
    line = ";".join(fields)
    return ((PUSHED_PREFIX if pushed else "") + line + "\r\n").encode("latin-1")


__all__ = ["RaceResultParser", "encode_raceresult", "parse_line"]
