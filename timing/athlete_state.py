"""One athlete's reads and what SCORING.md derives from them (pure, no I/O)."""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort

from timing.model import Adjustment, Athlete, Race, Status
from timing.places import RankKey, rank_keys
from timing.read_log import times_of
from timing.rules import first_passing, passings

RankGroups = tuple[RankKey, ...]


class AthleteState:
    """Mutable per-athlete state kept by `Standings`: raw read times plus derived results."""

    __slots__ = (
        "adjustments", "athlete", "chip_start_ms", "chip_time_ms", "finish_passings",
        "gun_time_ms", "laps", "penalty_ms", "race", "rank_groups", "rank_ms", "splits",
        "status", "status_override", "times",
    )

    def __init__(self, athlete: Athlete, race: Race) -> None:
        self.athlete = athlete
        self.race = race
        self.times: dict[str, array[int]] = {}
        """Point id -> sorted times (ms) of every read there, before the gun included."""
        self.status_override: Status | None = None
        self.penalty_ms = 0
        self.adjustments: list[Adjustment] = []
        # Derived by `derive`:
        self.finish_passings: list[int] = []
        self.chip_start_ms: int | None = None
        self.gun_time_ms: int | None = None
        self.chip_time_ms: int | None = None
        self.laps = 0
        self.splits: tuple[tuple[str, int], ...] = ()
        self.status: Status = "DNS"
        self.rank_ms: int | None = None
        self.rank_groups: RankGroups = ()

    def adjust(self, adjustment: Adjustment) -> None:
        """Take a status or penalty adjustment in (`derive` then makes it count)."""
        if adjustment.kind == "status":
            self.status_override = adjustment.status
        else:
            self.penalty_ms += adjustment.penalty_ms
        self.adjustments.append(adjustment)

    def copy(self) -> AthleteState:
        """A copy to try an adjustment on: its own adjustments, the same read times (which
        `derive` only reads; the derived fields it replaces, never changes in place)."""
        other = AthleteState.__new__(AthleteState)
        for name in AthleteState.__slots__:
            setattr(other, name, getattr(self, name))
        other.adjustments = list(self.adjustments)
        return other

    def add_time(self, point: str, ms: int) -> None:
        times = self.times.get(point)
        if times is None:
            times = self.times[point] = times_of()
        insort(times, ms)

    def remove_time(self, point: str, ms: int) -> None:
        times = self.times[point]
        del times[bisect_left(times, ms)]
        if not times:  # no empty lists: the live path takes the last time of a point's list
            del self.times[point]

    def gun_ms(self) -> int | None:
        return self.race.gun_for(self.athlete.wave)

    def could_change(self, point: str, ms: int, count: int) -> bool:
        """Whether a read just appended as the latest of `count` at `point` can change anything.

        The hot path of live timing: most reads are repeats of a chip already seen on the mat.
        """
        race = self.race
        gun = self.gun_ms()
        if gun is None or ms < gun or point not in race.points:
            return False
        if point == race.finish_point:
            passed = self.finish_passings
            if not passed:
                return True
            return (len(passed) < race.laps and ms > passed[-1]
                    and ms - passed[-1] >= race.min_lap_ms)
        # Start and split points use only the first passing; this read is the first one only
        # if every earlier read there came before the gun.
        return count == 1 or self.times[point][-2] < gun


def derive(state: AthleteState) -> bool:
    """Recompute everything SCORING.md derives for one athlete; True when any of it changed."""
    before = (state.status, state.gun_time_ms, state.chip_time_ms, state.laps, state.splits)
    race = state.race
    gun = state.gun_ms()
    state.finish_passings = []
    state.chip_start_ms = None
    state.splits = ()
    any_passing = False
    if gun is not None:
        times = state.times
        empty: list[int] = []
        start = None
        if race.start_point is not None:
            start = first_passing(times.get(race.start_point, empty), gun)
        state.chip_start_ms = gun if start is None else start
        state.finish_passings = passings(times.get(race.finish_point, empty), gun,
                                         race.min_lap_ms, race.laps)
        origin = gun if race.rank_by == "gun" else state.chip_start_ms
        splits: list[tuple[str, int]] = []
        for point in race.split_points:
            first = first_passing(times.get(point, empty), gun)
            if first is not None:
                splits.append((point, first - origin))
        state.splits = tuple(splits)
        any_passing = bool(start is not None or state.finish_passings or splits)
    finish = (state.finish_passings[race.laps - 1]
              if len(state.finish_passings) >= race.laps else None)
    state.laps = len(state.finish_passings)
    if state.status_override is not None:
        state.status = state.status_override
    elif finish is not None:
        state.status = "FIN"
    else:
        state.status = "DNF" if any_passing else "DNS"
    if state.status == "FIN" and finish is not None and gun is not None:
        state.gun_time_ms = finish - gun + state.penalty_ms
        assert state.chip_start_ms is not None
        state.chip_time_ms = finish - state.chip_start_ms + state.penalty_ms
        state.rank_ms = state.gun_time_ms if race.rank_by == "gun" else state.chip_time_ms
        state.rank_groups = rank_keys(race.id, state.athlete.gender, state.athlete.category)
    else:
        state.gun_time_ms = state.chip_time_ms = state.rank_ms = None
        state.rank_groups = ()
    after = (state.status, state.gun_time_ms, state.chip_time_ms, state.laps, state.splits)
    return before != after
