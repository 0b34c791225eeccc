"""The event as the scoring core sees it: small frozen records, no I/O.

Every instant inside the core is an integer number of milliseconds since 1970-01-01 UTC
("ms"): SCORING.md keeps times to the millisecond, and integers compare and subtract exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from timing.reads import Read, Record, Rejected

PointKind = Literal["start", "split", "finish"]
RankBy = Literal["gun", "chip"]
Status = Literal["FIN", "DNF", "DNS", "DQ"]
STATUSES: tuple[Status, ...] = ("FIN", "DNF", "DNS", "DQ")
ADJUSTABLE_STATUSES: tuple[Status, ...] = ("DQ", "DNF", "DNS")
GENDERS: tuple[str, ...] = ("F", "M", "X")

PRECISIONS_MS: dict[str, int] = {"s": 1000, "0.1": 100, "0.01": 10}
"""The race `precision` setting -> the displayed resolution in ms."""


@dataclass(frozen=True, slots=True)
class Point:
    id: str
    kind: PointKind
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class Wave:
    id: str
    gun_ms: int | None
    """None: the wave starts with its race's gun."""


@dataclass(frozen=True, slots=True)
class Race:
    id: str
    name: str
    distance_m: float | None
    gun_ms: int | None
    """None: the gun has not been fired; every read is then "before the gun"."""
    laps: int = 1
    rank_by: RankBy = "gun"
    min_lap_ms: int = 0
    precision_ms: int = 1000
    points: tuple[str, ...] = ()
    """Ids of the points this race uses, in event order."""
    start_point: str | None = None
    finish_point: str = ""
    split_points: tuple[str, ...] = ()
    waves: tuple[Wave, ...] = ()
    record_ms: int | None = None
    """The course record (event.toml `record`), for the scoreboard's record flag."""

    def wave(self, wave_id: str | None) -> Wave | None:
        for wave in self.waves:
            if wave.id == wave_id:
                return wave
        return None

    def gun_for(self, wave_id: str | None) -> int | None:
        """The gun that applies to an athlete of this race in `wave_id` (or no wave)."""
        wave = self.wave(wave_id)
        if wave is not None and wave.gun_ms is not None:
            return wave.gun_ms
        return self.gun_ms


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    id: str
    point: str
    format: str
    clock_offset_ms: int = 0
    path: str | None = None
    """Reader file, relative to event.toml (offline scoring, file replay)."""
    port: str | None = None
    baud: int | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    date: date
    timezone: str
    races: tuple[Race, ...]
    points: tuple[Point, ...]
    readers: tuple[ReaderConfig, ...] = ()
    age_bounds: tuple[int, ...] = ()
    window_days: int = 7
    """Times are accepted this many days either side of `date` (`timing.limits.TimeWindow`;
    the default is `timing.limits.WINDOW_DAYS`, written out: the readers load this module)."""

    def race(self, race_id: str) -> Race:
        for race in self.races:
            if race.id == race_id:
                return race
        raise KeyError(race_id)

    def point(self, point_id: str) -> Point:
        for point in self.points:
            if point.id == point_id:
                return point
        raise KeyError(point_id)


@dataclass(frozen=True, slots=True)
class Athlete:
    bib: str
    first_name: str
    last_name: str
    gender: str
    race: str
    birth_date: date | None = None
    wave: str | None = None
    chips: tuple[str, ...] = ()
    club: str = ""
    category: str = ""
    """Computed from age bounds and birth date, or taken from the `category` column."""
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    """Columns of participants.csv this version does not use, kept as they were."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    bib: str
    kind: Literal["status", "penalty"]
    status: Status | None = None
    penalty_ms: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an input, located as precisely as the input allows."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


__all__ = [
    "ADJUSTABLE_STATUSES",
    "GENDERS",
    "PRECISIONS_MS",
    "STATUSES",
    "Adjustment",
    "Athlete",
    "Event",
    "Point",
    "PointKind",
    "Problem",
    "Race",
    "RankBy",
    "Read",
    "ReaderConfig",
    "Record",
    "Rejected",
    "Status",
    "Wave",
]
