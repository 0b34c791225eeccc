"""Times a timekeeper types (a gun's time of day, a stopwatch reading) and the time of day an
instant shows at the event (pure: no I/O).

Each parser answers the value or a problem in words (None for the value then), so that the API
can refuse the field by name (422) instead of guessing.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

# [0-9], not \d: \d takes any script's digits (Arabic-Indic ones too), which int() reads.
_TIME_OF_DAY = re.compile(r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,3}))?")
_STOPWATCH = re.compile(r"(?:([0-9]{1,2}):)?([0-9]{1,3}):([0-9]{2})(?:\.([0-9]{1,3}))?")
_FRACTION_HELP = "at most 3 digits after the point"


def parse_time_of_day(text: str) -> tuple[time | None, str | None]:
    """`"09:00:00"`, `"9:00:00.25"` -> (the time, None); otherwise (None, what is wrong)."""
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if match is None:
        return None, f"{text!r} is no time of day: write HH:MM:SS or HH:MM:SS.f ({_FRACTION_HELP})"
    hours, minutes, seconds = (int(part) for part in match.groups()[:3])
    if hours > 23 or minutes > 59 or seconds > 59:
        return None, f"{text!r} is no time of day: hours 0-23, minutes and seconds 0-59"
    return time(hours, minutes, seconds, _millis(match.group(4)) * 1000), None


def parse_stopwatch(text: str) -> tuple[int | None, str | None]:
    """A stopwatch reading `"[H:]MM:SS[.f]"` -> (ms, None); otherwise (None, what is wrong).
    Without hours the minutes may pass 59 (`"75:30"`), as some stopwatches show them."""
    match = _STOPWATCH.fullmatch(text.strip())
    if match is None:
        return None, (f"{text!r} is no stopwatch reading: write MM:SS, H:MM:SS or either with "
                      f".f ({_FRACTION_HELP})")
    hours_text, minutes_text, seconds_text, fraction = match.groups()
    minutes, seconds = int(minutes_text), int(seconds_text)
    if seconds > 59 or (hours_text is not None and minutes > 59):
        return None, f"{text!r} is no stopwatch reading: seconds (and minutes after hours) 0-59"
    hours = int(hours_text or 0)
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + _millis(fraction), None


def time_of_day_text(epoch_ms: int, zone: ZoneInfo) -> str:
    """The event-local time of day of an instant, `HH:MM:SS.f` (tenths cut, not rounded, as a
    clock shows them)."""
    # Whole seconds and tenths from the integer: ms / 1000 as a float can be a hair below.
    moment = datetime.fromtimestamp(epoch_ms // 1000, zone)
    tenths = (epoch_ms % 1000) // 100
    return f"{moment:%H:%M:%S}.{tenths}"


def _millis(fraction: str | None) -> int:
    return int((fraction or "0").ljust(3, "0"))
