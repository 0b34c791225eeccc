"""What a status or a penalty would change, computed without changing anything, and without a
copy of the standings (the timekeeper's dry run: a copy of 50,000 athletes and their reads took
seconds).

Such an adjustment changes one athlete: their status, times and ranking time. Everybody else
keeps their own, and only their places can move: a place is 1 + the number of finishers of the
group with a smaller ranking time (`timing.places`), so the athlete leaving a group, joining
it, or moving within it shifts by one the place of exactly the finishers of that group ranked
behind them before or after. Those are counted here from the live places.
"""

from __future__ import annotations

from collections.abc import Iterable

from timing.athlete_state import AthleteState, Placer, state_row
from timing.places import RankKey
from timing.results import ResultRow, sort_rows

Change = tuple[ResultRow, ResultRow]
"""(row before, row after)."""


def changes(before: AthleteState, after: AthleteState, race: Iterable[AthleteState],
            place: Placer) -> list[Change]:
    """The rows that would change if the athlete `before` (as the standings hold them, placed
    by `place`) became `after` (a re-derived copy): theirs, then those of the finishers of
    `race` whose place would move, all in results order after the change."""
    old_ms, old_groups = before.rank_ms, frozenset(before.rank_groups)
    new_ms, new_groups = after.rank_ms, frozenset(after.rank_groups)

    def placed_without_old(key: RankKey, ms: int) -> int:
        # The live places count the athlete's old ranking time: not there any more after.
        return place(key, ms) - (old_ms is not None and old_ms < ms and key in old_groups)

    found = {after.athlete.bib: (state_row(before, place), state_row(after, placed_without_old))}
    if (old_ms, old_groups) != (new_ms, new_groups):
        for state in _moved(before, race, old_ms, old_groups, new_ms, new_groups):
            row = state_row(state, place)
            moved = state_row(state, lambda key, ms: placed_without_old(key, ms) + (
                new_ms is not None and new_ms < ms and key in new_groups))
            found[state.athlete.bib] = (row, moved)
    order = sort_rows((pair[1] for pair in found.values()), {before.race.id: 0})
    return [found[row.bib] for row in order]


def _moved(athlete: AthleteState, race: Iterable[AthleteState], old_ms: int | None,
           old_groups: frozenset[RankKey], new_ms: int | None,
           new_groups: frozenset[RankKey]) -> list[AthleteState]:
    """The finishers of `race` (not `athlete`) whose place in one of their groups would move:
    ranked behind the athlete's old time in a group they leave, or behind the new one in a
    group they join, but not both."""
    low = min(ms for ms in (old_ms, new_ms) if ms is not None) if (old_ms, new_ms) != (
        None, None) else None
    if low is None:
        return []
    moved = []
    for state in race:
        ms = state.rank_ms
        if ms is None or ms <= low or state is athlete:
            continue
        for key in state.rank_groups:
            was_behind = old_ms is not None and old_ms < ms and key in old_groups
            is_behind = new_ms is not None and new_ms < ms and key in new_groups
            if was_behind != is_behind:
                moved.append(state)
                break
    return moved
