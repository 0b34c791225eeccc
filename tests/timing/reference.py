"""A deliberately naive scorer written straight from SCORING.md (no bisect, no caches, no fast
paths), for tests to hold the real standings against."""

from __future__ import annotations

from typing import NamedTuple

from timing.clock import EventClock
from timing.model import Adjustment, Athlete, Event
from timing.reads import Read
from timing.rules import bib_order
from timing.standings import Standings


class Row(NamedTuple):
    bib: str
    place: int | None
    gender_place: int | None
    category_place: int | None
    status: str
    gun_ms: int | None
    chip_ms: int | None
    laps: int
    splits: tuple[tuple[str, int], ...]


def reference_rows(ev: Event, athletes: list[Athlete], adjustments: list[Adjustment],
                   reads: list[tuple[str, Read]]) -> list[Row]:
    """SCORING.md read literally, one athlete at a time."""
    point_of = {reader.id: reader.point for reader in ev.readers}
    offset_of = {reader.id: reader.clock_offset_ms for reader in ev.readers}
    clock = EventClock(ev.date, ev.timezone)
    races = {r.id: r for r in ev.races}
    derived = {}
    for a in athletes:
        r = races[a.race]
        wave = next((w for w in r.waves if w.id == a.wave), None)
        gun = wave.gun_ms if wave is not None and wave.gun_ms is not None else r.gun_ms
        mine: dict[str, list[int]] = {}
        for reader_id, read in reads:
            ours = (read.bib == a.bib) if read.bib is not None else \
                read.chip.lower() in [c.lower() for c in a.chips]
            if ours and point_of[reader_id] in r.points:
                mine.setdefault(point_of[reader_id], []).append(
                    clock.read_ms(read) + offset_of[reader_id])
        passed: dict[str, list[int]] = {}
        for point, times in mine.items():
            for t in sorted(times):
                if gun is None or t < gun:
                    continue
                got = passed.setdefault(point, [])
                # "A later read is a new passing only if it comes at least min_lap_s after
                # the last passing": a read at the same instant is not later.
                if not got or (t > got[-1] and t - got[-1] >= r.min_lap_ms):
                    got.append(t)
        finishes = passed.get(r.finish_point, [])[:r.laps]
        start = passed.get(r.start_point or "", [None])[0]
        chip_start = start if start is not None else gun
        status = "FIN" if len(finishes) == r.laps else ("DNF" if passed else "DNS")
        penalty = 0
        for adj in adjustments:
            if adj.bib == a.bib and adj.kind == "status":
                status = adj.status or status
            if adj.bib == a.bib and adj.kind == "penalty":
                penalty += adj.penalty_ms
        gun_time = chip_time = None
        if status == "FIN" and gun is not None and chip_start is not None:
            gun_time = finishes[-1] - gun + penalty
            chip_time = finishes[-1] - chip_start + penalty
        origin = gun if r.rank_by == "gun" else chip_start
        splits = tuple((p, passed[p][0] - (origin or 0)) for p in r.split_points if p in passed)
        rank = gun_time if r.rank_by == "gun" else chip_time
        derived[a.bib] = (a, status, gun_time, chip_time, len(finishes), splits, rank)
    out: list[Row] = []
    for bib, (a, status, gun_time, chip_time, laps, splits, rank) in derived.items():
        def place(same: object, key: str, a: Athlete = a, rank: int | None = rank,
                  status: str = status) -> int | None:
            if rank is None or status != "FIN":
                return None
            return 1 + sum(1 for other in derived.values()
                           if other[0].race == a.race and other[1] == "FIN"
                           and getattr(other[0], key) == same and other[6] is not None
                           and other[6] < rank)
        out.append(Row(bib, place(a.race, "race"), place(a.gender, "gender"),
                       place(a.category, "category") if a.category else None,
                       status, gun_time, chip_time, laps, splits))
    return sorted(out, key=lambda item: bib_order(item.bib))


def rows_of(table: Standings) -> list[Row]:
    """The standings' rows in the shape `reference_rows` gives."""
    return sorted((Row(r.bib, r.place, r.gender_place, r.category_place, r.status, r.gun_ms,
                       r.chip_ms, r.laps, r.splits) for r in table.results()),
                  key=lambda item: bib_order(item.bib))
