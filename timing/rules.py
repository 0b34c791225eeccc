"""The rules of SCORING.md as small pure functions: passings, categories, display of times.

Passings at one point are derived from the sorted times of every read of an athlete there (all
readers of the point, all chips, manual entries): reads before the gun are ignored, the first
read is a passing, and a later read is a new passing only at least `min_lap_ms` after the last
passing (otherwise it is a duplicate of it).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Sequence
from datetime import date


def first_passing(times: Sequence[int], gun_ms: int) -> int | None:
    """The first passing at a point: the first read at or after the gun."""
    index = bisect_left(times, gun_ms)
    return times[index] if index < len(times) else None


def passings(times: Sequence[int], gun_ms: int, min_lap_ms: int, limit: int) -> list[int]:
    """Up to `limit` passings from sorted read times (SCORING.md, Passings 2 and 3): the first
    read at or after the gun, then each read later than the last passing by at least
    `min_lap_ms`."""
    found: list[int] = []
    index = bisect_left(times, gun_ms)
    if index == len(times) or limit <= 0:
        return found
    last = times[index]
    found.append(last)
    for moment in times[index + 1:]:
        if len(found) >= limit:
            break
        # "A later read": one at the very same millisecond (main and backup line, a reader
        # re-sending a read) is the same passing even when min_lap_ms is 0.
        if moment > last and moment - last >= min_lap_ms:
            found.append(moment)
            last = moment
    return found


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on `day`."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def category_for(gender: str, birth_date: date | None, event_date: date,
                 age_bounds: tuple[int, ...]) -> str:
    """`{gender}{lo}-{hi-1}` for the age group holding the age on the event day, the last group
    open (`M70+`). Empty without a birth date, without bounds, or below the lowest bound."""
    if birth_date is None or not age_bounds:
        return ""
    age = age_on(birth_date, event_date)
    if age < age_bounds[0]:
        return ""
    for low, high in itertools.pairwise(age_bounds):
        if low <= age < high:
            return f"{gender}{low}-{high - 1}"
    return f"{gender}{age_bounds[-1]}+"


def round_up(ms: int, precision_ms: int) -> int:
    """Round a duration up to the race precision (World Athletics TR 19: road times are rounded
    up to the next whole second, so 6:39.001 shows as 6:40)."""
    return -((-ms) // precision_ms) * precision_ms


def format_duration(ms: int, precision_ms: int) -> str:
    """`[H:]M:SS[.f]` after rounding up: `6:40`, `1:02:03`, `6:39.4`, `6:39.42`."""
    rounded = round_up(ms, precision_ms)
    sign = "-" if rounded < 0 else ""
    rounded = abs(rounded)
    seconds, millis = divmod(rounded, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    if precision_ms < 1000:
        digits = {100: 1, 10: 2, 1: 3}[precision_ms]
        text += "." + f"{millis:03d}"[:digits]
    return sign + text



def bib_order(bib: str) -> tuple[int, int, str]:
    """Sort key for bibs: numbers in numeric order first, then other bibs as text."""
    stripped = bib.strip()
    if stripped.isdigit():
        return (0, int(stripped), stripped)
    return (1, 0, stripped)
