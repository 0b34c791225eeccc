"""A scripted race: who crosses which mat when, as a reader's clock would say.

Built from the event (races, guns, points, distances) and its participants (chips): each
athlete gets a steady pace drawn from a seeded random generator, and every chip of theirs is
read several times as it crosses a point (a few tens of milliseconds apart), as a real mat
reads a passing chip. Times are the event's local wall clock (what a reader's clock shows).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from timing.model import Athlete, Event, Race


@dataclass(frozen=True, slots=True)
class ChipRead:
    chip: str
    time: datetime
    """Local wall-clock time of the read (naive)."""
    antenna: int = 1
    rssi: int = -60


def race_reads(event: Event, athletes: list[Athlete], point: str, *, seed: int = 1,
               reads_per_crossing: tuple[int, int] = (2, 5),
               pace_s_per_km: tuple[float, float] = (180.0, 420.0),
               only_athletes: int | None = None) -> list[ChipRead]:
    """Every read a mat at `point` would make during the event, in time order."""
    rng = random.Random(f"{seed}:{point}")
    paces = random.Random(seed)  # one pace per athlete, whatever the point
    zone = ZoneInfo(event.timezone)
    reads: list[ChipRead] = []
    for number, athlete in enumerate(athletes):
        if only_athletes is not None and number >= only_athletes:
            break
        pace = paces.uniform(*pace_s_per_km)
        race = event.race(athlete.race)
        gun_ms = race.gun_for(athlete.wave)
        if gun_ms is None or point not in race.points or not athlete.chips:
            continue
        gun = datetime.fromtimestamp(gun_ms / 1000, zone).replace(tzinfo=None)
        for distance in _distances(event, race, point):
            crossing = gun + timedelta(seconds=pace * distance / 1000 + rng.uniform(0.5, 3.0))
            for chip in athlete.chips:
                first = crossing + timedelta(milliseconds=rng.randint(0, 300))
                for repeat in range(rng.randint(*reads_per_crossing)):
                    moment = first + timedelta(milliseconds=40 * repeat + rng.randint(0, 30))
                    reads.append(ChipRead(chip, _to_ms(moment), rng.randint(1, 4),
                                          rng.randint(-80, -50)))
    reads.sort(key=lambda read: (read.time, read.chip))
    return reads


def _distances(event: Event, race: Race, point_id: str) -> list[float]:
    """How far into the race an athlete is each time they cross `point_id`."""
    point = event.point(point_id)
    total = race.distance_m or 1000.0
    if point.kind == "start":
        return [0.0]
    if point.kind == "finish":
        return [total * lap / race.laps for lap in range(1, race.laps + 1)]
    return [point.distance_m if point.distance_m is not None else total / 2]


def _to_ms(moment: datetime) -> datetime:
    """Readers keep milliseconds at best (IPICO hundredths: the encoder truncates)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


__all__ = ["ChipRead", "race_reads"]
