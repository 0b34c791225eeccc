"""Dry-run previews of the timekeeper API (`?dry_run=true` on a status or a penalty): how long
one takes in a big race.

    python bench/preview.py                  # 50,000 finishers (bench/score.py's marathon)
    python bench/preview.py --athletes 5000  # a quicker run

Builds bench/score.py's synthetic marathon, scores it, then times the preview
(`api.routers.timekeeper.preview`, what the endpoint answers) of a few actions: a DQ of the
winner (every finisher's place moves), a DQ and a penalty in mid-field, a DNF and a DNS. Prints
the median of the runs for each (wall and CPU time: the machine may be shared), then the time
the endpoint's response model and JSON take over the answer, and checks on the way that each
preview is what applying the action to the standings then gives.
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import TypeAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import machine_line, peak_rss_mb
from score import GUN, POINTS, build_athletes, build_event, build_reads

from api.routers.timekeeper import Preview, preview
from timing.checks import check_action
from timing.entries import ActionEntry, Applied, apply_action, penalty
from timing.entries import set_status as status_action
from timing.results import ResultRow
from timing.standings import Standings


def actions(standings: Standings) -> list[tuple[str, ActionEntry]]:
    finishers = [row for row in standings.results("marathon") if row.place is not None]
    def at(fraction: float) -> str:
        return finishers[min(len(finishers) - 1, int(len(finishers) * fraction))].bib

    return [  # each on another athlete: they are applied one after the other
        ("DQ the winner", status_action(at(0), "DQ", actor="bench", at_ms=0, reason="b")),
        ("DQ mid-field", status_action(at(0.5), "DQ", actor="bench", at_ms=0, reason="b")),
        ("DNF at a third", status_action(at(0.33), "DNF", actor="bench", at_ms=0, reason="b")),
        ("DNS the last", status_action(at(1), "DNS", actor="bench", at_ms=0, reason="b")),
        ("penalty 5 min at 2/3", penalty(at(0.67), 300, actor="bench", at_ms=0, reason="b")),
    ]


def applied_changes(standings: Standings, action: ActionEntry, bib: str
                    ) -> list[dict[str, Any]]:
    """Apply `action` and say what it changed in `bib`'s race, the sure way: every row of the
    race before and after, compared."""
    race = standings.athlete(bib).race
    before = {row.bib: _view(row) for row in standings.results(race)}
    apply_action(standings, action, Applied(0))
    return [{"bib": row.bib, "before": before[row.bib], "after": _view(row)}
            for row in standings.results(race) if _view(row) != before[row.bib]]


def copying_preview(core: Any, action: ActionEntry, bib: str) -> list[dict[str, Any]]:
    """The preview as it was up to 2026-11-25 (`--copying`): the action applied to a deep copy
    of the whole standings, and every row of the race compared."""
    check_action(core.standings, action)
    race_id = core.standings.athlete(bib).race
    before = {row.bib: row for row in core.standings.results(race_id)}
    trial = copy.deepcopy(core.standings)
    apply_action(trial, action, Applied(0))
    return [{"bib": row.bib, "name": f"{row.first_name} {row.last_name}",
             "before": _view(before[row.bib]), "after": _view(row)}
            for row in trial.results(race_id) if _view(row) != _view(before[row.bib])]


def _view(row: ResultRow) -> dict[str, Any]:
    return {"place": row.place, "gender_place": row.gender_place,
            "category_place": row.category_place, "status": row.status}


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--athletes", type=int, default=50_000)
    options.add_argument("--reads-per-crossing", type=int, default=20)
    options.add_argument("--runs", type=int, default=5, help="timed previews per action")
    options.add_argument("--seed", type=int, default=1)
    options.add_argument("--copying", action="store_true",
                         help="time the former preview, on a copy of all the standings (slow: "
                              "use --runs 1)")
    args = options.parse_args()

    rng = random.Random(args.seed)
    athletes = build_athletes(args.athletes, rng)
    reads = build_reads(athletes, args.reads_per_crossing, rng)
    probe = Standings(build_event(0), [])
    standings = Standings(build_event(probe.clock.local_ms(GUN)), athletes)
    standings.add_reads(reads)
    del reads
    gc.collect()
    gc.freeze()  # as `TimingCore.start` does after its replay: the collector skips all this
    finishers = sum(row.place is not None for row in standings.results("marathon"))
    print(machine_line())
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"race: {len(athletes):,} athletes, {finishers:,} finishers, {len(POINTS)} points, "
          f"~{args.reads_per_crossing} reads per crossing")
    core: Any = SimpleNamespace(standings=standings)  # all a preview uses of the core
    dry_run = copying_preview if args.copying else preview
    print("preview: " + ("the former one, on a copy of the standings" if args.copying
                         else "api.routers.timekeeper.preview"))
    worst = 0.0
    for label, action in actions(standings):
        bib = str(action.payload["bib"])
        seconds, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            changes = dry_run(core, action, bib)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        started = time.perf_counter()
        answer = TypeAdapter(Preview).dump_json(Preview.model_validate({"changes": changes}))
        as_json = time.perf_counter() - started
        expected = applied_changes(standings, action, bib)
        same = [{key: change[key] for key in ("bib", "before", "after")}
                for change in changes] == expected
        median = statistics.median(seconds)
        worst = max(worst, median)
        print(f"{label:22} median {median * 1000:7.1f} ms (min {min(seconds) * 1000:.1f}, "
              f"max {max(seconds) * 1000:.1f}; CPU {statistics.median(cpu) * 1000:.1f}; "
              f"{args.runs} runs), {len(changes):,} rows "
              f"change; {'same as applying it' if same else 'DIFFERS FROM APPLYING IT'}; "
              f"then the response model and JSON {as_json * 1000:.0f} ms "
              f"({len(answer) / 1e6:.1f} MB)")
        if not same:
            raise SystemExit(1)
    print(f"peak memory (RSS): {peak_rss_mb():,.0f} MB; load average now "
          "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"goal (each preview under 0.3 s): {'met' if worst < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
