"""Live standings: reads in, results out, one read at a time or in bulk, with the same answer.

Each athlete keeps the sorted times of every read at every point (all chips, all readers of the
point, manual entries). Everything else (passings, chip start, finish, splits, status, times)
is derived from those lists by `timing.rules`, so an out-of-order read only means re-deriving one
athlete, and a gun moved after the fact only means re-deriving its race. Places come from
`timing.places`.

Reads belong to whoever wears the chip (or has the bib) *now*: a log keeps every read by the
identity it names (chip or bib), so that a chip assigned late, moved to another athlete or
taken away, a participant edited or a read voided re-attributes exactly the reads concerned.
Reads of identities nobody has are the unknown chips and bibs.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from timing.athlete_state import AthleteState, derive
from timing.clock import EventClock
from timing.limits import EARLIEST_MS, LATEST_MS, TimeWindow
from timing.model import Adjustment, Athlete, Event, Race, ReaderConfig
from timing.places import Places
from timing.read_log import ReadLog, times_of
from timing.reads import Read
from timing.standings_results import StandingsResults

OutcomeKind = Literal["athlete", "unknown_chip", "unknown_bib", "unknown_reader", "off_course",
                      "invalid"]


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """What one read did: whose read it was and whether it changed their result."""

    kind: OutcomeKind
    key: str
    """The bib for "athlete" and "off_course", else the unknown chip, bib or reader id; for
    "invalid" (a time no date can show, once the reader's clock offset is added: only an old
    journal can hold one, as readers' times and offsets are bounded when they come in), the
    reader id, or the point of `add_point_read`."""
    changed: bool = False


_BIB = "\x1f"
"""Prefix of bib identities in the log (a control character: no chip code has one)."""


def identity(chip: str, bib: str | None) -> str:
    """The log key of a read: its chip in lower case, or its bib."""
    return chip.lower() if bib is None else _BIB + bib


class Standings(StandingsResults):
    def __init__(self, event: Event, athletes: Iterable[Athlete] = (),
                 adjustments: Iterable[Adjustment] = ()) -> None:
        self.event = event
        self.clock = EventClock(event.date, event.timezone)
        self.window = TimeWindow.around(event.date, event.timezone, event.window_days)
        """The instants the event's guns and reads may take (`timing.limits`)."""
        self._races: dict[str, Race] = {race.id: race for race in event.races}
        self._reader_point: dict[str, tuple[str, int]] = {
            reader.id: (reader.point, reader.clock_offset_ms) for reader in event.readers}
        self._states: dict[str, AthleteState] = {}
        self._owners: dict[str, AthleteState] = {}
        """Identity (chip or bib, see `identity`) -> who has it."""
        self._log = ReadLog()
        """Identity -> every read of it, owned or not."""
        self._chip_keys: dict[str, str] = {}
        """Chip as written -> its identity (saves lower-casing each read)."""
        self._places = Places()
        self._unsettled: dict[str, AthleteState] = {}
        self.voided: dict[int, int] = {}
        """Journal entry corrected (a read voided or given to another bib: `timing.corrections`)
        -> the correction's entry."""
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
        ms = self.clock.read_ms(read) + offset_ms
        if not EARLIEST_MS <= ms <= LATEST_MS:
            return ReadOutcome("invalid", reader_id)
        return self.add_point_read(point, ms, chip=read.chip, bib=read.bib)

    def add_point_read(self, point: str, ms: int, *, chip: str = "",
                       bib: str | None = None) -> ReadOutcome:
        """Feed one read already placed in time (ms since 1970 UTC, clock offset applied)."""
        if not EARLIEST_MS <= ms <= LATEST_MS:  # checked before anything changes
            return ReadOutcome("invalid", point)
        self.settle()
        key = self._key(chip, bib)
        self._log.add(key, point, ms)
        state = self._owners.get(key)
        if state is None:
            return _unowned(chip, bib)
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
        bib) and those that cannot count ("invalid"), so that the caller can report where each
        came from. The loop is the hot path of a rescore (millions of reads), hence the local
        names.
        """
        read_ms = self.clock.read_ms
        return self._add_placed(((reader_id, read_ms(read), read.chip, read.bib)
                                 for reader_id, read in reads), settle)

    def add_stored_reads(self, reads: Iterable[tuple[str, int, str, str, str | None]],
                         settle: bool = True) -> list[tuple[int, ReadOutcome]]:
        """`add_reads` for reads as the journal stores them: (reader id, reader time in
        microseconds, its clock kind, chip, bib), without making a `Read` of each."""
        stored_ms = self.clock.stored_ms
        return self._add_placed(((reader_id, stored_ms(micros, clock), chip, bib)
                                 for reader_id, micros, clock, chip, bib in reads), settle)

    def _add_placed(self, reads: Iterable[tuple[str, int, str, str | None]],
                    settle: bool) -> list[tuple[int, ReadOutcome]]:
        """The bulk loop: (reader id, ms as the reader reported it, chip, bib) per read."""
        unowned: list[tuple[int, ReadOutcome]] = []
        touched = self._unsettled
        reader_point = self._reader_point
        chip_keys = self._chip_keys
        owners = self._owners
        log_read = self._log.add
        for index, (reader_id, reported_ms, chip, bib) in enumerate(reads):
            located = reader_point.get(reader_id)
            if located is None:
                unowned.append((index, ReadOutcome("unknown_reader", reader_id)))
                continue
            point, offset_ms = located
            ms = reported_ms + offset_ms
            if not EARLIEST_MS <= ms <= LATEST_MS:
                unowned.append((index, ReadOutcome("invalid", reader_id)))
                continue
            key = chip_keys.get(chip) if bib is None else None
            if key is None:
                key = self._key(chip, bib)
            log_read(key, point, ms)
            state = owners.get(key)
            if state is None:
                unowned.append((index, _unowned(chip, bib)))
                continue
            times = state.times.get(point)
            if times is None:
                state.times[point] = times_of((ms,))
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
            state.times = {point: times_of(sorted(times)) for point, times in state.times.items()}
            self._rederive(state)

    # -- timekeeper actions ------------------------------------------------------------------

    def add_athlete(self, athlete: Athlete) -> None:
        """Register a participant; reads already seen for their chips or bib become theirs."""
        self.settle()
        if athlete.bib in self._states:
            raise ValueError(f"bib {athlete.bib} is already registered")
        for chip in athlete.chips:
            self._check_chip_free(chip, athlete.bib)
        state = AthleteState(athlete, self._races[athlete.race])
        self._states[athlete.bib] = state
        for key in (identity("", athlete.bib), *(identity(c, None) for c in athlete.chips)):
            self._claim(state, key)
        self._rederive(state)

    def update_athlete(self, athlete: Athlete) -> None:
        """Edit a participant (same bib): names, gender, race, wave, category, chips. Reads of
        chips taken away become unknown; reads of chips added become theirs."""
        self.settle()
        state = self._states[athlete.bib]
        race = self._races[athlete.race]  # looked up before anything changes
        for chip in athlete.chips:
            self._check_chip_free(chip, athlete.bib)
        old_keys = {identity(chip, None) for chip in state.athlete.chips}
        new_keys = {identity(chip, None) for chip in athlete.chips}
        for key in old_keys - new_keys:
            self._release(state, key)
        for key in new_keys - old_keys:
            self._claim(state, key)
        state.athlete = athlete
        state.race = race
        self._rederive(state)

    def assign_chip(self, bib: str, chip: str) -> None:
        """Give `bib` the chip `chip`, taking it from whoever had it: every read of that chip,
        past and future, is theirs (a late assignment, a swap at the desk)."""
        self.settle()
        state = self._states[bib]
        key = identity(chip, None)
        previous = self._owners.get(key)
        if previous is state:
            return
        if previous is not None:
            self._release(previous, key)
            athlete = previous.athlete
            previous.athlete = replace(athlete, chips=tuple(
                c for c in athlete.chips if identity(c, None) != key))
            self._rederive(previous)
        self._claim(state, key)
        state.athlete = replace(state.athlete, chips=(*state.athlete.chips, chip))
        self._rederive(state)

    def remove_read(self, reader_id: str, read: Read) -> bool:
        """Void one read (a correction): as if it had never arrived. False if it is unknown."""
        located = self._reader_point.get(reader_id)
        if located is None:
            return False
        point, offset_ms = located
        return self.remove_point_read(point, self.clock.read_ms(read) + offset_ms,
                                      chip=read.chip, bib=read.bib)

    def placed(self, reader_id: str, read: Read) -> tuple[str, int] | None:
        """(point, ms since 1970 UTC with the reader's clock offset) where `read` counts; None
        for a reader the event does not have or a time no date can show."""
        located = self._reader_point.get(reader_id)
        if located is None:
            return None
        point, offset_ms = located
        ms = self.clock.read_ms(read) + offset_ms
        return (point, ms) if EARLIEST_MS <= ms <= LATEST_MS else None

    def has_read(self, reader_id: str, read: Read) -> bool:
        """Whether `read` from `reader_id` counts now (it came, and no void took it away)."""
        placed = self.placed(reader_id, read)
        return placed is not None and self._log.has(self._key(read.chip, read.bib), *placed)

    def remove_point_read(self, point: str, ms: int, *, chip: str = "",
                          bib: str | None = None) -> bool:
        if not EARLIEST_MS <= ms <= LATEST_MS:  # no such read can have been added
            return False
        self.settle()
        key = self._key(chip, bib)
        if not self._log.remove(key, point, ms):
            return False
        state = self._owners.get(key)
        if state is not None:
            state.remove_time(point, ms)
            self._rederive(state)
        return True

    def apply_adjustment(self, adjustment: Adjustment) -> None:
        self.settle()
        state = self._states.get(adjustment.bib)
        if state is None:
            raise KeyError(adjustment.bib)
        state.adjust(adjustment)
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

    def has_athlete(self, bib: str) -> bool:
        return bib in self._states

    def has_reader(self, reader_id: str) -> bool:
        return reader_id in self._reader_point

    def add_reader(self, config: ReaderConfig) -> None:
        """A reader added while the event runs; reads it made before are not scored again."""
        if config.id in self._reader_point:
            raise ValueError(f"reader {config.id!r} already exists")
        self.event.point(config.point)  # KeyError for an unknown point
        self._reader_point[config.id] = (config.point, config.clock_offset_ms)
        self.event = replace(self.event, readers=(*self.event.readers, config))

    def athlete_bibs(self) -> list[str]:
        return list(self._states)

    def chip_owner(self, chip: str) -> str | None:
        """The bib wearing `chip`, if any."""
        state = self._owners.get(identity(chip, None))
        return None if state is None else state.athlete.bib

    def athlete(self, bib: str) -> Athlete:
        return self._states[bib].athlete

    def unknown_chips(self) -> dict[str, int]:
        """Unknown chip (lower case) -> number of reads kept for it."""
        return {key: count for key, count in self._log.counts()
                if key not in self._owners and not key.startswith(_BIB)}

    def unknown_bibs(self) -> dict[str, int]:
        """Bibs of manual entries that no participant has -> number of reads."""
        return {key[1:]: count for key, count in self._log.counts()
                if key not in self._owners and key.startswith(_BIB)}

    # -- internals ---------------------------------------------------------------------------

    def _key(self, chip: str, bib: str | None) -> str:
        if bib is not None:
            return _BIB + bib
        key = self._chip_keys.get(chip)
        if key is None:
            key = self._chip_keys[chip] = chip.lower()
        return key

    def _check_chip_free(self, chip: str, bib: str) -> None:
        owner = self._owners.get(identity(chip, None))
        if owner is not None and owner.athlete.bib != bib:
            raise ValueError(f"chip {chip} already belongs to bib {owner.athlete.bib}")

    def _claim(self, state: AthleteState, key: str) -> None:
        self._owners[key] = state
        for point, ms in self._log.reads(key):
            state.add_time(point, ms)

    def _release(self, state: AthleteState, key: str) -> None:
        del self._owners[key]
        for point, ms in self._log.reads(key):
            state.remove_time(point, ms)

    def _record(self, state: AthleteState, point: str, ms: int) -> bool:
        """Store one read and re-derive the athlete unless it provably changes nothing."""
        times = state.times.get(point)
        if times is None:
            state.times[point] = times_of((ms,))
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
            self._places.move(before[0], before[1], after[0], after[1])
        return changed


def _unowned(chip: str, bib: str | None) -> ReadOutcome:
    return ReadOutcome("unknown_chip", chip) if bib is None else ReadOutcome("unknown_bib", bib)


def _replace_gun(race: Race, gun_ms: int | None) -> Race:
    return replace(race, gun_ms=gun_ms)


def _replace_wave_gun(race: Race, wave_id: str, gun_ms: int | None) -> Race:
    waves = tuple(replace(wave, gun_ms=gun_ms) if wave.id == wave_id else wave
                  for wave in race.waves)
    return replace(race, waves=waves)

