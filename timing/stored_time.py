"""A read's own time as the journal stores it: integer microseconds and a clock kind, exactly
reversible (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from timing.reads import UNDATED_BASE, Read

ClockKind = Literal["local", "utc", "undated"]
"""How a stored reader time is to be read back (see `timing.reads`)."""

_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def encode_time(read: Read) -> tuple[int, ClockKind]:
    """A read's own time as (integer microseconds, kind), exactly reversible by `decode_time`."""
    moment = read.time
    if moment.tzinfo is not None:
        return (moment - _EPOCH_UTC) // _ONE_US, "utc"
    if not read.dated:
        return (moment - UNDATED_BASE) // _ONE_US, "undated"
    return (moment - _EPOCH_NAIVE) // _ONE_US, "local"


def decode_time(micros: int, kind: str) -> tuple[datetime, bool]:
    """(`Read.time`, `Read.dated`) from what `encode_time` gave."""
    if kind == "utc":
        return _EPOCH_UTC + timedelta(microseconds=micros), True
    if kind == "undated":
        return UNDATED_BASE + timedelta(microseconds=micros), False
    return _EPOCH_NAIVE + timedelta(microseconds=micros), True
