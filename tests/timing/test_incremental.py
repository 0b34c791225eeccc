"""Incremental and batch scoring give identical results, and both agree with a deliberately
naive reference written straight from SCORING.md (no bisect, no caches, no fast paths)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from timing.model import Adjustment, Athlete, Event, Race
from timing.reads import Read
from timing.results import results_csv
from timing.standings import Standings

from .factory import CLOCK, DAY, POINTS, READERS, athlete, event, race

GUN = datetime(DAY.year, DAY.month, DAY.day, 9, 0, 0)
READER_OF_POINT = {"start": "start-mat", "half": "half-mat", "finish": "finish-main"}
BACKUP_OF_POINT = {"finish": "finish-backup"}

Plain = tuple[str, int, str, str | None]  # (reader id, ms after 09:00 local, chip, bib)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Event, list[Athlete], list[Adjustment], list[Plain]]:
    races: list[Race] = []
    for race_id in draw(st.sampled_from([["mile"], ["mile", "kids"]])):
        gun = draw(st.sampled_from(["09:00:00", "09:00:30", None]))
        waves = draw(st.sampled_from([(), (("a", "08:59:00"), ("b", None))]))
        points = POINTS if race_id == "mile" else draw(st.sampled_from([POINTS, POINTS[1:]]))
        races.append(race(race_id, gun=gun, laps=draw(st.integers(1, 3)),
                          rank_by=draw(st.sampled_from(["gun", "chip"])),
                          min_lap_s=draw(st.sampled_from([0, 0.5, 30])),
                          precision_ms=draw(st.sampled_from([1000, 100, 10])),
                          points=points, waves=waves))
    ev = event(*races)
    count = draw(st.integers(1, 7))
    athletes = []
    for number in range(1, count + 1):
        own_race = draw(st.sampled_from(races))
        wave = draw(st.sampled_from([None, *(w.id for w in own_race.waves)]))
        chips = tuple(f"c{number}{suffix}" for suffix in draw(st.sampled_from(["a", "ab"])))
        athletes.append(athlete(str(number), *chips, gender=draw(st.sampled_from("FMX")),
                                race_id=own_race.id, wave=wave,
                                category=draw(st.sampled_from(["", "A", "B"]))))
    chips = [chip.upper() if draw(st.booleans()) else chip
             for a in athletes for chip in a.chips] + ["stray"]
    read = st.tuples(
        st.sampled_from(sorted({*READER_OF_POINT.values(), *BACKUP_OF_POINT.values(),
                                "finish-manual"})),
        # Coarse steps make ties and exact min-lap boundaries likely.
        st.integers(-240, 2400).map(lambda quarter: quarter * 250),
        st.sampled_from(chips),
        st.sampled_from([None, None, None, *(a.bib for a in athletes), "999"]))
    reads = draw(st.lists(read, max_size=60))
    adjustments = draw(st.lists(st.builds(
        Adjustment,
        bib=st.sampled_from([a.bib for a in athletes]),
        kind=st.sampled_from(["status", "penalty"]),
        status=st.sampled_from(["DQ", "DNF", "DNS"]),
        penalty_ms=st.sampled_from([0, 1000, 30_000]),
        reason=st.just("test")), max_size=3))
    fixed = [a if a.kind == "status" else Adjustment(a.bib, "penalty", None, a.penalty_ms, "t")
             for a in adjustments]
    return ev, athletes, fixed, reads


def as_read(plain: Plain) -> tuple[str, Read]:
    reader_id, offset_ms, chip, bib = plain
    moment = GUN + timedelta(milliseconds=offset_ms)
    if reader_id == "finish-manual" or bib is not None:
        return reader_id, Read(chip="", bib=bib or "1", time=moment)
    return reader_id, Read(chip=chip, time=moment)


def reference_rows(ev: Event, athletes: list[Athlete], adjustments: list[Adjustment],
                   reads: list[tuple[str, Read]]) -> list[tuple[object, ...]]:
    """SCORING.md read literally, one athlete at a time."""
    point_of = {reader.id: reader.point for reader in READERS}
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
                mine.setdefault(point_of[reader_id], []).append(CLOCK.read_ms(read))
        passed: dict[str, list[int]] = {}
        for point, times in mine.items():
            for t in sorted(times):
                if gun is None or t < gun:
                    continue
                got = passed.setdefault(point, [])
                if not got or t - got[-1] >= r.min_lap_ms:
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
    out = []
    for bib, (a, status, gun_time, chip_time, laps, splits, rank) in derived.items():
        def place(same: object, key: str, a: Athlete = a, rank: int | None = rank) -> int | None:
            if rank is None or status != "FIN":
                return None
            return 1 + sum(1 for other in derived.values()
                           if other[0].race == a.race and other[1] == "FIN"
                           and getattr(other[0], key) == same and other[6] is not None
                           and other[6] < rank)
        out.append((bib, place(a.race, "race"), place(a.gender, "gender"),
                    place(a.category, "category") if a.category else None,
                    status, gun_time, chip_time, laps, splits))
    return sorted(out, key=lambda item: int(str(item[0])))


def rows_of(table: Standings) -> list[tuple[object, ...]]:
    return sorted(((r.bib, r.place, r.gender_place, r.category_place, r.status, r.gun_ms,
                    r.chip_ms, r.laps, r.splits) for r in table.results()),
                  key=lambda item: int(str(item[0])))


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_incremental_equals_batch_equals_reference(scenario, rng) -> None:  # type: ignore[no-untyped-def]
    ev, athletes, adjustments, plain = scenario
    reads = [as_read(p) for p in plain]

    batch = Standings(ev, athletes, adjustments)
    batch.add_reads(reads)

    # Live: reads arrive one at a time in a shuffled order (a backup line catching up, a
    # reader rewinding); some athletes register late and the adjustments land mid-race.
    shuffled = reads[:]
    rng.shuffle(shuffled)
    late = {a.bib for a in athletes if rng.random() < 0.3}
    live = Standings(ev, [a for a in athletes if a.bib not in late])
    half = len(shuffled) // 2
    for reader_id, read in shuffled[:half]:
        live.add_read(reader_id, read)
    for a in athletes:
        if a.bib in late:
            live.add_athlete(a)
    for adjustment in adjustments:
        live.apply_adjustment(adjustment)
    for reader_id, read in shuffled[half:]:
        live.add_read(reader_id, read)

    expected = reference_rows(ev, athletes, adjustments, reads)
    assert rows_of(batch) == expected
    assert rows_of(live) == expected
    assert results_csv(ev, live.results()) == results_csv(ev, batch.results())
    assert live.unknown_chips() == batch.unknown_chips()
    assert live.passing_count() == batch.passing_count()
