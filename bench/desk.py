"""Desk lookups on a big journal: what a timekeeper waits for at the console.

    python bench/desk.py                       # 4,000,000 reads, SQLite and PostgreSQL
    python bench/desk.py --reads 400000 --backend sqlite

Writes the journal of `bench/rebuild.py` (a 50,000-athlete marathon) plus a few hundred hand
times and actions, then times, 25 times each, the store queries behind the desk's routes and
prints their medians: an athlete's reads (`Store.reads_of`: their bib's hand times by the
partial index, their chips' reads by a scan: GET /api/athletes/{bib}/passings), the actions by
name (`Store.actions`: GET /api/guns, the alarms), the hand times of unknown bibs
(`Store.reads_of` with bibs only: GET /api/unknown-bibs) and one entry by seq (`Store.entry`:
POST /api/void). docs/performance.md records the figures with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import (
    Unavailable,
    drop_postgres_schema,
    machine_line,
    open_postgres,
    postgres_url,
    sqlite_url,
)
from rebuild import GUN, build_athletes, write_journal

from timing.entries import Entry, ReadEntry, gun, set_status
from timing.reads import Read
from timing.store import Store

TIMES = 25


async def add_desk_entries(store: Store, event_id: int, first: int) -> int:
    """300 hand times (100 under bibs nobody has) and 50 actions after the reads."""
    entries: list[Entry] = []
    for number in range(300):
        bib = str(number + 1) if number >= 100 else f"9{number:05d}"
        entries.append(ReadEntry("finish", Read("", GUN + timedelta(hours=3, seconds=number),
                                                bib=bib), 0, "desk"))
    entries += [set_status(str(number + 1), "DNF", reason="bench") for number in range(49)]
    entries.append(gun("marathon", None))
    await store.append(event_id, first, entries, 0)
    return first + len(entries) - 1


async def median_ms(call: Callable[[], Awaitable[object]]) -> float:
    timings = []
    for _ in range(TIMES):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def measure(store: Store, args: argparse.Namespace) -> None:
    event_id, last, _ = await write_journal(store, args)
    last = await add_desk_entries(store, event_id, last + 1)
    athletes = build_athletes(args.athletes, random.Random(args.seed))
    rng = random.Random(2)
    picks = iter(rng.sample(athletes, TIMES))

    async def passings() -> object:
        athlete = next(picks)
        return await store.reads_of(event_id, [athlete.bib], athlete.chips)

    figures = {
        "an athlete's reads (bib + chips)": await median_ms(passings),
        "hand times of 100 unknown bibs": await median_ms(
            lambda: store.reads_of(event_id, [f"9{n:05d}" for n in range(100)])),
        "actions by name (gun, status)": await median_ms(
            lambda: store.actions(event_id, ["gun", "status"])),
        "one entry by seq": await median_ms(lambda: store.entry(event_id, rng.randint(1, last))),
    }
    for name, value in figures.items():
        print(f"  {name}: median {value:,.1f} ms of {TIMES}")


async def run(backend: str, args: argparse.Namespace) -> None:
    print(f"{backend}: {args.reads:,} reads, {args.athletes:,} athletes", flush=True)
    schema = f"bench_desk_{os.getpid()}" if backend == "postgresql" else ""
    with tempfile.TemporaryDirectory(prefix="gambero-desk-", dir=args.tmp) as name:
        try:
            store = (await Store.open(sqlite_url(Path(name))) if backend == "sqlite"
                     else await open_postgres(postgres_url(args.postgres_url), schema))
        except Unavailable as error:
            print(f"{backend}: skipped: {error}")
            return
        try:
            await measure(store, args)
        finally:
            await store.close()
            if schema:
                await drop_postgres_schema(postgres_url(args.postgres_url), schema)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    options.add_argument("--reads", type=int, default=4_000_000)
    options.add_argument("--athletes", type=int, default=50_000)
    options.add_argument("--batch", type=int, default=50_000)
    options.add_argument("--postgres-url", default=None)
    options.add_argument("--tmp", default=None)
    options.add_argument("--seed", type=int, default=1)
    args = options.parse_args()
    print(machine_line())
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        asyncio.run(run(backend, args))


if __name__ == "__main__":
    main()
