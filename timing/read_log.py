"""The standings' record of reads, kept as arrays of machine integers (pure, no I/O).

The standings keep every read twice: once by the identity it names (chip or bib: `ReadLog`),
so that reads can move between athletes, and once as a time in the sorted times of the athlete
who has it at that point (`times_of`). Both grow by one entry per read, millions in a big race.
As Python lists of tuples and ints, every garbage collection that reached those lists visited
every read in them, and a full collection grew with the whole race. An `array` holds its
numbers unboxed and the collector visits it as one object. It also takes 8 bytes per entry
instead of about 90 (a pointer, a tuple and an int): the 4M-read rebuild peaked at 1,320 MB
instead of 1,708 MB. (The middle-generation pauses under load shrank less than hoped, 48-54 to
42-47 ms: docs/performance.md.)
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

POINT_BITS = 12
"""A logged read is `ms << POINT_BITS | point number`: up to 4,096 points in an event."""
_POINT_MASK = (1 << POINT_BITS) - 1


def times_of(values: Iterable[int] = ()) -> array[int]:
    """Sorted times (ms since 1970 UTC) of an athlete's reads at one point: `array("q")`."""
    return array("q", values)


class ReadLog:
    """Identity (chip in lower case, or bib) -> every read of it: (point id, ms), in the order
    the reads came."""

    __slots__ = ("_codes", "_points", "_reads")

    def __init__(self) -> None:
        self._reads: dict[str, array[int]] = {}
        self._codes: dict[str, int] = {}
        """Point id -> its number in a logged read."""
        self._points: list[str] = []
        """Point number -> point id."""

    def add(self, key: str, point: str, ms: int) -> None:
        code = self._codes.get(point)
        if code is None:
            code = self._number(point)
        logged = self._reads.get(key)
        if logged is None:
            self._reads[key] = array("q", (ms << POINT_BITS | code,))
        else:
            logged.append(ms << POINT_BITS | code)

    def remove(self, key: str, point: str, ms: int) -> bool:
        """Forget one read of `key` (one, if there are several alike); False if there is none."""
        code = self._codes.get(point)
        logged = self._reads.get(key)
        if code is None or logged is None:
            return False
        try:
            logged.remove(ms << POINT_BITS | code)
        except ValueError:
            return False
        return True

    def has(self, key: str, point: str, ms: int) -> bool:
        """Whether `key` has a read at `point` at `ms`."""
        code = self._codes.get(point)
        logged = self._reads.get(key)
        return code is not None and logged is not None and (ms << POINT_BITS | code) in logged

    def reads(self, key: str) -> Iterator[tuple[str, int]]:
        """(point id, ms) of every read of `key`."""
        points = self._points
        for value in self._reads.get(key, ()):
            yield points[value & _POINT_MASK], value >> POINT_BITS

    def counts(self) -> Iterator[tuple[str, int]]:
        """(identity, number of reads) of every identity with reads."""
        for key, logged in self._reads.items():
            if logged:
                yield key, len(logged)

    def _number(self, point: str) -> int:
        if len(self._points) > _POINT_MASK:
            raise ValueError(f"more than {_POINT_MASK + 1} timing points in one event")
        self._codes[point] = len(self._points)
        self._points.append(point)
        return self._codes[point]
