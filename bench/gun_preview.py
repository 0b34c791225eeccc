"""The dry run of a gun (`POST /api/races/{race_id}/gun?dry_run=true`): how long it takes in a
big race.

    python bench/gun_preview.py                  # 50,000 athletes (bench/score.py's marathon)
    python bench/gun_preview.py --athletes 5000  # a quicker run

Builds bench/score.py's synthetic marathon in two waves (wave "a" with a gun of its own, wave
"b" starting with the race's), scores it, then times the preview (`api.routers.guns.
gun_preview`, what the endpoint answers) of a few gun corrections: the race's gun moved (only
wave "b" re-derives), wave "a"'s gun moved later and earlier (half the race re-derives, and
the two waves' places interleave anew). Prints the median of the runs for each (wall and CPU
time: the machine may be shared), then the time the endpoint's response model and JSON take
over the answer, and checks on the way that each preview is what setting the gun then gives.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import TypeAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import machine_line, peak_rss_mb
from score import GUN, POINTS, build_athletes, build_event, build_reads

from api.routers.guns import GunPreview, gun_preview
from timing.model import Event, Wave
from timing.results import ResultRow
from timing.standings import Standings

RACE = "marathon"
WAVE_A_DELAY_MS = 120_000
"""Wave "a" starts 2 minutes after the race's gun in event.toml terms."""


def two_waves(event: Event) -> Event:
    race = event.races[0]
    assert race.gun_ms is not None
    waves = (Wave("a", race.gun_ms + WAVE_A_DELAY_MS), Wave("b", None))
    return replace(event, races=(replace(race, waves=waves),))


def corrections(standings: Standings) -> list[tuple[str, str | None, int]]:
    """(label, wave or None for the race's gun, the new gun), applied one after the other."""
    race = standings.race(RACE)
    assert race.gun_ms is not None
    wave_a = race.gun_for("a")
    assert wave_a is not None
    return [
        ("race gun +30 s (wave b)", None, race.gun_ms + 30_000),
        ("wave a gun +45 s", "a", wave_a + 45_000),
        ("wave a gun -3 min", "a", wave_a + 45_000 - 180_000),
        ("race gun -30 s (back)", None, race.gun_ms),
    ]


def applied_changes(standings: Standings, wave: str | None, gun_ms: int
                    ) -> list[dict[str, Any]]:
    """Set the gun and say what it changed, the sure way: every row before and after."""
    before = {row.bib: _view(row) for row in standings.results(RACE)}
    standings.set_gun(RACE, gun_ms, wave)
    return [{"bib": row.bib, "before": before[row.bib], "after": _view(row)}
            for row in standings.results(RACE)
            if _placing(_view(row)) != _placing(before[row.bib])]


def _view(row: ResultRow) -> dict[str, Any]:
    return {"place": row.place, "gender_place": row.gender_place,
            "category_place": row.category_place, "status": row.status,
            "time_ms": row.gun_ms}


def _placing(view: dict[str, Any]) -> tuple[Any, ...]:
    return view["place"], view["gender_place"], view["category_place"], view["status"]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--athletes", type=int, default=50_000)
    options.add_argument("--reads-per-crossing", type=int, default=20)
    options.add_argument("--runs", type=int, default=5, help="timed previews per correction")
    options.add_argument("--seed", type=int, default=1)
    args = options.parse_args()

    rng = random.Random(args.seed)
    athletes = [replace(athlete, wave=rng.choice("ab"))
                for athlete in build_athletes(args.athletes, rng)]
    reads = build_reads(athletes, args.reads_per_crossing, rng)
    probe = Standings(build_event(0), [])
    standings = Standings(two_waves(build_event(probe.clock.local_ms(GUN))), athletes)
    standings.add_reads(reads)
    del reads
    gc.collect()
    gc.freeze()  # as `TimingCore.start` does after its replay: the collector skips all this
    finishers = sum(row.place is not None for row in standings.results(RACE))
    print(machine_line())
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"race: {len(athletes):,} athletes in 2 waves, {finishers:,} finishers, "
          f"{len(POINTS)} points, ~{args.reads_per_crossing} reads per crossing")
    print("preview: api.routers.guns.gun_preview")
    core: Any = SimpleNamespace(standings=standings)  # all a preview uses of the core
    worst = 0.0
    for label, wave, gun_ms in corrections(standings):
        seconds, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            answer = gun_preview(core, RACE, wave, gun_ms)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        started = time.perf_counter()
        body = TypeAdapter(GunPreview).dump_json(GunPreview.model_validate(answer))
        as_json = time.perf_counter() - started
        expected = applied_changes(standings, wave, gun_ms)
        changes = answer["changes"]
        same = [{"bib": change["bib"],
                 **{side: {key: change[side][key] for key in ("place", "gender_place",
                                                              "category_place", "status",
                                                              "time_ms")}
                    for side in ("before", "after")}}
                for change in changes] == expected
        median = statistics.median(seconds)
        worst = max(worst, median)
        print(f"{label:24} median {median * 1000:7.1f} ms (min {min(seconds) * 1000:.1f}, "
              f"max {max(seconds) * 1000:.1f}; CPU {statistics.median(cpu) * 1000:.1f}; "
              f"{args.runs} runs), {len(changes):,} placings and {answer['retimed']:,} "
              f"results change; {'same as setting it' if same else 'DIFFERS FROM SETTING IT'}; "
              f"then the response model and JSON {as_json * 1000:.0f} ms "
              f"({len(body) / 1e6:.1f} MB)")
        if not same:
            raise SystemExit(1)
    print(f"peak memory (RSS): {peak_rss_mb():,.0f} MB; load average now "
          "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"worst median: {worst:.2f} s")


if __name__ == "__main__":
    main()
