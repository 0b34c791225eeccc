"""Places without storing them: sorted ranking times per race, gender and category.

A finisher's place is 1 + the number of finishers with a strictly smaller ranking time, found
by bisection. That gives shared places on ties and skips the places after them (1, 2, 2, 4),
and a new finisher renumbers nobody.
"""

from __future__ import annotations

from bisect import bisect_left, insort

RankKey = tuple[str, str, str]
"""(race id, dimension, value): dimension "" overall, "gender" or "category"."""


def rank_keys(race: str, gender: str, category: str) -> tuple[RankKey, ...]:
    """The groups a finisher is placed in."""
    if category:
        return ((race, "", ""), (race, "gender", gender), (race, "category", category))
    return ((race, "", ""), (race, "gender", gender))


class Places:
    def __init__(self) -> None:
        self._ranks: dict[RankKey, list[int]] = {}

    def move(self, old_ms: int | None, old_keys: tuple[RankKey, ...], new_ms: int | None,
             new_keys: tuple[RankKey, ...]) -> None:
        """A finisher's ranking time or groups changed (None: not a finisher)."""
        if old_ms is not None:
            for key in old_keys:
                ranks = self._ranks[key]
                del ranks[bisect_left(ranks, old_ms)]
        if new_ms is not None:
            for key in new_keys:
                insort(self._ranks.setdefault(key, []), new_ms)

    def place(self, key: RankKey, rank_ms: int) -> int:
        return bisect_left(self._ranks.get(key, []), rank_ms) + 1
