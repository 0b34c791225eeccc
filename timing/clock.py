"""Turning reader and gun times into instants (integer ms since 1970 UTC) for one event.

Reader clocks carry no zone: they run on the event's local wall clock (SCORING.md), so a naive
time is read in the event timezone. Undated reads are placed on the event date. Conversions are
on the hot path of scoring (one per read), so the zone offset is cached per local hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from timing.reads import UNDATED_BASE, Read

_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_HOUR_MS = 3_600_000


class EventClock:
    def __init__(self, event_date: date, timezone: str) -> None:
        self.event_date = event_date
        self.zone = ZoneInfo(timezone)
        self._offset_by_local_hour: dict[int, int] = {}
        midnight = datetime.combine(event_date, time())
        # Undated reads: day 0 of the reader is the event date.
        self._undated_shift_ms = (midnight - UNDATED_BASE) // _ONE_MS
        self._event_midnight_ms = (midnight - _EPOCH_NAIVE) // _ONE_MS

    def local_ms(self, local: datetime) -> int:
        """A naive local wall-clock time as ms since 1970 UTC."""
        wall_ms = (local - _EPOCH_NAIVE) // _ONE_MS
        return wall_ms - self._utc_offset_ms(wall_ms)

    def read_ms(self, read: Read) -> int:
        """The instant of a read as the reader reported it (clock offset not yet applied)."""
        moment = read.time
        if moment.tzinfo is not None:
            return (moment - _EPOCH_UTC) // _ONE_MS
        wall_ms = (moment - _EPOCH_NAIVE) // _ONE_MS
        if not read.dated:
            wall_ms += self._undated_shift_ms
        return wall_ms - self._utc_offset_ms(wall_ms)

    def stored_ms(self, micros: int, clock: str) -> int:
        """`read_ms` for a reader time as the journal stores it (`timing.entries.encode_time`):
        microseconds since 1970 ("local", "utc") or since the undated day 0 ("undated")."""
        ms = micros // 1000
        if clock == "utc":
            return ms
        if clock == "undated":  # micros since the reader's day 0, which is the event date
            ms += self._event_midnight_ms
        return ms - self._utc_offset_ms(ms)

    def time_of_day_ms(self, time_of_day: time) -> int:
        """A local time of day on the event date."""
        return self.local_ms(datetime.combine(self.event_date, time_of_day))

    def _utc_offset_ms(self, wall_ms: int) -> int:
        hour = wall_ms // _HOUR_MS
        offset = self._offset_by_local_hour.get(hour)
        if offset is None:
            wall = _EPOCH_NAIVE + timedelta(milliseconds=hour * _HOUR_MS)
            # fold=0: an ambiguous wall time (the repeated hour when clocks go back) is taken as
            # its first occurrence; races are not held across a DST change in practice.
            utc_offset = wall.replace(tzinfo=self.zone).utcoffset()
            offset = 0 if utc_offset is None else utc_offset // _ONE_MS
            self._offset_by_local_hour[hour] = offset
        return offset
