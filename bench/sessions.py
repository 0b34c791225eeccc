"""Reader sessions benchmark: TCP readers on 127.0.0.1 -> `readers.session` -> the timing core.

    python bench/sessions.py                         # SQLite and PostgreSQL, 4 readers
    python bench/sessions.py --backend sqlite --reads 100000

Where `bench/ingest.py` measures the core with readers that wait for each acknowledgement before
reading on, this runs the real live path: each simulated reader is a TCP server on 127.0.0.1
that sends its whole backlog at once (as a reader does when a rewind asks for everything after a
long outage), and a `ReaderManager` connects one `ReaderSession` to each, as
`gambero readers run` does. A session keeps reading and parsing while its previous submission
is being committed, and submits what piled up meanwhile in one go. The figure is reads stored
per second, from the first connection until every read is in the journal. The event and the
read lines are those of bench/ingest.py (same generator, same seed).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import Unavailable, backend_store, cpu_seconds, machine_line
from ingest import (
    Stream,
    build_athletes,
    build_event,
    build_stream,
    reader_configs,
)

from readers.manager import ReaderManager
from readers.session import SessionSettings
from timing.core import TimingCore
from timing.eventfile import EventFiles
from timing.model import Athlete, Event
from timing.store import Store


async def serve(stream: Stream, done: asyncio.Event) -> asyncio.Server:
    async def send(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(stream.data)
        await writer.drain()
        await done.wait()  # stay connected, silent, like a reader after its backlog
        writer.close()

    return await asyncio.start_server(send, "127.0.0.1", 0)


async def run(backend: str, args: argparse.Namespace, event: Event, athletes: list[Athlete],
              streams: list[Stream]) -> None:
    with tempfile.TemporaryDirectory(dir=args.tmp) as folder:
        try:
            async with backend_store(backend, Path(folder), args.postgres_url,
                                     "sessions") as (store, where):
                await measure(backend, where, store, args, event, athletes, streams)
        except Unavailable as error:
            print(f"{backend}: skipped, {error}")


async def measure(backend: str, where: str, store: Store, args: argparse.Namespace,
                  event: Event, athletes: list[Athlete], streams: list[Stream]) -> None:
    event_id = (await store.import_event(EventFiles(event, Path("."), athletes, []))).event_id
    core = await TimingCore.start(store, event_id)
    done = asyncio.Event()
    servers = [await serve(stream, done) for stream in streams]
    hosts = {stream.reader.id: f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
             for stream, server in zip(streams, servers, strict=True)}
    manager = ReaderManager(core.submit, timezone=event.timezone,
                            settings=SessionSettings(drift_limit_ms=10**12,
                                                     max_batch=args.session_batch))
    for reader in event.readers:
        manager.add(dataclasses.replace(reader, host=hosts[reader.id]))
    total = sum(len(stream.ends) for stream in streams)
    cpu, began = cpu_seconds(), time.perf_counter()
    manager.start_all()
    while sum(health.reads for health in manager.health()) < total:
        await asyncio.sleep(0.01)
        if time.perf_counter() - began > args.timeout:
            print(f"{backend}: gave up after {args.timeout:g} s")
            break
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds() - cpu
    stored = sum(health.reads for health in manager.health())
    await manager.stop_all()
    done.set()
    await core.stop()
    for server in servers:
        server.close()
        await server.wait_closed()
    per_commit = core.stats.entries / max(1, core.stats.commits)
    print(f"{backend} ({where}): {stored:,} reads in {elapsed:.2f} s = "
          f"{stored / elapsed:,.0f} reads/s through {len(streams)} TCP sessions; "
          f"{core.stats.commits:,} commits ({per_commit:,.0f} entries each on average); "
          f"CPU {cpu:.1f} s ({100 * cpu / elapsed:.0f} % of one core)")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    options.add_argument("--readers", type=int, default=4)
    options.add_argument("--reads", type=int, default=200_000, help="in all (default 200,000)")
    options.add_argument("--athletes", type=int, default=20_000)
    options.add_argument("--timeout", type=float, default=120.0)
    options.add_argument("--session-batch", type=int, default=SessionSettings.max_batch,
                         help="most records a session submits at once "
                              f"(default {SessionSettings.max_batch})")
    options.add_argument("--postgres-url", default=None)
    options.add_argument("--tmp", default=None)
    options.add_argument("--seed", type=int, default=1)
    args = options.parse_args()
    readers = reader_configs(args.readers)
    event = build_event(readers)
    athletes = build_athletes(args.athletes, random.Random(args.seed))
    streams = [build_stream(reader, index, args.reads // len(readers), args.athletes, args.seed)
               for index, reader in enumerate(readers)]
    print(machine_line())
    print(f"event: {args.athletes:,} athletes; {len(readers)} readers "
          f"({', '.join(r.format for r in readers)}), "
          f"{sum(len(s.ends) for s in streams):,} read lines")
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        asyncio.run(run(backend, args, event, athletes, streams))


if __name__ == "__main__":
    main()
