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

Drift is how far the reader's clock has moved against the host's since the connection's first
measurement, judged at the reader's own `rate`: a clock that advances `rate` seconds per host
second (a simulator running the race at 10x) shows no drift while it keeps that rate; one that
gains a second a minute shows it. Each sample is taken as the offset less what the rate alone
accounts for since the connection's first sample, so at rate 1 it is the plain offset. An
estimate's baseline is the best one of the connection's first `BASELINE_MS` (the first reads
after a reconnect may be a rewind of stored reads, which arrive late). A reader at another rate
than 1 has no time of day to compare with the host's: only its drift is watched.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from readers.dialects import ReaderClock
from timing.reads import UNDATED_BASE, Read

DAY_MS = 86_400_000
ESTIMATE_WINDOW = 200
BASELINE_MS = 10_000
"""Estimates from reads: the drift baseline is the best estimate of a connection's first 10 s."""


class ClockWatch:
    def __init__(self, timezone: str, configured_offset_ms: int = 0,
                 limit_ms: int = 1000, rate: float = 1.0) -> None:
        self.zone = ZoneInfo(timezone)
        self.configured_offset_ms = configured_offset_ms
        self.limit_ms = limit_ms
        self.rate = rate
        """Reader seconds per host second the reader's clock is meant to run at."""
        self.offset_ms: int | None = None
        """The reader's clock minus the host's, latest measurement or estimate."""
        self.level_ms: int | None = None
        """The latest sample at the reader's rate (at rate 1: `offset_ms`)."""
        self.first_level_ms: int | None = None
        """This connection's baseline: drift is measured from it."""
        self.measured = False
        self._base_host_ms: int | None = None
        """Host time of this connection's first sample: the rate counts from it."""
        self._samples: deque[tuple[int, int]] = deque(maxlen=ESTIMATE_WINDOW)
        """(sample at the reader's rate, raw offset) of the recent reads."""

    def connected(self) -> None:
        """A new connection: its clock is measured afresh."""
        self.first_level_ms = None
        self._base_host_ms = None
        self._samples.clear()

    @property
    def drift_ms(self) -> int | None:
        if self.level_ms is None or self.first_level_ms is None:
            return None
        return self.level_ms - self.first_level_ms

    def reply(self, clock: ReaderClock, host_ms: int) -> None:
        if not self.measured:  # estimates made before the first reply are not a baseline
            self.first_level_ms = None
        self.measured = True
        offset = self._offset(clock.time, clock.dated, host_ms)
        self._record(self._at_rate(offset, host_ms), offset, host_ms)

    def reads(self, reads: list[Read], host_ms: int) -> None:
        """Estimate from live reads where the reader cannot be asked for its clock."""
        if self.measured or not reads:
            return
        for read in reads:
            offset = self._offset(read.time, read.dated, host_ms)
            self._samples.append((self._at_rate(offset, host_ms), offset))
        self._record(*max(self._samples), host_ms)

    def _at_rate(self, offset: int, host_ms: int) -> int:
        """`offset` less what the reader's rate alone makes of the time since the first sample."""
        if self._base_host_ms is None:
            self._base_host_ms = host_ms
        return offset - round((self.rate - 1) * (host_ms - self._base_host_ms))

    def _record(self, level: int, offset: int, host_ms: int) -> None:
        self.offset_ms = offset
        self.level_ms = level
        base = self._base_host_ms if self._base_host_ms is not None else host_ms
        if self.first_level_ms is None:
            self.first_level_ms = level
        elif not self.measured and host_ms - base < BASELINE_MS:
            self.first_level_ms = max(self.first_level_ms, level)

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

    @property
    def error_ms(self) -> int | None:
        """How far the reader's clock, with its configured clock_offset_s, is from the host's
        (None: not measured, or a reader at another rate, which has no time of day to compare)."""
        if self.offset_ms is None or self.rate != 1:
            return None
        return self.offset_ms + self.configured_offset_ms

    def offset_alarm(self) -> str | None:
        error = self.error_ms
        if error is None or self.offset_ms is None or abs(error) <= self.limit_ms:
            return None
        how = "measured" if self.measured else "estimated from reads"
        return (f"reader clock {shown_offset(self.offset_ms)} from the host's ({how}); with "
                f"its clock_offset_s it is still {shown_offset(error)} off")

    def drift_alarm(self) -> str | None:
        drift = self.drift_ms
        if drift is None or abs(drift) <= self.limit_ms:
            return None
        rate = "" if self.rate == 1 else f" (at its rate of {self.rate:g}x)"
        return f"reader clock drifted {shown_offset(drift)} since it connected{rate}"

    def alarm(self) -> str | None:
        """Both of the clock's alarms, as one text."""
        return "; ".join(text for text in (self.offset_alarm(), self.drift_alarm())
                         if text) or None


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
