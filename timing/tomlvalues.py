"""Typed, range-checked access to a parsed event.toml, each mistake kept with its line.

`timing.eventfile` builds the event from these accessors: every number comes back finite and in
its range, every text within its length and free of control characters, or the mistake is
recorded (key and line) and a harmless default is returned, so that one pass finds every
mistake in the file and nothing out of range reaches the core, a database column or a page
(docs/scoring.md, "Limits").
"""

from __future__ import annotations

import math
import re
import reprlib
from datetime import datetime, time
from typing import Any, cast

from timing.limits import DAY_MS
from timing.model import Problem
from timing.text import control_character, describe, isolate_bidi
from timing.tomlindex import Path, TomlIndex

TEXT_MAX = 1_000_000
LINE_MAX = 4096
"""event.toml's size and longest line: a real one is a few kilobytes. Beyond them the text is
refused before it is parsed, so that no file can keep the parser busy (nor `timing.tomlindex`,
whose header pattern takes quadratic time on a long line starting with `[` that is no header)."""

_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")
_DURATION = re.compile(r"(?:(\d+):)?([0-5]?\d):([0-5]\d(?:\.\d{1,3})?)")
_DURATION_MAX = 32
"""A course record written longer than this is no time under a day (and its hours must not
reach `int()`'s limit of 4,300 digits)."""
SHOWN_MAX = 60
"""How much of a wrong value a message quotes: a 5,000-character value must not make a
5,000-character message (or terminal line)."""

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = SHOWN_MAX
_REPR.maxlevel = 3  # TOML's dotted keys can nest a value thousands of tables deep


def shown(value: object) -> str:
    """`repr(value)` for a message: control characters escaped, long values cut short."""
    text = _REPR.repr(value)
    if isinstance(value, str) and len(value) > SHOWN_MAX:
        text += f" ({len(value)} characters)"
    return text


def oversized(text: str) -> tuple[int | None, str] | None:
    """(line, why) when event.toml is longer than any real one (see `TEXT_MAX`), else None."""
    if len(text) > TEXT_MAX:
        return None, f"longer than {TEXT_MAX} characters ({len(text)}): not an event.toml"
    if len(text) > LINE_MAX:  # a short text cannot hold a long line
        for number, line in enumerate(text.splitlines(), start=1):
            if len(line) > LINE_MAX:
                return number, f"line longer than {LINE_MAX} characters ({len(line)})"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class TomlValues:
    """The document, its line index and the mistakes found so far."""

    def __init__(self, document: dict[str, Any], index: TomlIndex, file_name: str) -> None:
        self.document = document
        self.index = index
        self.file_name = file_name
        self.problems: list[Problem] = []

    def fail(self, path: Path, message: str) -> None:
        where = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in path)
        where = where.replace(".[", "[")
        self.problems.append(Problem(self.file_name, self.index.line(path), f"{where}: {message}"))

    def table(self, path: Path, optional: bool = False) -> dict[str, Any]:
        value = self.document.get(cast(str, path[0]))
        if value is None:
            if not optional:
                self.fail(path, "missing table")
            return {}
        if not isinstance(value, dict):
            self.fail(path, "must be a table")
            return {}
        return value

    def array(self, key: str) -> list[dict[str, Any]]:
        value = self.document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail((key,), f"must be an array of tables ([[{key}]])")
            return []
        return value

    def text(self, path: Path, value: object, required: bool = False, default: str = "") -> str:
        if value is None:
            if required:
                self.fail(path, "missing")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(path, f"must be a non-empty string, not {shown(value)}")
            return default
        return value

    def limited(self, path: Path, value: object, max_length: int, *, free: bool,
                required: bool = False, default: str = "") -> str:
        """A string of at most `max_length` characters: free text (names) may hold bidi
        formatting, which is isolated so it cannot leak into the page around it; anything else
        (ids, zones, paths) holds printable characters only. Neither holds a control character:
        in event.toml that is a mistake to fix, not something to guess around."""
        text = self.text(path, value, required=required, default=default)
        if not isinstance(value, str) or text != value:
            return text  # missing or not a string: reported (if required) by `text`
        if free:
            text = isolate_bidi(text)
        if len(text) > max_length:
            self.fail(path, f"must be at most {max_length} characters, not {len(text)}: "
                            f"{shown(text)}")
            return default
        char = control_character(text, free=free)
        if char is not None:
            self.fail(path, f"holds the control character {describe(char)}: {shown(text)}"
                      if free else f"may hold printable characters only, not "
                                   f"{describe(char)}: {shown(text)}")
            return default
        return text

    def number(self, path: Path, value: object, default: float | None,
               minimum: float = 0.0, maximum: float = math.inf) -> float | None:
        """A finite number in [minimum, maximum]. Whole numbers are compared as they are: a
        TOML integer can have hundreds of digits, more than a float can hold."""
        if value is None:
            return default
        if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)) \
                or not minimum <= cast(float, value) <= maximum:
            self.fail(path, f"must be a number {_range(minimum, maximum)}, not {shown(value)}")
            return default
        return float(cast(float, value))

    def whole(self, path: Path, value: object, default: int, minimum: int,
              maximum: int) -> int:
        """A whole number in [minimum, maximum] (a bool is not one, although Python says so)."""
        if isinstance(value, bool) or not isinstance(value, int) \
                or not minimum <= value <= maximum:
            self.fail(path, f"must be a whole number from {minimum} to {maximum}, "
                            f"not {shown(value)}")
            return default
        return value

    def ident(self, path: Path, value: object, seen: set[str], max_length: int) -> str:
        identifier = self.limited(path, value, max_length, free=False, required=True)
        if identifier in seen and identifier:
            self.fail(path, f"id {shown(identifier)} is used twice")
        seen.add(identifier)
        return identifier

    def duration(self, path: Path, value: object) -> int | None:
        """A time like the results show it ("6:40", "1:02:03.4"), or seconds; in ms. A course
        record is a positive time under a day."""
        if value is None:
            return None
        ms: int | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Compared before rounding: a huge or infinite number has no ms to round to.
            ms = round(value * 1000) if 0 < value < DAY_MS / 1000 else None
        elif isinstance(value, str) and len(value) <= _DURATION_MAX:
            match = _DURATION.fullmatch(value)
            if match is not None:
                hours, minutes, seconds = match.groups()
                ms = round((int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)
        if ms is None or not 0 < ms < DAY_MS:
            self.fail(path, f"must be a time under a day like \"6:40\" or \"1:02:03.4\" (or "
                            f"seconds), not {shown(value)}")
            return None
        return ms


def _range(minimum: float, maximum: float) -> str:
    if maximum == math.inf:
        return f">= {minimum:g}"
    return f"from {minimum:g} to {maximum:g}"


def parse_local_time(value: object) -> time | datetime | None:
    """A gun or manual time: a time of day (`09:00`, `09:00:00.25`, TOML local time) or a
    local date and time (`2026-05-10T09:00:00`, `2026-05-10 09:00:00`, TOML datetime)."""
    if isinstance(value, datetime | time):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _TIME_OF_DAY.match(text)
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        seconds = int(match.group(3) or 0)
        micros = int((match.group(4) or "0").ljust(6, "0"))
        if hours > 23 or minutes > 59 or seconds > 59:
            return None
        return time(hours, minutes, seconds, micros)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
