"""Small builders for scoring tests: an event in a few lines, times as local wall-clock text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from timing.clock import EventClock
from timing.model import Athlete, Event, Point, Race, ReaderConfig, Wave
from timing.standings import Standings

DAY = date(2026, 5, 10)
ZONE = "Europe/Rome"
CLOCK = EventClock(DAY, ZONE)

POINTS = (Point("start", "start"), Point("half", "split", 804.672), Point("finish", "finish"))
READERS = (
    ReaderConfig("start-mat", "start", "raceresult"),
    ReaderConfig("half-mat", "half", "ultra"),
    ReaderConfig("finish-main", "finish", "ipico"),
    ReaderConfig("finish-backup", "finish", "ultra", clock_offset_ms=0),
    ReaderConfig("finish-manual", "finish", "manual"),
)


def at(clock_time: str) -> int:
    """`"09:06:39.001"` on the event day, as ms since 1970 UTC."""
    return CLOCK.local_ms(datetime.fromisoformat(f"{DAY.isoformat()}T{clock_time}"))


def race(race_id: str = "mile", *, gun: str | None = "09:00:00", laps: int = 1,
         rank_by: str = "gun", min_lap_s: float = 30, precision_ms: int = 1000,
         points: tuple[Point, ...] = POINTS, waves: tuple[tuple[str, str | None], ...] = ()
         ) -> Race:
    kinds = {point.id: point.kind for point in points}
    return Race(
        id=race_id, name=race_id.title(), distance_m=1609.344,
        gun_ms=None if gun is None else at(gun), laps=laps,
        rank_by="chip" if rank_by == "chip" else "gun", min_lap_ms=round(min_lap_s * 1000),
        precision_ms=precision_ms, points=tuple(kinds),
        start_point=next((p for p, k in kinds.items() if k == "start"), None),
        finish_point=next(p for p, k in kinds.items() if k == "finish"),
        split_points=tuple(p for p, k in kinds.items() if k == "split"),
        waves=tuple(Wave(wave_id, None if gun_time is None else at(gun_time))
                    for wave_id, gun_time in waves),
    )


def event(*races: Race, points: tuple[Point, ...] = POINTS,
          age_bounds: tuple[int, ...] = (0, 20, 30, 40, 50, 60, 70)) -> Event:
    return Event(name="Test", date=DAY, timezone=ZONE, races=races or (race(),),
                 points=points, readers=READERS, age_bounds=age_bounds)


def athlete(bib: str, *chips: str, gender: str = "F", race_id: str = "mile",
            category: str = "", wave: str | None = None, last_name: str = "") -> Athlete:
    return Athlete(bib=bib, first_name=f"Name{bib}", last_name=last_name or f"Last{bib}",
                   gender=gender, race=race_id, chips=chips or (f"chip{bib}",),
                   category=category, wave=wave)


def standings(*athletes: Athlete, ev: Event | None = None) -> Standings:
    return Standings(ev or event(), athletes)


def with_gun(ev: Event, race_id: str, gun: str) -> Event:
    races = tuple(replace(r, gun_ms=at(gun)) if r.id == race_id else r for r in ev.races)
    return replace(ev, races=races)
