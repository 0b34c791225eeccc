"""IPICO Lite / Elite tag reads (`aa` lines), as sent over serial or TCP port 10000.

Wire format (36 characters, lowercase ASCII hex, CRLF):

    aa RR TTTTTTTTTTTT IIQQ YYMMDD HHMMSS cc LL

`RR` reader id, `T…` tag id, `IIQQ` I/Q channel counters, date and time in decimal digits,
`cc` the hundredths of a second in **hex** (`5f` = 0.95 s), `LL` the LRC: low byte of the sum of
the ASCII codes of every character between the `aa` header and the LRC itself (characters
2..33). With TTO reporting on, three more hex bytes (index, page, status) come before the LRC
(42 characters); the LRC then covers characters 2..39, i.e. still "everything between header and
LRC", as rusty-timer's parser and its TTO tests compute it. Status bit 7 is first-seen, bit 6
last-seen, 0xff tamper. IPICO software exports may append `FS` / `LS`.

Choices:
- `antenna` is None: `IIQQ` counts how often the tag was decoded on each receive channel; it is
  not a port. A multi-mat box tells its mats apart by `RR`, which becomes `Read.reader`.
- The TTO first/last-seen flags are checked (hex) but not kept: `Read` has no field for them,
  and the scoring rules collapse the repeated event-mode reads anyway.
- Control frames (`ab`/`ac`), the startup banner and an Elite's `date.…` clock reply share the
  stream or a recording of it and are skipped silently; other text is rejected as "not an IPICO
  record".

Sources: IPICO Reader Serial Protocol 1.00 (2007); iwismer/rusty-timer
`docs/ipico-protocol/ipico-control-protocol.md` and `crates/ipico-core/src/read.rs` (TTO layout,
LRC range, FS/LS suffix); grecaun/chronokeep-windows `IpicoInterface.cs` (FS/LS suffix, Elite
`date.` replies); the capture
`ipico-lite-testreads.txt` (4116 lines from an IPICO Lite).
"""

from __future__ import annotations

import re
from datetime import datetime

from readers.protocols.base import LineFramer, undecodable
from timing.reads import Read, Record, Rejected

PLAIN_LENGTH = 36
TTO_LENGTH = 42
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_EXPORT_SUFFIXES = ("FS", "LS")
_CONTROL_PREFIXES = ("ab", "ac")
# The banner printed at power-up or on command 0x37, e.g. "ARM9 Controller for DF Dual DSP TTO
# Actel FPGA (STK Lite) (38.4kB) v1.4 Jun  5 2013 14:16:40 (RWXLF)".
_BANNER = re.compile(r"\bController\b")
_PLAIN_READ = re.compile(
    r"aa([0-9a-f]{2})([0-9a-f]{12})[0-9a-f]{4}([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})"
    r"([0-9]{2})([0-9a-f]{2})([0-9a-f]{2})", re.ASCII)
"""The common line: a plain 36-character read in lower case with nothing around it."""


def lrc(body: str) -> int:
    """The IPICO checksum of `body`: the low byte of the sum of its ASCII codes."""
    return sum(body.encode("ascii")) & 0xFF


class IpicoParser:
    """Sans-IO parser for IPICO `aa` read lines (see the module docstring for format and
    sources)."""

    def __init__(self) -> None:
        self._framer = LineFramer()

    def feed(self, data: bytes) -> list[Record]:
        records: list[Record] = []
        for number, text, raw in self._framer.feed(data):
            read = None if text is None else plain_read(text, number)
            if read is not None:
                records.append(read)
            elif self._is_record(text):
                records.append(self._record(number, text, raw))
        return records

    def close(self) -> list[Record]:
        return [self._record(number, text, raw) for number, text, raw in self._framer.close()
                if self._is_record(text)]

    @staticmethod
    def _is_record(text: str | None) -> bool:
        if text is None:
            return True  # undecodable: reported
        stripped = text.strip()
        if stripped.startswith(_CONTROL_PREFIXES):
            # A control frame is hex throughout; "about…" is garbage, not a frame.
            return not set(stripped) <= _HEX_DIGITS
        return not (stripped.startswith("date.") or _BANNER.search(stripped))

    @staticmethod
    def _record(number: int, text: str | None, raw: bytes) -> Record:
        if text is None:
            return undecodable(number, raw)
        return parse_line(text, number)


def parse_line(text: str, line: int = 0) -> Record:
    """One `aa` line (without its line ending) as a `Read`, or a `Rejected` saying why not."""
    shown = text.strip()

    def rejected(reason: str) -> Rejected:
        return Rejected(raw=shown, reason=reason, line=line)

    if not shown.startswith("aa"):
        return rejected("not an IPICO record")
    record = shown
    if record.endswith(_EXPORT_SUFFIXES):
        record = record[:-2].rstrip()
    if len(record) not in (PLAIN_LENGTH, TTO_LENGTH):
        return rejected(f"bad length {len(record)} (expected {PLAIN_LENGTH}, "
                        f"or {TTO_LENGTH} with TTO)")
    bad = sorted({char for char in record if char not in _HEX_DIGITS})
    if bad:
        return rejected(f"non-hex characters {''.join(bad)!r}")
    expected = lrc(record[2:-2])
    if int(record[-2:], 16) != expected:
        return rejected(f"bad LRC {record[-2:]} (computed {expected:02x})")

    date_time = record[20:32]
    if not date_time.isdigit():  # only 0-9 remain possible after the hex check
        return rejected(f"date/time {date_time} is not decimal")
    hundredths = int(record[32:34], 16)
    if hundredths >= 100:
        return rejected(f"hundredths {record[32:34]} (= {hundredths}) out of range")
    year, month, day, hour, minute, second = (
        int(date_time[index:index + 2]) for index in range(0, 12, 2))
    try:
        time = datetime(2000 + year, month, day, hour, minute, second, hundredths * 10_000)
    except ValueError:
        return rejected(f"impossible date/time {date_time[:6]} {date_time[6:]}")
    return Read(chip=record[4:16].lower(), time=time, dated=True, reader=record[2:4].lower(),
                line=line, raw=shown)


def plain_read(text: str, line: int = 0) -> Read | None:
    """`parse_line` for the common line (a plain read, lower case, no spaces around), with one
    pattern instead of check after check; None for any other line, which then takes the full
    path (and gets its reason if it is bad). Same `Read` as `parse_line` (tests compare them)."""
    match = _PLAIN_READ.fullmatch(text)
    if match is None:
        return None
    reader, chip, year, month, day, hour, minute, second, hundredths, check = match.groups()
    if int(check, 16) != sum(text[2:34].encode("ascii")) & 0xFF:
        return None
    centis = int(hundredths, 16)
    if centis >= 100:
        return None
    try:
        time = datetime(2000 + int(year), int(month), int(day), int(hour), int(minute),
                        int(second), centis * 10_000)
    except ValueError:
        return None
    return Read(chip=chip, time=time, dated=True, reader=reader, line=line, raw=text)


def encode_ipico(chip: str, time: datetime, reader_id: str = "00",
                 counters: str = "0001") -> bytes:
    """A valid CRLF-terminated 36-character `aa` line for a read of `chip` at `time` (naive local
    time, years 2000-2099; hundredths truncated). For examples, simulators and tests."""
    fields = {"chip": (chip, 12), "reader_id": (reader_id, 2), "counters": (counters, 4)}
    for name, (value, width) in fields.items():
        if len(value) != width or not set(value) <= _HEX_DIGITS:
            raise ValueError(f"{name} must be {width} hex digits, got {value!r}")
    if not 2000 <= time.year <= 2099:
        raise ValueError(f"IPICO dates carry no century: year {time.year} not in 2000-2099")
    body = (f"{reader_id}{chip}{counters}".lower() + time.strftime("%y%m%d%H%M%S")
            + f"{time.microsecond // 10_000:02x}")
    return f"aa{body}{lrc(body):02x}\r\n".encode("ascii")
