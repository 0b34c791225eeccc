"""A reader's clock against the host's: offset measured at connect, drift watched while running.

Reads are journaled with the reader's own time, untouched: the replay de-duplication keys on it,
and a rewind after a reconnect must give the same key as the live read did. So a measured offset
never rewrites reads; it is shown in the reader's health, and when the reader's clock, corrected
by the `clock_offset_s` configured for it (which scoring applies), is further from the host's
clock than the limit, the health carries an alarm: the timekeeper decides (set the reader's
clock, or its `clock_offset_s`).

Where the protocol can report the reader's clock (RACE RESULT `GETTIME`, Ultra `r`, IPICO
command 0x02), the offset is measured at connect and again every `check_s` seconds. Otherwise it
is estimated from live reads: reader time minus arrival time is the offset minus the delay, so the
largest value over the recent reads is the best estimate (stored reads sent late only lower it).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from readers.dialects import ReaderClock
from timing.reads import UNDATED_BASE, Read

DAY_MS = 86_400_000
ESTIMATE_WINDOW = 200


class ClockWatch:
    def __init__(self, timezone: str, configured_offset_ms: int = 0,
                 limit_ms: int = 1000) -> None:
        self.zone = ZoneInfo(timezone)
        self.configured_offset_ms = configured_offset_ms
        self.limit_ms = limit_ms
        self.offset_ms: int | None = None
        """The reader's clock minus the host's, latest measurement or estimate."""
        self.first_offset_ms: int | None = None
        """The first measurement of this connection: drift is measured from it."""
        self.measured = False
        self._samples: deque[int] = deque(maxlen=ESTIMATE_WINDOW)

    def connected(self) -> None:
        """A new connection: its clock is measured afresh."""
        self.first_offset_ms = None
        self._samples.clear()

    @property
    def drift_ms(self) -> int | None:
        if self.offset_ms is None or self.first_offset_ms is None:
            return None
        return self.offset_ms - self.first_offset_ms

    def reply(self, clock: ReaderClock, host_ms: int) -> None:
        self.measured = True
        self._record(self._offset(clock.time, clock.dated, host_ms))

    def reads(self, reads: list[Read], host_ms: int) -> None:
        """Estimate from live reads where the reader cannot be asked for its clock."""
        if self.measured or not reads:
            return
        for read in reads:
            self._samples.append(self._offset(read.time, read.dated, host_ms))
        self._record(max(self._samples))

    def _record(self, offset: int) -> None:
        self.offset_ms = offset
        if self.first_offset_ms is None:
            self.first_offset_ms = offset

    def _offset(self, reader_time: datetime, dated: bool, host_ms: int) -> int:
        if reader_time.tzinfo is not None:
            return _ms(reader_time) - host_ms
        if dated:
            return _ms(reader_time.replace(tzinfo=self.zone)) - host_ms
        # Undated: a time of day on the decoder's day N. Compare times of day, within ±12 h.
        of_day = (reader_time - UNDATED_BASE) % timedelta(days=1)
        host = datetime.fromtimestamp(host_ms / 1000, self.zone)
        host_of_day = host - host.replace(hour=0, minute=0, second=0, microsecond=0)
        difference = (of_day - host_of_day) // timedelta(milliseconds=1)
        return (difference + DAY_MS // 2) % DAY_MS - DAY_MS // 2

    def alarm(self) -> str | None:
        if self.offset_ms is None:
            return None
        error = self.offset_ms + self.configured_offset_ms
        how = "measured" if self.measured else "estimated from reads"
        if abs(error) > self.limit_ms:
            return (f"reader clock {shown_offset(self.offset_ms)} from the host's ({how}); with "
                    f"its clock_offset_s it is still {shown_offset(error)} off")
        drift = self.drift_ms
        if drift is not None and abs(drift) > self.limit_ms:
            return f"reader clock drifted {shown_offset(drift)} since it connected"
        return None


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def shown_offset(ms: int) -> str:
    """A clock difference for people: `+1.250 s`, `-2 h 05 min 03.100 s`, `-199 d 07 h 27 min`."""
    sign = "-" if ms < 0 else "+"
    rest = abs(ms)
    if rest < 60_000:
        return f"{sign}{rest / 1000:.3f} s"
    days, rest = divmod(rest, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    if days:
        return f"{sign}{days} d {hours:02d} h {minutes:02d} min"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min {rest / 1000:06.3f} s"
    return f"{sign}{minutes} min {rest / 1000:06.3f} s"


__all__ = ["ClockWatch", "shown_offset"]
