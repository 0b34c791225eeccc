"""Live standings: reads in, results out, one read at a time or in bulk, with the same answer.

Each athlete keeps the sorted times of every read at every point (all chips, all readers of the
point, manual entries). Everything else (passings, chip start, finish, splits, status, times)
is derived from those lists by `timing.rules`, so an out-of-order read only means re-deriving one
athlete, and a gun moved after the fact only means re-deriving its race. Places are not stored:
each race keeps sorted lists of the finishers' ranking times (overall, per gender, per category)
and a place is `1 + the number of strictly faster finishers` (a bisect), which gives shared
places on ties and the skipped place after them (1, 2, 2, 4) for free.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from timing.athlete_state import AthleteState, derive
from timing.clock import EventClock
from timing.model import Adjustment, Athlete, Event, Race
from timing.reads import Read
from timing.results import ResultRow, sort_rows
from timing.rules import passings

OutcomeKind = Literal["athlete", "unknown_chip", "unknown_bib", "unknown_reader", "off_course"]


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """What one read did: whose read it was and whether it changed their result."""

    kind: OutcomeKind
    key: str
    """The bib for "athlete" and "off_course", else the unknown chip, bib or reader id."""
    changed: bool = False


RankKey = tuple[str, str, str]
"""(race id, dimension, value): dimension "" overall, "gender" or "category"."""


class Standings:
    def __init__(self, event: Event, athletes: Iterable[Athlete] = (),
                 adjustments: Iterable[Adjustment] = ()) -> None:
        self.event = event
        self.clock = EventClock(event.date, event.timezone)
        self._races: dict[str, Race] = {race.id: race for race in event.races}
        self._reader_point: dict[str, tuple[str, int]] = {
            reader.id: (reader.point, reader.clock_offset_ms) for reader in event.readers}
        self._states: dict[str, AthleteState] = {}
        self._by_chip: dict[str, AthleteState] = {}
        self._chip_cache: dict[str, AthleteState | None] = {}
        self._unknown_chips: dict[str, list[tuple[str, int]]] = {}
        self._unknown_bibs: dict[str, list[tuple[str, int]]] = {}
        self._ranks: dict[RankKey, list[int]] = {}
        self._unsettled: dict[str, AthleteState] = {}
        for athlete in athletes:
            self.add_athlete(athlete)
        for adjustment in adjustments:
            self.apply_adjustment(adjustment)

    # -- reads -------------------------------------------------------------------------------

    def add_read(self, reader_id: str, read: Read) -> ReadOutcome:
        """Feed one read from the reader `reader_id` of the event and update the standings."""
        located = self._reader_point.get(reader_id)
        if located is None:
            return ReadOutcome("unknown_reader", reader_id)
        point, offset_ms = located
        return self.add_point_read(point, self.clock.read_ms(read) + offset_ms,
                                   chip=read.chip, bib=read.bib)

    def add_point_read(self, point: str, ms: int, *, chip: str = "",
                       bib: str | None = None) -> ReadOutcome:
        """Feed one read already placed in time (ms since 1970 UTC, clock offset applied)."""
        self.settle()
        state, outcome = self._owner(chip, bib, point, ms)
        if state is None:
            return outcome
        changed = self._record(state, point, ms)
        if point not in state.race.points:
            return ReadOutcome("off_course", state.athlete.bib)
        return ReadOutcome("athlete", state.athlete.bib, changed)

    def add_reads(self, reads: Iterable[tuple[str, Read]],
                  settle: bool = True) -> list[tuple[int, ReadOutcome]]:
        """Feed many reads at once (a rescore): store them all, then derive each athlete once.

        With `settle=False` the athletes are derived later, once, by `settle()` (which every
        other method calls first): a rebuild feeding millions of reads in batches derives each
        athlete once, not once per batch.

        Returns `(index, outcome)` for the reads that belong to nobody (unknown reader, chip or
        bib), so that the caller can report where each came from. The loop is the hot path of
        a rescore (millions of reads), hence the local names.
        """
        unowned: list[tuple[int, ReadOutcome]] = []
        touched = self._unsettled
        reader_point = self._reader_point
        read_ms = self.clock.read_ms
        chip_cache = self._chip_cache
        owner = self._owner
        for index, (reader_id, read) in enumerate(reads):
            located = reader_point.get(reader_id)
            if located is None:
                unowned.append((index, ReadOutcome("unknown_reader", reader_id)))
                continue
            point, offset_ms = located
            ms = read_ms(read) + offset_ms
            state = chip_cache.get(read.chip) if read.bib is None else None
            if state is None:
                state, outcome = owner(read.chip, read.bib, point, ms)
                if state is None:
                    unowned.append((index, outcome))
                    continue
            times = state.times.get(point)
            if times is None:
                state.times[point] = [ms]
            else:
                times.append(ms)
            touched[state.athlete.bib] = state
        if settle:
            self.settle()
        return unowned

    def settle(self) -> None:
        """Derive the athletes `add_reads(settle=False)` left unsorted and underived."""
        if not self._unsettled:
            return
        touched, self._unsettled = self._unsettled, {}
        for state in touched.values():
            for times in state.times.values():
                times.sort()
            self._rederive(state)

    # -- timekeeper actions ------------------------------------------------------------------

    def add_athlete(self, athlete: Athlete) -> None:
        """Register a participant; reads already seen for their chips or bib become theirs."""
        self.settle()
        if athlete.bib in self._states:
            raise ValueError(f"bib {athlete.bib} is already registered")
        for chip in athlete.chips:
            self._check_chip_free(chip)
        state = AthleteState(athlete, self._races[athlete.race])
        self._states[athlete.bib] = state
        self._chip_cache.clear()
        for chip in athlete.chips:
            self._claim_chip(state, chip)
        for point, ms in self._unknown_bibs.pop(athlete.bib, []):
            state.add_time(point, ms)
        self._rederive(state)

    def assign_chip(self, bib: str, chip: str) -> None:
        """Give `bib` another chip; reads of that chip seen as unknown become theirs."""
        self.settle()
        state = self._states[bib]
        self._check_chip_free(chip)
        self._chip_cache.clear()
        self._claim_chip(state, chip)
        self._rederive(state)

    def apply_adjustment(self, adjustment: Adjustment) -> None:
        self.settle()
        state = self._states.get(adjustment.bib)
        if state is None:
            raise KeyError(adjustment.bib)
        if adjustment.kind == "status":
            state.status_override = adjustment.status
        else:
            state.penalty_ms += adjustment.penalty_ms
        state.adjustments.append(adjustment)
        self._rederive(state)

    def clear_status(self, bib: str) -> None:
        """Let the reads decide the status of `bib` again (undo a status adjustment)."""
        self.settle()
        self._states[bib].status_override = None
        self._rederive(self._states[bib])

    def set_gun(self, race_id: str, gun_ms: int | None, wave_id: str | None = None) -> None:
        """Fire (or correct) the gun of a race or of one of its waves."""
        self.settle()
        race = self._races[race_id]
        if wave_id is None:
            race = _replace_gun(race, gun_ms)
        else:
            if race.wave(wave_id) is None:
                raise KeyError(f"race {race_id} has no wave {wave_id}")
            race = _replace_wave_gun(race, wave_id, gun_ms)
        self._races[race_id] = race
        for state in self._states.values():
            if state.race.id == race_id:
                state.race = race
                self._rederive(state)

    # -- queries -----------------------------------------------------------------------------

    def race(self, race_id: str) -> Race:
        return self._races[race_id]

    def athlete_bibs(self) -> list[str]:
        return list(self._states)

    def chip_owner(self, chip: str) -> str | None:
        """The bib wearing `chip`, if any."""
        state = self._by_chip.get(chip.lower())
        return None if state is None else state.athlete.bib

    def unknown_chips(self) -> dict[str, int]:
        """Unknown chip -> number of reads kept for it."""
        self.settle()
        return {chip: len(reads) for chip, reads in self._unknown_chips.items()}

    def unknown_bibs(self) -> dict[str, int]:
        self.settle()
        return {bib: len(reads) for bib, reads in self._unknown_bibs.items()}

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
        return bisect_left(self._ranks.get((race_id, dimension, value), []), rank_ms) + 1

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

    def results(self, race_id: str | None = None) -> list[ResultRow]:
        """Result rows in SCORING.md order: race by race, finishers by place, then the rest."""
        self.settle()
        rows = [self.result(bib) for bib, state in self._states.items()
                if race_id is None or state.race.id == race_id]
        race_order = {race.id: index for index, race in enumerate(self.event.races)}
        return sort_rows(rows, race_order)

    # -- internals ---------------------------------------------------------------------------

    def _owner(self, chip: str, bib: str | None, point: str,
               ms: int) -> tuple[AthleteState | None, ReadOutcome]:
        if bib is not None:
            state = self._states.get(bib)
            if state is None:
                self._unknown_bibs.setdefault(bib, []).append((point, ms))
                return None, ReadOutcome("unknown_bib", bib)
            return state, ReadOutcome("athlete", bib)
        cached = self._chip_cache.get(chip, _MISSING)
        if cached is _MISSING:
            cached = self._by_chip.get(chip.lower())
            self._chip_cache[chip] = cached
        if cached is None:
            self._unknown_chips.setdefault(chip.lower(), []).append((point, ms))
            return None, ReadOutcome("unknown_chip", chip)
        assert isinstance(cached, AthleteState)
        return cached, ReadOutcome("athlete", cached.athlete.bib)

    def _check_chip_free(self, chip: str) -> None:
        owner = self._by_chip.get(chip.lower())
        if owner is not None:
            raise ValueError(f"chip {chip} already belongs to bib {owner.athlete.bib}")

    def _claim_chip(self, state: AthleteState, chip: str) -> None:
        key = chip.lower()
        self._by_chip[key] = state
        for point, ms in self._unknown_chips.pop(key, []):
            state.add_time(point, ms)

    def _record(self, state: AthleteState, point: str, ms: int) -> bool:
        """Store one read and re-derive the athlete unless it provably changes nothing."""
        times = state.times.get(point)
        if times is None:
            state.times[point] = [ms]
        elif ms >= times[-1]:
            times.append(ms)
            if not state.could_change(point, ms, len(times)):
                return False
        else:
            insort(times, ms)
        return self._rederive(state)

    def _rederive(self, state: AthleteState) -> bool:
        before = state.rank_ms, state.rank_groups
        changed = derive(state)
        after = state.rank_ms, state.rank_groups
        if before != after:
            self._move_rank(before[0], before[1], after[0], after[1])
        return changed

    def _move_rank(self, old_ms: int | None, old_groups: tuple[RankKey, ...],
                   new_ms: int | None, new_groups: tuple[RankKey, ...]) -> None:
        if old_ms is not None:
            for key in old_groups:
                ranks = self._ranks[key]
                del ranks[bisect_left(ranks, old_ms)]
        if new_ms is not None:
            for key in new_groups:
                insort(self._ranks.setdefault(key, []), new_ms)


_MISSING = object()


def _replace_gun(race: Race, gun_ms: int | None) -> Race:
    return replace(race, gun_ms=gun_ms)


def _replace_wave_gun(race: Race, wave_id: str, gun_ms: int | None) -> Race:
    waves = tuple(replace(wave, gun_ms=gun_ms) if wave.id == wave_id else wave
                  for wave in race.waves)
    return replace(race, waves=waves)

