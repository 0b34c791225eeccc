"""Manual entries: a timekeeper's reads by bib, as CSV (Gambero's own `manual` format).

    bib,time
    101,09:15:02.250
    102,2025-05-04 09:15:03

The first non-empty line is the header; it must name a `bib` and a `time` column (any order, any
case, other columns ignored; a UTF-8 byte order mark and spaces around names are tolerated). A
`time` is a local time of day `H[H]:MM:SS[.f…]` (up to milliseconds), giving an undated read on
day 0, or a full local date and time `YYYY-MM-DD[T ]HH:MM:SS[.f…]`, giving a dated naive read.

Header handling: if the first non-empty line is not a usable header it is rejected with the
reason, and every row after it is rejected too ("no valid header"), since without the header
no column can be trusted. A later line repeating the header (files joined together) is skipped.
Rows are one line each: a quoted field cannot span lines.

Source: SCORING.md, "Reader files" (`manual`); CSV quoting as Python's `csv` module reads it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from readers.protocols.base import LineFramer, undecodable
from timing.reads import Read, Record, Rejected, undated_time

HEADER = ("bib", "time")
_BOM = "\ufeff"
_TIME_OF_DAY = re.compile(r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,3}))?")
_DATE_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ](.+)")


class ManualParser:
    """Sans-IO parser for manual entry CSV (see the module docstring for format and choices)."""

    def __init__(self) -> None:
        self._framer = LineFramer()
        self._first_line = True
        self._header: list[str] | None = None
        self._columns: tuple[int, int] | None = None
        """Indexes of bib and time; None until a valid header, and for good after a bad one."""

    def feed(self, data: bytes) -> list[Record]:
        return self._records(self._framer.feed(data))

    def close(self) -> list[Record]:
        return self._records(self._framer.close())

    def _records(self, lines: Iterable[tuple[int, str | None, bytes]]) -> list[Record]:
        records: list[Record] = []
        for number, text, raw in lines:
            record = self._line(number, text, raw)
            if record is not None:
                records.append(record)
        return records

    def _line(self, number: int, text: str | None, raw: bytes) -> Record | None:
        if self._first_line:
            self._first_line = False
            if text is not None:
                text = text.removeprefix(_BOM)
                if not text.strip():
                    self._first_line = True  # a lone BOM: the header is still to come
                    return None
                return self._read_header(number, text)
        if text is None:
            return undecodable(number, raw)
        if self._columns is None:
            return Rejected(raw=text.strip(), reason="no valid header (need bib,time)",
                            line=number)
        cells = _cells(text)
        if [cell.lower() for cell in cells] == self._header:
            return None
        return self._row(number, text, cells, self._columns, len(self._header or ()))

    def _read_header(self, number: int, text: str) -> Rejected | None:
        names = [cell.lower() for cell in _cells(text)]
        missing = [name for name in HEADER if name not in names]
        duplicated = sorted({name for name in HEADER if names.count(name) > 1})
        if missing or duplicated:
            problem = (f"missing column {' and '.join(missing)}" if missing
                       else f"duplicated column {' and '.join(duplicated)}")
            return Rejected(raw=text.strip(), line=number,
                            reason=f"bad header ({problem}): the first line must be bib,time")
        self._header = names
        self._columns = (names.index("bib"), names.index("time"))
        return None

    @staticmethod
    def _row(number: int, text: str, cells: list[str], columns: tuple[int, int],
             width: int) -> Record:
        shown = text.strip()

        def rejected(reason: str) -> Rejected:
            return Rejected(raw=shown, reason=reason, line=number)

        if len(cells) != width:
            return rejected(f"{len(cells)} columns, the header has {width}")
        bib, written = cells[columns[0]], cells[columns[1]]
        if not bib:
            return rejected("missing bib")
        if any(unicodedata.category(char) == "Cc" for char in bib):
            return rejected("bib contains control characters")
        parsed = parse_time(written)
        if isinstance(parsed, str):
            return rejected(parsed)
        if isinstance(parsed, datetime):
            return Read(chip="", bib=bib, time=parsed, dated=True, line=number, raw=shown)
        return Read(chip="", bib=bib, time=undated_time(0, parsed), dated=False, line=number,
                    raw=shown)


def _cells(text: str) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([text]), [])]


def parse_time(written: str) -> timedelta | datetime | str:
    """A time of day (as a timedelta from midnight) or a naive local datetime; or, if `written`
    is neither, the reason as a string."""
    if not written:
        return "missing time"
    date_time = _DATE_TIME.fullmatch(written)
    clock = date_time.group(4) if date_time else written
    time_of_day = _TIME_OF_DAY.fullmatch(clock)
    if time_of_day is None:
        return f"time {written!r} is not HH:MM:SS[.fff] or YYYY-MM-DD HH:MM:SS[.fff]"
    hour, minute, second = (int(part) for part in time_of_day.group(1, 2, 3))
    millisecond = int((time_of_day.group(4) or "0").ljust(3, "0"))
    if hour > 23 or minute > 59 or second > 59:
        return f"time {written!r} does not exist"
    if date_time is None:
        return timedelta(hours=hour, minutes=minute, seconds=second, milliseconds=millisecond)
    year, month, day = (int(part) for part in date_time.group(1, 2, 3))
    try:
        return datetime(year, month, day, hour, minute, second, millisecond * 1000)
    except ValueError:
        return f"date {written!r} does not exist"


def encode_manual_header() -> bytes:
    """The header line of a manual entry file."""
    return (",".join(HEADER) + "\n").encode("utf-8")


def encode_manual(bib: str, time_of_day: time | datetime | str) -> bytes:
    """One manual entry row. A `time` is written `HH:MM:SS.fff`, a `datetime` as
    `YYYY-MM-DD HH:MM:SS.fff` (both truncated to the millisecond); a string goes as given."""
    if not bib.strip() or any(char in bib for char in ',"\r\n'):
        raise ValueError(f"bib must be non-empty, without commas, quotes or newlines: {bib!r}")
    if not isinstance(time_of_day, str) and time_of_day.tzinfo is not None:
        raise ValueError("manual entries are local times: give a naive time")
    if isinstance(time_of_day, datetime):
        written = time_of_day.isoformat(sep=" ", timespec="milliseconds")
    elif isinstance(time_of_day, time):
        written = time_of_day.isoformat(timespec="milliseconds")
    else:
        written = time_of_day
    return f"{bib},{written}\n".encode()
