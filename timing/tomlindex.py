"""Line numbers for keys of a TOML document, so errors in event.toml can say where they are.

`tomllib` reports syntax errors with a line, but a value that parses and is still wrong (a gun
of "9am", a reader on a point that does not exist) has no position once parsed. This scans the
text for table headers and `key =` lines and remembers where each key of each table instance
stands. It understands what event files use (tables, arrays of tables, dotted headers, plain
keys); for anything fancier it falls back to the table's header line, or to no line at all.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]
"""A location in the document: ("races", 0, "gun"), ("races", 1, "waves", 0, "id")."""

_HEADER = re.compile(
    r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"](?:[A-Za-z0-9_.\-\" ]*[A-Za-z0-9_.\-\"])?)\s*\]\]?\s*(#.*)?$")
"""A table header's name ends on a character that is not a space: so a long line that starts
with `[` and is no header fails in linear time (a lazy name before the spaces took quadratic
time)."""
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


class TomlIndex:
    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        counters: dict[tuple[str | int, ...], int] = {}
        table: Path = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                names = [part.strip().strip('"') for part in header.group(2).split(".")]
                table = self._resolve(names, header.group(1) == "[[", counters)
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((*table, key.group(1).strip('"')), number)

    def _resolve(self, names: list[str], is_array: bool,
                 counters: dict[tuple[str | int, ...], int]) -> Path:
        # Every parent that is an array of tables refers to its latest element.
        path: list[str | int] = []
        for depth, name in enumerate(names):
            path.append(name)
            last = depth == len(names) - 1
            key = tuple(path)
            if last and is_array:
                counters[key] = counters.get(key, -1) + 1
                # A new element starts fresh arrays below it.
                for other in [k for k in counters if k[:len(key)] == key and len(k) > len(key)]:
                    del counters[other]
                path.append(counters[key])
            elif key in counters:
                path.append(counters[key])
        return tuple(path)

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of the nearest enclosing table that has one."""
        probe = tuple(path)
        while probe:
            found = self._lines.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return None
