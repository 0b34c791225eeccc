"""What a status or a penalty would change, computed without changing anything, and without a
copy of the standings (the timekeeper's dry run: a copy of 50,000 athletes and their reads took
20 s and more).

Such an adjustment changes one athlete: their status, times and ranking time. Everybody else
keeps their own, and only their places can move: a place is 1 + the number of finishers of the
group with a smaller ranking time (`timing.places`), so the athlete leaving a group, joining
it, or moving within it shifts by one the place of exactly the finishers of that group ranked
behind them before or after, not both. Those are found here from the live places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from timing.athlete_state import AthleteState
from timing.model import Athlete, Status
from timing.places import RankKey
from timing.results import result_order

Placer = Callable[[RankKey, int], int]
"""The place of a ranking time (ms) in a group: 1 + the number of finishers there faster."""


class Placing(NamedTuple):
    """An athlete's places (overall, gender, category: None when not placed), status and
    ranking time (ms: their gun or chip time as the race ranks, penalties included)."""

    place: int | None
    gender_place: int | None
    category_place: int | None
    status: Status
    time_ms: int | None = None


class Change(NamedTuple):
    athlete: Athlete
    before: Placing
    after: Placing


def changes(before: AthleteState, after: AthleteState, race: Iterable[AthleteState],
            place: Placer) -> list[Change]:
    """What would change if the athlete `before` (as the standings hold them, placed by
    `place`) became `after` (a re-derived copy): their placing and that of each finisher of
    `race` whose place would move, in results order after; unchanged placings are left out."""
    old_ms, old_groups = before.rank_ms, frozenset(before.rank_groups)
    new_ms, new_groups = after.rank_ms, frozenset(after.rank_groups)

    def behind_old(key: RankKey, ms: int) -> int:
        """1 if a finisher at `ms` in the group `key` is behind the athlete now, else 0."""
        return int(old_ms is not None and old_ms < ms and key in old_groups)

    # The live places count the athlete's old ranking time, which is gone after the change.
    found = [Change(before.athlete, placing(before, place),
                    placing(after, lambda key, ms: place(key, ms) - behind_old(key, ms)))]
    if (old_ms, old_groups) != (new_ms, new_groups):
        # Only finishers behind the athlete's old or new time can move.
        low = min(ms for ms in (old_ms, new_ms) if ms is not None)
        for state in race:
            ms = state.rank_ms
            if ms is None or ms <= low or state is before:
                continue
            # behind_new - behind_old per group, unrolled: this loop may run 50,000 times.
            was = old_ms is not None and old_ms < ms
            will = new_ms is not None and new_ms < ms
            shifts = [(will and key in new_groups) - (was and key in old_groups)
                      for key in state.rank_groups]
            if any(shifts):
                now = [place(key, ms) for key in state.rank_groups]
                moved = [now_place + shift for now_place, shift in zip(now, shifts, strict=True)]
                found.append(Change(state.athlete, _placing(now, state.status, ms),
                                    _placing(moved, state.status, ms)))
    return sorted((change for change in found if change.before != change.after),
                  key=lambda change: result_order(change.after.place, change.after.status,
                                                  change.athlete.bib))


def placing(state: AthleteState, place: Placer) -> Placing:
    ms = state.rank_ms
    if ms is None:
        return Placing(None, None, None, state.status)
    return _placing([place(key, ms) for key in state.rank_groups], state.status, ms)


def _placing(places: list[int], status: Status, ms: int) -> Placing:
    # A finisher's groups are overall, gender and, when they have one, category
    # (`timing.places.rank_keys`).
    return Placing(places[0], places[1], places[2] if len(places) > 2 else None, status, ms)

