"""The ranges values must fall in to enter Gambero (pure: no I/O).

Every time, offset, count and length that comes in (the API, event.toml, participants.csv,
adjustments.csv, a reader) is checked against these at the edge, so that nothing the core
stores can overflow an integer, a column or a page. docs/scoring.md ("Limits") lists them for
operators; a value out of range is refused with the field named (the API answers 422), reported
at its line (the event files), or journaled as a rejected read (a reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from timing.reads import UNDATED_BASE, Read

DAY_MS = 86_400_000

WINDOW_DAYS = 7
"""Times (guns, reads, hand times) must fall within this many days of the event date, either
side, unless event.toml widens it on purpose (`[event] window_days`, a multi-day event)."""
WINDOW_DAYS_MAX = 366

CLOCK_OFFSET_MAX_MS = DAY_MS
"""A reader's clock offset is at most a day either way: a clock further off is set wrong."""
PENALTY_MAX_MS = DAY_MS
"""A penalty is under a day."""

BIB_MAX = 32
CHIP_MAX = 64
DEVICE_MAX = 64
"""The longest bib, chip code and device id the journal keeps (its column sizes)."""
ID_MAX = 64
"""Ids of races, waves, points and readers (their columns)."""
NAME_MAX = 200
"""First and last names, clubs, race and event names (their columns)."""
CATEGORY_MAX = 64
REASON_MAX = 500
"""The reason a timekeeper gives for an action."""
LINE_MAX = 4096
"""The longest reader line a parser keeps (`readers.protocols.base`)."""

LAPS_MAX = 1000
DISTANCE_MAX_M = 1_000_000.0
AGE_MAX = 150
BAUD_MAX = 4_000_000

EARLIEST_MS = (datetime(1, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
    milliseconds=1)
LATEST_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
             - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
"""The instants a date can show (years 1 to 9999). Nothing out of this range reaches the
standings, whatever an old journal holds: it is quarantined instead."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The instants an event's times may take: local midnight `days` days before the event
    date to local midnight `days` days after it (exclusive), in the event's timezone."""

    first_ms: int
    end_ms: int
    first_day: date
    last_day: date
    _local: tuple[datetime, datetime]
    _utc: tuple[datetime, datetime]
    _undated: tuple[datetime, datetime]

    @classmethod
    def around(cls, event_date: date, timezone: str, days: int = WINDOW_DAYS) -> TimeWindow:
        zone = ZoneInfo(timezone)
        first_day = event_date - timedelta(days=days)
        end_day = event_date + timedelta(days=days + 1)
        local = (datetime.combine(first_day, time()), datetime.combine(end_day, time()))
        utc = (local[0].replace(tzinfo=zone).astimezone(UTC),
               local[1].replace(tzinfo=zone).astimezone(UTC))
        undated = (UNDATED_BASE - timedelta(days=days), UNDATED_BASE + timedelta(days=days + 1))
        one_ms = timedelta(milliseconds=1)
        return cls((utc[0] - _EPOCH) // one_ms, (utc[1] - _EPOCH) // one_ms, first_day,
                   end_day - timedelta(days=1), local, utc, undated)

    def __str__(self) -> str:
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"

    def contains_ms(self, ms: int) -> bool:
        return self.first_ms <= ms < self.end_ms

    def refuses_ms(self, value: object, what: str = "time_ms") -> str | None:
        """Why `value` is no instant (ms since 1970 UTC) of this event, or None."""
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{what} must be a whole number of ms since 1970 UTC, not {value!r}"
        if not self.contains_ms(value):
            return (f"{what} {value} is not within the event's days ({self}): "
                    f"{shown_instant(value)}")
        return None

    def refuses_read(self, read: Read) -> str | None:
        """Why a reader's time cannot be the event's (a clock set wrong), or None. Compares
        the read's own time with bounds made once: the ingest path runs it for every read."""
        moment = read.time
        if moment.tzinfo is not None:
            first, end = self._utc
        elif read.dated:
            first, end = self._local
        else:
            first, end = self._undated
        if first <= moment < end:
            return None
        shown = (f"day {read.day_offset} {moment.time().isoformat()}" if not read.dated
                 else moment.isoformat())
        return (f"reader time {shown} is not within the event's days ({self}): check the "
                "reader's clock")


def shown_instant(ms: int) -> str:
    """An instant as UTC text, or what it is when no date can show it."""
    if not EARLIEST_MS <= ms <= LATEST_MS:
        return "no date can show it"
    moment = _EPOCH + timedelta(milliseconds=ms)
    return f"{moment.date().isoformat()} {moment.time().isoformat(timespec='seconds')} UTC"


def clock_offset_problem(offset_ms: object) -> str | None:
    """Why `offset_ms` cannot be a reader's clock offset, or None."""
    if isinstance(offset_ms, bool) or not isinstance(offset_ms, int):
        return f"clock offset must be a whole number of ms, not {offset_ms!r}"
    if abs(offset_ms) > CLOCK_OFFSET_MAX_MS:
        return (f"clock offset {offset_ms / 1000:g} s is more than a day "
                f"({CLOCK_OFFSET_MAX_MS // 1000} s): set the reader's clock instead")
    return None
