"""Scoring benchmark: a synthetic mass race scored in one batch and one read at a time.

    python bench/score.py                 # 50,000 athletes x 4 points x ~20 reads = ~4M reads
    python bench/score.py --athletes 5000 # a quicker run

Prints the figures; docs/performance.md records them with the machine they came from. Goals
(issue 2): incremental update under 50 us per read (median), full batch rescore under 10 s.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import machine_line, peak_rss_mb

from timing.model import Athlete, Event, Point, Race, ReaderConfig
from timing.reads import Read
from timing.standings import Standings

DAY = date(2026, 5, 10)
GUN = datetime(2026, 5, 10, 9, 0)
POINTS = (Point("start", "start"), Point("km10", "split", 10_000),
          Point("half", "split", 21_097.5), Point("finish", "finish"))
READERS = tuple(ReaderConfig(f"{point.id}-mat", point.id, "ipico") for point in POINTS)


def build_event(gun_ms: int) -> Event:
    race = Race(id="marathon", name="Marathon", distance_m=42_195, gun_ms=gun_ms,
                min_lap_ms=60_000, points=tuple(p.id for p in POINTS), start_point="start",
                finish_point="finish", split_points=("km10", "half"))
    return Event(name="Bench", date=DAY, timezone="Europe/Rome", races=(race,), points=POINTS,
                 readers=READERS, age_bounds=(0, 20, 30, 40, 50, 60, 70))


def build_athletes(count: int, rng: random.Random) -> list[Athlete]:
    return [Athlete(bib=str(n), first_name="A", last_name=f"B{n}",
                    gender=rng.choice("FM"), race="marathon",
                    chips=(f"{n:012x}",), category=rng.choice(["M30-39", "F40-49", "M50-59"]))
            for n in range(1, count + 1)]


def build_reads(athletes: list[Athlete], reads_per_crossing: int,
                rng: random.Random) -> list[tuple[str, Read]]:
    """Reads in arrival order: every chip read ~20 times within 2 s of each crossing."""
    fractions = {"start": 0.0, "km10": 10 / 42.195, "half": 0.5, "finish": 1.0}
    reads: list[tuple[datetime, str, Read]] = []
    for athlete in athletes:
        start = GUN + timedelta(seconds=rng.uniform(0, 900))
        duration = rng.uniform(2.1 * 3600, 6 * 3600)
        chip = athlete.chips[0]
        for point in POINTS:
            crossing = start + timedelta(seconds=duration * fractions[point.id])
            for _ in range(rng.randint(reads_per_crossing - 4, reads_per_crossing + 4)):
                moment = crossing + timedelta(milliseconds=rng.randint(0, 2000))
                reads.append((moment, f"{point.id}-mat", Read(chip=chip, time=moment)))
    reads.sort(key=lambda item: item[0])
    return [(reader, read) for _, reader, read in reads]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--athletes", type=int, default=50_000)
    options.add_argument("--reads-per-crossing", type=int, default=20)
    options.add_argument("--seed", type=int, default=1)
    args = options.parse_args()

    rng = random.Random(args.seed)
    athletes = build_athletes(args.athletes, rng)
    made = time.perf_counter()
    reads = build_reads(athletes, args.reads_per_crossing, rng)
    made = time.perf_counter() - made
    probe = Standings(build_event(0), [])
    event = build_event(probe.clock.local_ms(GUN))
    print(machine_line())
    print(f"race: {len(athletes):,} athletes, {len(POINTS)} points, {len(reads):,} reads "
          f"(built in {made:.1f} s)")

    gc.collect()
    gc.disable()  # as a long-running process would be after its objects are made
    started = time.perf_counter()
    batch = Standings(event, athletes)
    batch.add_reads(reads)
    loaded = time.perf_counter() - started
    rows = batch.results()
    batch_seconds = time.perf_counter() - started
    print(f"batch rescore: {batch_seconds:.2f} s in all ({loaded:.2f} s reads -> standings, "
          f"{batch_seconds - loaded:.2f} s result rows); "
          f"{len(reads) / batch_seconds:,.0f} reads/s; {sum(r.status == 'FIN' for r in rows):,}"
          " finishers")
    del batch, rows
    gc.enable()
    gc.collect()

    live = Standings(event, athletes)
    add_read = live.add_read
    clock = time.perf_counter_ns
    durations = []
    gc.disable()
    started = time.perf_counter()
    for reader_id, read in reads:
        before = clock()
        add_read(reader_id, read)
        durations.append(clock() - before)
    elapsed = time.perf_counter() - started
    gc.enable()
    durations.sort()
    median_us = statistics.median(durations) / 1000
    p99_us = durations[int(len(durations) * 0.99)] / 1000
    print(f"incremental: median {median_us:.2f} us/read, p99 {p99_us:.2f} us, "
          f"max {durations[-1] / 1000:.0f} us; {len(reads) / elapsed:,.0f} reads/s one at a time")
    started = time.perf_counter()
    live.results()
    print(f"full result table from live standings: {time.perf_counter() - started:.2f} s")
    print(f"peak memory (RSS): {peak_rss_mb():,.0f} MB")
    goals = median_us < 50 and batch_seconds < 10
    print(f"goals (median < 50 us, batch < 10 s): {'met' if goals else 'NOT met'}")


if __name__ == "__main__":
    main()
