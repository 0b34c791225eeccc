"""Ingest benchmark: simulated chip readers -> parse -> journal commit -> standings -> bus.

    python bench/ingest.py                                  # saturation, SQLite and PostgreSQL
    python bench/ingest.py --backend sqlite --seconds 10    # a quicker run
    python bench/ingest.py --rate 5000                      # a fixed offered load: latency
    python bench/ingest.py --in-flight 3                    # pipelined readers
    python bench/ingest.py --sessions --rate 50000          # readers as live sessions run them

A synthetic event (20,000 athletes finishing a marathon) is timed by 4 readers in their own wire
formats: 2 IPICO mats on the finish line, an Ultra and a RACE RESULT decoder on the backup line
(`--readers N` cycles through that mix). Each reader is an asyncio task holding the bytes its
device sends; it takes them in 4 KiB chunks, as a TCP recv would give them, feeds its parser,
submits the records to the core (`TimingCore.submit`) and waits for the acknowledgement (the
group commit) before taking the next chunk. With `--in-flight N` a reader keeps up to N
submissions in flight (it parses and submits the next chunk while earlier ones commit) and takes
their acknowledgements in order. With `--sessions` (needs `--rate`) a reader runs as
`readers.session` does: it keeps reading and parsing what arrives while its submission commits,
then submits what piled up (one submission in flight, at most `--session-batch` records).
One subscriber drains the core's bus. Saturation (the default) offers every chunk as soon as
the previous one is acknowledged; `--rate R` offers R reads/s in all, each line arriving on
schedule whether or not the core keeps up (so a slow core shows as latency, not as a lower
offered rate).

Figures, over the measured window (after the warm-up): sustained reads/s; acknowledgement
latency per submission (from the arrival of the oldest byte of the chunk to `submit` returning;
with `--sessions`, per chunk, from the arrival of its first line to the acknowledgement of the
submission that carried it):
p50, p99, max; group-commit batch sizes; where the time goes per read; CPU used. SQLite is a
file in a temporary directory (WAL, synchronous=FULL, as the core runs it); PostgreSQL is the
server named by `--postgres-url` (default `$GAMBERO_BENCH_POSTGRES_URL`, else
`$GAMBERO_TEST_POSTGRES_URL`, else the local test server), in a schema of its own that is dropped
afterwards (so tests running beside it are not disturbed), skipped with a message if unreachable.
Goals (issue 3): at least 50,000 reads/s sustained on SQLite with 4 readers, p99 acknowledgement
under 50 ms. docs/performance.md records the figures with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import (
    CollectionTimer,
    Unavailable,
    backend_store,
    children_cpu_seconds,
    cpu_seconds,
    machine_line,
    peak_rss_mb,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from readers.protocols import make_parser
from readers.protocols.ipico import encode_ipico
from readers.protocols.raceresult import encode_raceresult
from readers.protocols.ultra import encode_ultra
from timing.bus import Lagged
from timing.clock import EventClock
from timing.core import Delta, Submitted, TimingCore
from timing.entries import Entry
from timing.eventfile import EventFiles
from timing.model import Athlete, Event, Point, Race, ReaderConfig
from timing.reads import Read, Record
from timing.store import Store

DAY = date(2026, 5, 10)
ZONE = "Europe/Rome"
GUN = datetime(2026, 5, 10, 9, 0)
FIRST_FINISH = GUN + timedelta(hours=2, minutes=5)
MIX = ("ipico", "ipico", "ultra", "raceresult")
"""Reader formats, in the order readers are added: finish line first, then the backup line."""
CHUNK_BYTES = 4096
GOAL_READS_PER_S = 50_000
GOAL_P99_MS = 50.0


# -- the event and what the readers send -------------------------------------------------------

def reader_configs(count: int) -> tuple[ReaderConfig, ...]:
    readers = []
    for index in range(count):
        kind = MIX[index % len(MIX)]
        line = "finish" if kind == "ipico" else "backup"
        readers.append(ReaderConfig(f"{line}-{kind}-{index + 1}", "finish", kind))
    return tuple(readers)


def build_event(readers: tuple[ReaderConfig, ...]) -> Event:
    gun_ms = EventClock(DAY, ZONE).local_ms(GUN)
    race = Race(id="marathon", name="Marathon", distance_m=42_195, gun_ms=gun_ms,
                min_lap_ms=60_000, points=("finish",), finish_point="finish")
    return Event(name="Ingest bench", date=DAY, timezone=ZONE, races=(race,),
                 points=(Point("finish", "finish"),), readers=readers,
                 age_bounds=(0, 20, 30, 40, 50, 60, 70))


def chip_of(kind: str, number: int) -> str:
    """Athlete `number`'s chip as the readers of format `kind` know it (each athlete wears an
    IPICO tag, an Ultra tag and a RACE RESULT transponder)."""
    if kind == "ipico":
        return f"{0x05800000_0000 + number:012x}"
    if kind == "ultra":
        return str(100_000 + number)
    return f"R{number:06d}"


def build_athletes(count: int, rng: random.Random) -> list[Athlete]:
    return [Athlete(bib=str(n), first_name="A", last_name=f"B{n}", gender=rng.choice("FM"),
                    race="marathon", category=rng.choice(["M30-39", "F40-49", "M50-59"]),
                    chips=tuple(chip_of(kind, n) for kind in ("ipico", "ultra", "raceresult")))
            for n in range(1, count + 1)]


@dataclass
class Stream:
    """Everything one reader will send, and where each line ends."""

    reader: ReaderConfig
    data: bytes
    ends: list[int]
    """Byte offset just past each line."""


def build_stream(reader: ReaderConfig, index: int, lines: int, athletes: int,
                 seed: int) -> Stream:
    """`lines` read lines from one reader, in the order of the reader's clock: every athlete
    (and one unregistered chip in 200) crosses once, 0.1 s apart; the reader reports each chip
    `per_crossing` times while it is in the field, at least 11 ms apart (IPICO hundredths stay
    distinct, so every line is a new read)."""
    rng = random.Random(seed * 1000 + index)
    crossers = list(range(1, athletes + athletes // 200 + 1))
    random.Random(seed).shuffle(crossers)  # the same finish order on every line
    per_crossing = max(1, math.ceil(lines / len(crossers)))
    reads: list[tuple[int, int]] = []
    for position, number in enumerate(crossers):
        base = position * 100 + rng.randint(0, 200)
        reads.extend((base + j * 110 + rng.randint(0, 99), number) for j in range(per_crossing))
    reads.sort()
    del reads[lines:]
    encode = _encoder(reader.format, index)
    out = bytearray()
    ends: list[int] = []
    for sequence, (offset_ms, number) in enumerate(reads, start=1):
        out += encode(chip_of(reader.format, number),
                      FIRST_FINISH + timedelta(milliseconds=offset_ms), sequence, rng)
        ends.append(len(out))
    return Stream(reader, bytes(out), ends)


def _encoder(kind: str, index: int) -> Callable[[str, datetime, int, random.Random], bytes]:
    if kind == "ipico":
        reader_id = f"{index % 256:02x}"
        return lambda chip, moment, _seq, _rng: encode_ipico(chip, moment, reader_id)
    if kind == "ultra":
        return lambda chip, moment, seq, rng: encode_ultra(
            chip, moment, antenna=rng.randint(1, 4), rssi=-rng.randint(50, 80), reader_no=1,
            log_id=seq)
    return lambda chip, moment, seq, rng: encode_raceresult(
        seq, chip, moment, rssi=-rng.randint(50, 80), box_name=f"BOX-{index + 1}",
        antenna=rng.randint(1, 8))


# -- instrumented store and core ---------------------------------------------------------------

class TimedStore(Store):
    """The store, noting each group commit: (start, seconds, entries)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.commits: list[tuple[float, float, int]] = []

    async def append(self, event_id: int, first_seq: int, entries: Sequence[Entry],
                     recorded_ms: int) -> None:
        started = time.perf_counter()
        await super().append(event_id, first_seq, entries, recorded_ms)
        self.commits.append((started, time.perf_counter() - started, len(entries)))


class TimedCore(TimingCore):
    """The core, noting the time spent applying each commit to the standings and publishing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.publish_seconds: list[tuple[float, float]] = []

    def _publish(self, first: int, entries: list[Entry]) -> None:
        started = time.perf_counter()
        super()._publish(first, entries)
        self.publish_seconds.append((started, time.perf_counter() - started))


# -- the run -----------------------------------------------------------------------------------

@dataclass
class ReaderLog:
    submissions: list[tuple[float, float, int]] = field(default_factory=list)
    """(acknowledged at, latency s, reads) per submission."""
    parse_seconds: list[tuple[float, float, int]] = field(default_factory=list)
    """(started at, seconds, lines) per chunk."""
    ran_dry: bool = False
    rejected: int = 0


async def run_reader(core: TimingCore, stream: Stream, log: ReaderLog, started: float,
                     stop_at: float, rate: float | None, chunk_bytes: int,
                     in_flight: int) -> None:
    parser = make_parser(stream.reader.format)
    reader_id = stream.reader.id
    data, ends = stream.data, stream.ends
    clock = time.perf_counter
    waiting: deque[tuple[asyncio.Task[Submitted], float, int]] = deque()

    async def oldest_acknowledged() -> None:
        task, arrived, reads = waiting.popleft()
        answer = await task
        log.rejected += answer.rejected
        log.submissions.append((clock(), clock() - arrived, reads))

    offset = 0
    while offset < len(data):
        now = clock()
        if now >= stop_at:
            break
        if rate is None:  # saturation: the next 4 KiB are always waiting
            end = min(offset + chunk_bytes, len(data))
            arrived = now
        else:
            waiting_lines = min(len(ends), int((now - started) * rate) + 1)
            available = ends[waiting_lines - 1]
            if available <= offset:  # nothing arrived yet: wait for the next line
                await asyncio.sleep(max(0.0, started + waiting_lines / rate - clock()))
                continue
            end = min(available, offset + chunk_bytes)
            arrived = started + bisect_right(ends, offset) / rate
        chunk = data[offset:end]
        offset = end
        parse_start = clock()
        records: list[Record] = parser.feed(chunk)
        log.parse_seconds.append((parse_start, clock() - parse_start, len(records)))
        if not records:
            continue
        reads = sum(isinstance(record, Read) for record in records)
        waiting.append((asyncio.ensure_future(core.submit(reader_id, records)), arrived, reads))
        if len(waiting) >= in_flight:
            await oldest_acknowledged()
        else:
            await asyncio.sleep(0)  # let the core take the submission
    else:
        log.ran_dry = True
    while waiting:
        await oldest_acknowledged()


async def run_session(core: TimingCore, stream: Stream, log: ReaderLog, started: float,
                      stop_at: float, rate: float, chunk_bytes: int, max_batch: int,
                      poll_s: float) -> None:
    """A reader as `readers.session.ReaderSession` runs it (`--sessions`): a link task takes
    what has arrived (at most `chunk_bytes` at a time, as a recv gives it), parses it and queues
    the records at once, whether or not a submission is in flight; a submit task hands the core
    everything queued (at most `max_batch` records), waits for that acknowledgement, then
    submits what piled up meanwhile. One submission in flight, as in a session. A chunk's
    latency runs from the arrival of its first line (on the offered schedule, not when the link
    got round to it) to the acknowledgement of the submission that carried it."""
    parser = make_parser(stream.reader.format)
    reader_id = stream.reader.id
    data, ends = stream.data, stream.ends
    clock = time.perf_counter
    pending: list[Record] = []
    chunks: deque[tuple[float, int, int]] = deque()
    """(arrival, records, reads) of each parsed chunk in `pending`, oldest first."""
    arrived = asyncio.Event()
    linked = False

    async def link() -> None:
        nonlocal linked
        offset = 0
        try:
            while offset < len(data):
                now = clock()
                if now >= stop_at:
                    return
                waiting_lines = min(len(ends), int((now - started) * rate) + 1)
                available = ends[waiting_lines - 1]
                if available <= offset:  # nothing new: look again when the next line is due
                    await asyncio.sleep(max(poll_s, started + waiting_lines / rate - clock()))
                    continue
                end = min(available, offset + chunk_bytes)
                first_line = bisect_right(ends, offset)
                chunk, offset = data[offset:end], end
                parse_start = clock()
                records: list[Record] = parser.feed(chunk)
                log.parse_seconds.append((parse_start, clock() - parse_start, len(records)))
                if records:
                    pending.extend(records)
                    reads = sum(isinstance(record, Read) for record in records)
                    chunks.append((started + first_line / rate, len(records), reads))
                    arrived.set()
                await asyncio.sleep(0)  # one recv at a time: let the rest of the loop run
            log.ran_dry = True
        finally:
            linked = True
            arrived.set()

    async def submit() -> None:
        while pending or not linked:
            if not pending:
                arrived.clear()
                await arrived.wait()
                continue
            size, taken = 0, list[tuple[float, int, int]]()
            while chunks and (not taken or size + chunks[0][1] <= max_batch):
                taken.append(chunks.popleft())
                size += taken[-1][1]
            batch = pending[:size]
            del pending[:size]
            answer = await core.submit(reader_id, batch)
            log.rejected += answer.rejected
            acknowledged = clock()
            log.submissions.extend((acknowledged, acknowledged - arrival, reads)
                                   for arrival, _, reads in taken)

    await asyncio.gather(link(), submit())


@dataclass
class BusLog:
    deltas: int = 0
    rows: int = 0
    lagged: int = 0


async def drain(core: TimingCore, log: BusLog) -> None:
    subscription = core.bus.subscribe()
    try:
        async for message in subscription:
            if isinstance(message, Lagged):
                log.lagged += message.missed
            elif isinstance(message, Delta):
                log.deltas += 1
                log.rows += len(message.rows)
    finally:
        subscription.close()


@dataclass
class Outcome:
    reads_per_s: float
    p99_ms: float


async def run_backend(backend: str, args: argparse.Namespace, event: Event,
                      athletes: list[Athlete], streams: list[Stream]) -> Outcome | None:
    with tempfile.TemporaryDirectory(prefix="gambero-ingest-", dir=args.tmp) as folder:
        try:
            async with backend_store(backend, Path(folder), args.postgres_url, "ingest",
                                     TimedStore) as (store, where):
                return await measure(backend, where, store, args, event, athletes, streams)
        except Unavailable as error:
            print(f"{backend}: skipped: {error}")
            return None


async def measure(backend: str, where: str, store: Store, args: argparse.Namespace,
                  event: Event, athletes: list[Athlete], streams: list[Stream]) -> Outcome:
    assert isinstance(store, TimedStore)
    imported = time.perf_counter()
    report = await store.import_event(EventFiles(event, Path("."), athletes, []))
    imported = time.perf_counter() - imported
    options = {} if args.window_ms is None else {"window_s": args.window_ms / 1000}
    core = await TimedCore.start(store, report.event_id, **options)
    assert isinstance(core, TimedCore)
    store.commits = []
    core.publish_seconds = []
    mode = "saturation" if args.rate is None else f"offered {args.rate:,.0f} reads/s"
    formats = ", ".join(f"{sum(s.reader.format == kind for s in streams)} {kind}"
                        for kind in dict.fromkeys(s.reader.format for s in streams))
    print(f"{backend}: {where}")
    readers = (f"reader sessions (reading ahead, at most {args.session_batch:,} records per "
               "submission, 1 in flight)" if args.sessions else
               f"{args.in_flight} submission{'s' if args.in_flight > 1 else ''} in flight each")
    print(f"  {mode}, {len(streams)} readers ({formats}), {args.chunk:,}-byte chunks, "
          f"{readers}, {core.window_s * 1000:g} ms commit window, {args.seconds:g} s "
          f"({args.warmup:g} s warm-up); event imported in {imported:.1f} s")

    collections = CollectionTimer()
    bus_log = BusLog()
    consumer = asyncio.create_task(drain(core, bus_log))
    logs = [ReaderLog() for _ in streams]
    started = time.perf_counter()
    stop_at = started + args.seconds
    per_reader_rate = None if args.rate is None else args.rate / len(streams)
    window_start = started + args.warmup
    cpu_marks: list[tuple[float, float, float]] = []
    asyncio.get_running_loop().call_later(
        args.warmup, lambda: cpu_marks.append((time.perf_counter(), cpu_seconds(),
                                               children_cpu_seconds())))
    if args.sessions:
        assert per_reader_rate is not None
        await asyncio.gather(*(run_session(core, stream, log, started, stop_at, per_reader_rate,
                                           args.chunk, args.session_batch,
                                           args.poll_ms / 1000)
                               for stream, log in zip(streams, logs, strict=True)))
    else:
        await asyncio.gather(*(run_reader(core, stream, log, started, stop_at, per_reader_rate,
                                          args.chunk, args.in_flight)
                               for stream, log in zip(streams, logs, strict=True)))
    ended = time.perf_counter()
    cpu_end, writer_cpu_end = cpu_seconds(), children_cpu_seconds()
    collections.stop()
    await core.stop()
    await asyncio.sleep(0)
    consumer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer

    window_end = min(ended, stop_at)
    if any(log.ran_dry for log in logs):
        window_end = max(sub[0] for log in logs for sub in log.submissions)
    span = window_end - window_start
    if span <= 0:
        raise SystemExit("the measured window is empty: raise --seconds or lower --warmup")
    in_window = [sub for log in logs for sub in log.submissions
                 if window_start <= sub[0] <= window_end]
    reads = sum(sub[2] for sub in in_window)
    latencies = sorted(sub[1] * 1000 for sub in in_window)
    commits = [c for c in store.commits if window_start <= c[0] <= window_end]
    sizes = sorted(c[2] for c in commits)
    parse = [p for log in logs for p in log.parse_seconds if window_start <= p[0] <= window_end]
    publish = [p for p in core.publish_seconds if window_start <= p[0] <= window_end]
    entries = sum(sizes) or 1
    parsed = sum(p[2] for p in parse) or 1

    reads_per_s = reads / span
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    note = ""
    if any(log.ran_dry for log in logs):
        note = "; the readers ran out of data: raise --max-rate"
    elif args.rate is not None and reads_per_s < 0.98 * args.rate:
        note = "; the core fell behind the offered rate"
    units = "chunks" if args.sessions else "submissions"
    print(f"  sustained: {reads_per_s:,.0f} reads/s over {span:.1f} s "
          f"({reads:,} reads in {len(in_window):,} {units}{note})")
    unit = ("per chunk (its first line's arrival -> ack)" if args.sessions
            else "per submission")
    print(f"  ack latency {unit}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {latencies[-1] if latencies else 0:.1f} ms")
    if sizes:
        commit_ms = sorted(c[1] * 1000 for c in commits)
        print(f"  group commit: {len(commits):,} commits ({len(commits) / span:,.0f}/s), "
              f"batch median {statistics.median(sizes):,.0f} entries "
              f"(p99 {percentile(sizes, 0.99):,.0f}, max {sizes[-1]:,}); "
              f"append+commit median {statistics.median(commit_ms):.1f} ms, "
              f"p99 {percentile(commit_ms, 0.99):.1f} ms")
    cpu_window = writer_window = None
    if cpu_marks:
        cpu_window = (cpu_end - cpu_marks[0][1]) / (ended - cpu_marks[0][0])
        writer_window = (writer_cpu_end - cpu_marks[0][2]) / (ended - cpu_marks[0][0])
    standings = "n/a" if not publish else f"{sum(p[1] for p in publish) / entries * 1e6:.1f} us"
    print(f"  per read: parse {sum(p[1] for p in parse) / parsed * 1e6:.1f} us, "
          f"append+commit {sum(c[1] for c in commits) / entries * 1e6:.1f} us (wall), "
          f"standings+publish {standings}; "
          f"CPU {'n/a' if cpu_window is None else f'{cpu_window:.2f}'} cores of "
          f"{os.cpu_count()} (this process)"
          + (f" + {writer_window:.2f} (its SQLite journal writer)" if writer_window else ""))
    print(f"  garbage collections (each stops the loop): "
          f"{collections.summary(window_start, window_end)}")
    if args.save_timings:
        args.save_timings.write_text(json.dumps({
            "window": [window_start, window_end],
            "chunks": sorted(sub[:2] for log in logs for sub in log.submissions),
            "commits": store.commits, "publish": core.publish_seconds,
            "collections": collections.collections}))
    rejected = sum(log.rejected for log in logs)
    print(f"  bus: {bus_log.deltas:,} deltas, {bus_log.rows:,} rows, {bus_log.lagged:,} missed "
          f"(lagged); rejected lines: {rejected}; journal: {core.seq:,} entries; "
          f"peak RSS {peak_rss_mb():,.0f} MB")
    return Outcome(reads_per_s, p99)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted `values` lie (nearest rank)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(fraction * len(values)) - 1))]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    options.add_argument("--seconds", type=float, default=20.0,
                         help="length of each run, warm-up included (default 20)")
    options.add_argument("--warmup", type=float, default=None,
                         help="seconds left out of the figures (default: a fifth, at most 4)")
    options.add_argument("--readers", type=int, default=4)
    options.add_argument("--rate", type=float, default=None,
                         help="offer this many reads/s in all instead of saturating the core")
    options.add_argument("--chunk", type=int, default=CHUNK_BYTES,
                         help=f"bytes a reader takes at a time (default {CHUNK_BYTES})")
    options.add_argument("--in-flight", type=int, default=1,
                         help="submissions a reader keeps in flight (acknowledged in order)")
    options.add_argument("--sessions", action="store_true",
                         help="readers as live sessions run them: read and parse ahead while a "
                              "submission commits, then submit what piled up (needs --rate)")
    options.add_argument("--session-batch", type=int, default=1000,
                         help="--sessions: most records per submission (default 1000, as "
                              "readers.session)")
    options.add_argument("--poll-ms", type=float, default=1.0,
                         help="--sessions: a link with nothing to read looks again after at "
                              "least this long (default 1 ms: data comes in TCP segments, "
                              "not line by line)")
    options.add_argument("--window-ms", type=float, default=None,
                         help="the core's group-commit window (default: the core's own)")
    options.add_argument("--athletes", type=int, default=20_000)
    options.add_argument("--max-rate", type=float, default=60_000,
                         help="saturation: data is made for at most this many reads/s "
                              "(the readers say so if they run out)")
    options.add_argument("--postgres-url", default=None)
    options.add_argument("--tmp", default=None, help="where the SQLite file goes")
    options.add_argument("--seed", type=int, default=1)
    options.add_argument("--save-timings", type=Path, default=None,
                         help="write every acknowledgement, commit and collection as JSON")
    args = options.parse_args()
    if args.readers < 1 or args.seconds <= 0 or args.chunk < 1 or args.in_flight < 1:
        options.error("--readers, --seconds, --chunk and --in-flight must be positive")
    if args.sessions and (args.rate is None or args.in_flight != 1 or args.session_batch < 1):
        options.error("--sessions needs --rate (at saturation, reading ahead has no bound), "
                      "one submission in flight and a positive --session-batch")
    if args.warmup is None:
        args.warmup = min(4.0, args.seconds / 5)

    readers = reader_configs(args.readers)
    event = build_event(readers)
    rng = random.Random(args.seed)
    athletes = build_athletes(args.athletes, rng)
    offered = args.max_rate if args.rate is None else args.rate
    lines = math.ceil(offered * args.seconds * 1.05 / len(readers)) + 1000
    made = time.perf_counter()
    streams = [build_stream(reader, index, lines, args.athletes, args.seed)
               for index, reader in enumerate(readers)]
    made = time.perf_counter() - made
    print(machine_line())
    print(f"event: {args.athletes:,} athletes, {len(readers)} readers on the finish and backup "
          f"lines; {sum(len(s.ends) for s in streams):,} read lines "
          f"({sum(len(s.data) for s in streams) / 1e6:.0f} MB) made in {made:.1f} s")

    outcomes: dict[str, Outcome | None] = {}
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        outcomes[backend] = asyncio.run(run_backend(backend, args, event, athletes, streams))
    sqlite = outcomes.get("sqlite")
    if sqlite is not None:
        if args.rate is None and args.readers == 4:
            met = sqlite.reads_per_s >= GOAL_READS_PER_S and sqlite.p99_ms < GOAL_P99_MS
            print(f"goals on SQLite (>= {GOAL_READS_PER_S:,} reads/s with 4 readers, p99 ack < "
                  f"{GOAL_P99_MS:.0f} ms): {'met' if met else 'NOT met'}")
        elif args.rate is not None and args.rate >= GOAL_READS_PER_S and args.readers == 4:
            met = sqlite.reads_per_s >= 0.98 * args.rate and sqlite.p99_ms < GOAL_P99_MS
            print(f"goals on SQLite (>= {GOAL_READS_PER_S:,} reads/s sustained with 4 readers, "
                  f"p99 ack < {GOAL_P99_MS:.0f} ms): {'met' if met else 'NOT met'}")
        elif args.rate is not None:
            met = sqlite.p99_ms < GOAL_P99_MS
            print(f"goal on SQLite (p99 ack < {GOAL_P99_MS:.0f} ms at {args.rate:,.0f} reads/s): "
                  f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
