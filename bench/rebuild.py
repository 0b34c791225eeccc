"""Rebuild benchmark: restart the core on a 4M-read journal (replay + standings rebuild).

    python bench/rebuild.py                          # 4,000,000 reads, SQLite and PostgreSQL
    python bench/rebuild.py --reads 400000 --backend sqlite

Writes the journal of a 50,000-athlete marathon (4 points: start, 10 km, half, finish; one
reader at each, in IPICO, Ultra, RACE RESULT and IPICO format; each chip read ~20 times per
crossing) with `Store.append` in big batches, then starts a fresh process that opens the store
and times `TimingCore.start` (load the event, replay the journal, rebuild the standings and the
de-duplication set), as a restart after a crash would. Prints the seconds and the peak RSS of
that process. Goal (issue 3): under 30 s for 4M reads. SQLite is a file in a temporary
directory; PostgreSQL is the server `bench/ingest.py` uses, in a schema of its own that is
dropped afterwards (skipped with a message if unreachable). docs/performance.md records the
figures with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import (
    Unavailable,
    cpu_seconds,
    drop_postgres_schema,
    machine_line,
    open_postgres,
    peak_rss_mb,
    postgres_url,
    shown_url,
    sqlite_url,
)

from readers.protocols.ipico import encode_ipico
from readers.protocols.raceresult import encode_raceresult
from readers.protocols.ultra import encode_ultra
from timing.clock import EventClock
from timing.core import TimingCore
from timing.entries import Entry, Journaled, ReadEntry
from timing.eventfile import EventFiles
from timing.model import Athlete, Event, Point, Race, ReaderConfig
from timing.reads import Read
from timing.store import ReadRow, Store

DAY = date(2026, 5, 10)
ZONE = "Europe/Rome"
GUN = datetime(2026, 5, 10, 9, 0)
POINTS = (Point("start", "start"), Point("km10", "split", 10_000),
          Point("half", "split", 21_097.5), Point("finish", "finish"))
READERS = (ReaderConfig("start-mat", "start", "ipico"),
           ReaderConfig("km10-mat", "km10", "ultra"),
           ReaderConfig("half-mat", "half", "raceresult"),
           ReaderConfig("finish-mat", "finish", "ipico"))
FRACTIONS = (0.0, 10 / 42.195, 0.5, 1.0)
GOAL_SECONDS = 30.0


def build_event() -> Event:
    race = Race(id="marathon", name="Marathon", distance_m=42_195,
                gun_ms=EventClock(DAY, ZONE).local_ms(GUN), min_lap_ms=60_000,
                points=tuple(point.id for point in POINTS), start_point="start",
                finish_point="finish", split_points=("km10", "half"))
    return Event(name="Rebuild bench", date=DAY, timezone=ZONE, races=(race,), points=POINTS,
                 readers=READERS, age_bounds=(0, 20, 30, 40, 50, 60, 70))


def build_athletes(count: int, rng: random.Random) -> list[Athlete]:
    return [Athlete(bib=str(n), first_name="A", last_name=f"B{n}", gender=rng.choice("FM"),
                    race="marathon", category=rng.choice(["M30-39", "F40-49", "M50-59"]),
                    chips=(f"{0x05800000_0000 + n:012x}",))
            for n in range(1, count + 1)]


def arrival_order(reads: int, athletes: int, rng: random.Random) -> list[int]:
    """Every read as one sortable integer: (ms after the gun, athlete, point), in time order.
    Each athlete starts within 15 minutes of the gun and runs 2.1 to 6 hours; at each point the
    mat reads the chip `per_crossing` times, at least 11 ms apart (distinct hundredths, so every
    read is a new one to the de-duplication)."""
    per_crossing = max(1, -(-reads // (athletes * len(POINTS))))
    keys: list[int] = []
    for athlete in range(athletes):
        start = rng.uniform(0, 900_000)
        duration = rng.uniform(2.1 * 3_600_000, 6 * 3_600_000)
        for point, fraction in enumerate(FRACTIONS):
            crossing = int(start + duration * fraction)
            for j in range(per_crossing):
                ms = crossing + j * 110 + rng.randint(0, 99)
                keys.append((ms << 24) | (athlete << 2) | point)
    keys.sort()
    del keys[reads:]
    return keys


def entries(keys: list[int], athletes: list[Athlete], batch: int) -> Iterator[list[Entry]]:
    """The journal's read entries, `batch` at a time, with the raw line each reader sent."""
    gun_utc_ms = EventClock(DAY, ZONE).local_ms(GUN)
    counters = [0] * len(READERS)
    out: list[Entry] = []
    for key in keys:
        point = key & 3
        athlete = athletes[(key >> 2) & 0x3FFFFF]
        ms = key >> 24
        moment = GUN + timedelta(milliseconds=ms)
        counters[point] += 1
        reader = READERS[point]
        out.append(ReadEntry(reader.id, _read(reader.format, athlete.chips[0], moment,
                                              counters[point]),
                             gun_utc_ms + ms + 40))
        if len(out) == batch:
            yield out
            out = []
    if out:
        yield out


def _read(kind: str, chip: str, moment: datetime, number: int) -> Read:
    """The read the reader's parser would have made of the line `encode_*` gives."""
    if kind == "ipico":
        moment = moment.replace(microsecond=moment.microsecond // 10_000 * 10_000)
        raw = encode_ipico(chip, moment).decode("ascii").rstrip()
        return Read(chip=chip, time=moment, reader="00", line=number, raw=raw)
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if kind == "ultra":
        line = encode_ultra(chip, moment, antenna=1 + number % 4, rssi=-60, log_id=number)
        return Read(chip=chip, time=moment, reader="1", antenna=1 + number % 4, rssi=-60.0,
                    sequence=number, line=number, raw=line.decode("ascii").rstrip())
    line = encode_raceresult(number, chip, moment, box_name="BOX-1", antenna=1)
    return Read(chip=chip, time=moment, reader="BOX-1", antenna=1, rssi=-68.0, sequence=number,
                line=number, raw=line.decode("latin-1").rstrip())


class TimedReplayStore(Store):
    """The store, noting the time spent fetching and decoding the journal during a replay."""

    fetch_seconds = 0.0

    async def replay_for_rebuild(self, event_id: int, batch: int = 100_000
                                 ) -> AsyncIterator[list[ReadRow | Journaled]]:
        batches = super().replay_for_rebuild(event_id, batch)
        while True:
            started = time.perf_counter()
            try:
                items = await anext(batches)
            except StopAsyncIteration:
                return
            finally:
                self.fetch_seconds += time.perf_counter() - started
            yield items


# -- the child: a restart, timed ---------------------------------------------------------------

async def restart(backend: str, url: str, schema: str, event_id: int) -> dict[str, float]:
    rss_before = peak_rss_mb()
    opened = time.perf_counter()
    if backend == "sqlite":
        store: Store = await TimedReplayStore.open(url)
    else:
        store = await open_postgres(url, schema, TimedReplayStore, create=False)
    try:
        opened = time.perf_counter() - opened
        cpu = cpu_seconds()
        started = time.perf_counter()
        core = await TimingCore.start(store, event_id)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        rss = peak_rss_mb()
        assert isinstance(store, TimedReplayStore)
        fetch = store.fetch_seconds
        finishers = sum(row.status == "FIN" for row in core.standings.results())
        await core.stop()
    finally:
        await store.close()
    return {"seconds": seconds, "open_seconds": opened, "fetch_seconds": fetch,
            "cpu_seconds": cpu, "rss_mb": rss, "rss_before_mb": rss_before,
            "seq": core.seq, "finishers": finishers, "seen": len(getattr(core, "_seen", ()))}


# -- the parent: write the journal, start the child --------------------------------------------

async def write_journal(store: Store, args: argparse.Namespace) -> tuple[int, int, float]:
    rng = random.Random(args.seed)
    athletes = build_athletes(args.athletes, rng)
    imported = time.perf_counter()
    report = await store.import_event(EventFiles(build_event(), Path("."), athletes, []))
    print(f"  event imported in {time.perf_counter() - imported:.1f} s", flush=True)
    keys = arrival_order(args.reads, args.athletes, rng)
    appending = 0.0
    seq = 1
    for batch in entries(keys, athletes, args.batch):
        started = time.perf_counter()
        await store.append(report.event_id, seq, batch, 0)
        appending += time.perf_counter() - started
        seq += len(batch)
    return report.event_id, seq - 1, appending


async def prepare(backend: str, args: argparse.Namespace, folder: Path,
                  schema: str) -> tuple[int, int, float]:
    """Write the journal and close the store; (event id, entries, seconds)."""
    if backend == "sqlite":
        store = await Store.open(sqlite_url(folder))
    else:
        store = await open_postgres(postgres_url(args.postgres_url), schema)
    try:
        return await write_journal(store, args)
    finally:
        await store.close()


def run_backend(backend: str, args: argparse.Namespace) -> float | None:
    schema = f"bench_rebuild_{os.getpid()}" if backend == "postgresql" else ""
    with tempfile.TemporaryDirectory(prefix="gambero-rebuild-", dir=args.tmp) as name:
        folder = Path(name)
        url = sqlite_url(folder) if backend == "sqlite" else postgres_url(args.postgres_url)
        where = folder if backend == "sqlite" else f"{shown_url(url)}, schema {schema}"
        print(f"{backend}: {where}", flush=True)
        try:
            event_id, count, written = asyncio.run(prepare(backend, args, folder, schema))
        except Unavailable as error:
            print(f"{backend}: skipped: {error}")
            return None
        except BaseException:
            if schema:
                asyncio.run(drop_postgres_schema(url, schema))
            raise
        try:
            size = ""
            if backend == "sqlite":
                megabytes = sum(path.stat().st_size for path in folder.iterdir()) / 1e6
                size = f", {megabytes:,.0f} MB on disk"
            print(f"  journal of {count:,} reads written; Store.append took {written:.1f} s "
                  f"({count / written:,.0f} rows/s){size}")
            child = subprocess.run(
                [sys.executable, __file__, "--child", backend, "--url", url, "--schema", schema,
                 "--event-id", str(event_id)], capture_output=True, text=True, check=False)
            if child.returncode != 0:
                raise SystemExit(f"the restart failed:\n{child.stderr}")
            figures = json.loads(child.stdout.strip().splitlines()[-1])
        finally:
            if schema:
                asyncio.run(drop_postgres_schema(url, schema))
    seconds = float(figures["seconds"])
    other = seconds - figures["fetch_seconds"]
    print(f"  TimingCore.start: {seconds:.1f} s ({figures['seq'] / seconds:,.0f} entries/s; "
          f"journal fetch + decode {figures['fetch_seconds']:.1f} s, standings + "
          f"de-duplication {other:.1f} s; CPU {figures['cpu_seconds']:.1f} s); "
          f"store opened in {figures['open_seconds']:.1f} s")
    print(f"  peak RSS {figures['rss_mb']:,.0f} MB (process before opening the store: "
          f"{figures['rss_before_mb']:,.0f} MB); {figures['seq']:,} entries replayed, "
          f"{figures['seen']:,} de-duplication keys, {figures['finishers']:,} finishers")
    if figures["seq"] != count:
        raise SystemExit(f"replayed {figures['seq']:,} entries, but {count:,} were written")
    return seconds


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    options.add_argument("--reads", type=int, default=4_000_000)
    options.add_argument("--athletes", type=int, default=50_000)
    options.add_argument("--batch", type=int, default=50_000,
                         help="entries per Store.append while writing the journal")
    options.add_argument("--postgres-url", default=None)
    options.add_argument("--tmp", default=None, help="where the SQLite file goes")
    options.add_argument("--seed", type=int, default=1)
    options.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    options.add_argument("--url", help=argparse.SUPPRESS)
    options.add_argument("--schema", help=argparse.SUPPRESS)
    options.add_argument("--event-id", type=int, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(restart(args.child, args.url, args.schema,
                                             args.event_id))))
        return
    if args.reads < 1 or not 1 <= args.athletes < 1 << 22 or args.batch < 1:
        options.error("--reads and --batch must be positive, --athletes 1 to 4,194,303")

    print(machine_line())
    print(f"event: {args.athletes:,} athletes, {len(POINTS)} points, {args.reads:,} reads")
    results: dict[str, float | None] = {}
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        results[backend] = run_backend(backend, args)
    figures = [f"{backend} {seconds:.1f} s" for backend, seconds in results.items()
               if seconds is not None]
    if figures and args.reads >= 4_000_000:
        met = all(seconds < GOAL_SECONDS for seconds in results.values() if seconds is not None)
        print(f"goal (rebuild of a 4M-read journal < {GOAL_SECONDS:.0f} s): "
              f"{'met' if met else 'NOT met'} ({', '.join(figures)})")


if __name__ == "__main__":
    main()
