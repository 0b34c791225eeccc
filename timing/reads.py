"""What a reader reports: a read of a chip (or of a bib, for manual entry), or a rejected record.

These two small frozen records are the only thing the reader parsers (`readers/`) and the scoring
core (`timing/`) have to agree on, so they live in a module of their own that imports nothing.

Reader clocks come in three kinds, and a `Read` keeps the kind instead of guessing an instant:
- naive `time`, `dated=True`: the reader's local wall clock (IPICO, Ultra, a dated RACE RESULT
  passing). The event's timezone turns it into an instant.
- aware `time`: an absolute instant (MYLAPS P3 reports UTC microseconds since 1970).
- `dated=False`: the reader knows only a time of day and a day count (RACE RESULT `0000-00-0N`,
  a manual entry `HH:MM:SS`). `time` is then `UNDATED_BASE + N days + time of day`; scoring
  places it on the event date (SCORING.md, "Reader files").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

UNDATED_BASE = datetime(2000, 1, 1)
"""The nominal day 0 of undated reads; only differences from it carry meaning."""


def undated_time(day_offset: int, time_of_day: timedelta) -> datetime:
    """The `Read.time` of an undated read: `day_offset` days plus a time of day."""
    return UNDATED_BASE + timedelta(days=day_offset) + time_of_day


@dataclass(frozen=True, slots=True)
class Read:
    """One read, as the reader reported it (no clock offset applied, no event context)."""

    chip: str
    """Chip code as written by the reader; empty for a manual entry by bib."""
    time: datetime
    dated: bool = True
    bib: str | None = None
    """Set for manual entries, which name the athlete by bib instead of by chip."""
    reader: str | None = None
    """The device's own identifier where the format carries one (IPICO reader id, Ultra reader
    number, RACE RESULT box name, P3 decoder id)."""
    antenna: int | None = None
    rssi: float | None = None
    sequence: int | None = None
    """The reader's own record number (Ultra log id, RACE RESULT passing number, P3 passing
    number): what a rewind resumes from and what replay de-duplication keys on."""
    line: int = 0
    """1-based record number in the stream fed to the parser (a line, or a P3 frame)."""
    raw: str = ""
    """The record as received, without its line ending (hex for binary formats)."""

    @property
    def day_offset(self) -> int:
        """For an undated read, the number of days after the reader's day 0."""
        return (self.time - UNDATED_BASE).days


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be turned into a read, and why. Never silently dropped."""

    raw: str
    reason: str
    line: int = 0


Record = Read | Rejected
