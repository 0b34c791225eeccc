"""What moving a gun would change (the timekeeper's dry run of a gun), computed without touching
the standings and without a copy of them.

Unlike a status or a penalty (`timing.what_if`), which moves one athlete, a gun moves everyone
who starts with it: a whole race, or one wave (and, for a race's gun, every wave that has no
gun of its own). Only those athletes are copied (`AthleteState.copy`: their read times are
shared, not copied) and re-derived with the new gun; everyone else of the race keeps their
own result. The race's places are then counted afresh among its finishers, as `timing.places`
counts them: 1 + the number of finishers of the group strictly faster.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import replace
from typing import NamedTuple

from timing.athlete_state import AthleteState, derive
from timing.model import Race
from timing.places import RankKey
from timing.results import result_order
from timing.what_if import Change, Placer, placing


class GunPreview(NamedTuple):
    changes: list[Change]
    """The athletes whose place or status changes (each `Placing` with the ranking time
    before and after), in results order after."""
    retimed: int
    """Athletes whose result (status, gun time, chip time, laps or splits) changes, placed
    differently or not: a gun moved for a whole race changes every time and no place."""


def with_gun(race: Race, wave: str | None, gun_ms: int | None) -> Race:
    """`race` with its gun (`wave` None) or one wave's gun set to `gun_ms`; KeyError for a
    wave the race does not have."""
    if wave is None:
        return replace(race, gun_ms=gun_ms)
    if race.wave(wave) is None:
        raise KeyError(f"race {race.id} has no wave {wave}")
    return replace(race, waves=tuple(replace(item, gun_ms=gun_ms) if item.id == wave else item
                                     for item in race.waves))


def gun_changes(members: Iterable[AthleteState], race: Race, wave: str | None,
                gun_ms: int | None, place: Placer) -> GunPreview:
    """What setting the gun of `race` (or of its `wave`) to `gun_ms` would change for
    `members`, the states of every athlete of the race as the standings hold them (placed by
    `place`, the live places). `race` is the race as it is now, with its current guns."""
    moved_race = with_gun(race, wave, gun_ms)
    pairs: list[tuple[AthleteState, AthleteState]] = []
    retimed = 0
    for state in members:
        wave_id = state.athlete.wave
        if moved_race.gun_for(wave_id) == race.gun_for(wave_id):
            pairs.append((state, state))
            continue
        trial = state.copy()
        trial.race = moved_race
        # `derive` compares against the copied derived fields: True when the result changes.
        retimed += derive(trial)
        pairs.append((state, trial))
    if all(before is after for before, after in pairs):
        return GunPreview([], 0)  # nobody starts with that gun, or it is where it was

    ranks: dict[RankKey, list[int]] = {}
    for _, after in pairs:
        ms = after.rank_ms
        if ms is not None:
            for key in after.rank_groups:
                group = ranks.get(key)
                if group is None:
                    ranks[key] = [ms]
                else:
                    group.append(ms)
    for group in ranks.values():
        group.sort()

    def new_place(key: RankKey, ms: int) -> int:
        return bisect_left(ranks[key], ms) + 1

    changes: list[Change] = []
    for before, after in pairs:
        if before.rank_ms is None and after is before:
            continue  # not a finisher, not moved: nothing of theirs can change
        old, new = placing(before, place), placing(after, new_place)
        # Places and status only: a gun moved for a whole wave changes every time in it
        # (counted in `retimed`), and listing them all would bury the places that move.
        if old[:4] != new[:4]:
            changes.append(Change(before.athlete, old, new))
    changes.sort(key=lambda change: result_order(change.after.place, change.after.status,
                                                 change.athlete.bib))
    return GunPreview(changes, retimed)
