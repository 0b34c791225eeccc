"""The result side of the live standings (`timing.standings.Standings` derives from
`StandingsResults`): places, an athlete's timeline and result row, the whole result table, and
what a status or penalty would change (the dry run). Reads only; every answer is as of the
reads fed so far (`settle` first).
"""

from __future__ import annotations

from timing import gun_preview, what_if
from timing.athlete_state import AthleteState, derive
from timing.model import Adjustment, Event, Race
from timing.places import Places
from timing.read_log import times_of
from timing.results import ResultRow, sort_rows
from timing.rules import first_passing, passings


class StandingsResults:
    event: Event
    _states: dict[str, AthleteState]
    """Bib -> the athlete's state (kept by `Standings`)."""
    _places: Places
    _races: dict[str, Race]
    """Race id -> the race with its current guns (kept by `Standings`)."""

    def settle(self) -> None:
        """Bring every athlete up to date (`Standings.settle`)."""
        raise NotImplementedError

    def passing_count(self) -> int:
        """Passings of every athlete at every point of their race, all laps counted."""
        self.settle()
        total = 0
        for state in self._states.values():
            gun = state.gun_ms()
            if gun is None:
                continue
            race = state.race
            for point in race.points:
                times = state.times.get(point)
                if times:
                    total += len(passings(times, gun, race.min_lap_ms, len(times)))
        return total

    def place(self, race_id: str, rank_ms: int, dimension: str = "", value: str = "") -> int:
        """The place a finisher with `rank_ms` holds: 1 + the number strictly faster."""
        return self._places.place((race_id, dimension, value), rank_ms)

    def timeline(self, bib: str) -> tuple[int | None, tuple[int, ...]]:
        """(the ranking origin of `bib`: their gun, or their chip start when the race ranks by
        chip time; None before the gun), and their finish passings (ms since 1970 UTC). Splits
        are measured from that origin; lap times are the gaps between the passings."""
        self.settle()
        state = self._states[bib]
        origin = state.gun_ms() if state.race.rank_by == "gun" else state.chip_start_ms
        return origin, tuple(state.finish_passings)

    def chosen_passings(self, bib: str) -> dict[str, tuple[int, ...]]:
        """Point -> the times (ms since 1970 UTC) the results use there for `bib`: the start,
        each split's first passing, every finish passing (laps); nothing before the gun."""
        self.settle()
        state = self._states[bib]
        gun = state.gun_ms()
        if gun is None:
            return {}
        race = state.race
        chosen: dict[str, tuple[int, ...]] = {race.finish_point: tuple(state.finish_passings)}
        firsts = [point for point in (race.start_point, *race.split_points) if point]
        for point in firsts:
            first = first_passing(state.times.get(point, ()), gun)
            if first is not None:
                chosen[point] = (first,)
        return chosen

    def result(self, bib: str) -> ResultRow:
        self.settle()
        state = self._states[bib]
        athlete = state.athlete
        race_id = state.race.id
        place = gender_place = category_place = None
        if state.rank_ms is not None:
            place = self.place(race_id, state.rank_ms)
            gender_place = self.place(race_id, state.rank_ms, "gender", athlete.gender)
            if athlete.category:
                category_place = self.place(race_id, state.rank_ms, "category",
                                            athlete.category)
        return ResultRow(
            race=race_id, place=place, bib=athlete.bib, first_name=athlete.first_name,
            last_name=athlete.last_name, gender=athlete.gender, gender_place=gender_place,
            category=athlete.category, category_place=category_place, status=state.status,
            gun_ms=state.gun_time_ms, chip_ms=state.chip_time_ms, laps=state.laps,
            splits=state.splits, precision_ms=state.race.precision_ms,
            adjustments=tuple(state.adjustments), club=athlete.club,
        )

    def preview_adjustment(self, bib: str, adjustment: Adjustment | None
                           ) -> list[what_if.Change]:
        """What `apply_adjustment(adjustment)` (None: `clear_status(bib)`) would do, doing
        nothing: each athlete of `bib`'s race whose place or status would change, before and
        after, in results order after (`timing.what_if`)."""
        self.settle()
        state = self._states[bib]
        trial = state.copy()
        if adjustment is None:
            trial.status_override = None
        else:
            trial.adjust(adjustment)
        derive(trial)
        race = state.race.id
        return what_if.changes(state, trial, (other for other in self._states.values()
                                              if other.race.id == race), self._places.place)

    def preview_gun(self, race_id: str, gun_ms: int | None, wave_id: str | None = None
                    ) -> gun_preview.GunPreview:
        """What `set_gun(race_id, gun_ms, wave_id)` would do, doing nothing: the athletes of
        the race whose place or status would change (`timing.gun_preview`)."""
        self.settle()
        return gun_preview.gun_changes(
            (state for state in self._states.values() if state.race.id == race_id),
            self._races[race_id], wave_id, gun_ms, self._places.place)

    def preview_times(self, bib: str, point: str, *, remove_ms: int | None = None,
                      add_ms: int | None = None) -> list[what_if.Change]:
        """What taking the time `remove_ms` away from `bib` at `point` and/or giving them
        `add_ms` there would do (a read voided or given to them), doing nothing: as
        `preview_adjustment`."""
        self.settle()
        state = self._states[bib]
        trial = state.copy()
        times = list(state.times.get(point, ()))
        if remove_ms is not None:
            times.remove(remove_ms)
        if add_ms is not None:
            times.append(add_ms)
        trial.times = {**state.times, point: times_of(sorted(times))}
        if not times:
            del trial.times[point]
        derive(trial)
        race = state.race.id
        return what_if.changes(state, trial, (other for other in self._states.values()
                                              if other.race.id == race), self._places.place)

    def results(self, race_id: str | None = None) -> list[ResultRow]:
        """Result rows in SCORING.md order: race by race, finishers by place, then the rest."""
        self.settle()
        rows = [self.result(bib) for bib, state in self._states.items()
                if race_id is None or state.race.id == race_id]
        race_order = {race.id: index for index, race in enumerate(self.event.races)}
        return sort_rows(rows, race_order)
