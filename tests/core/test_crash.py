"""Crash safety, tested for real (issue 3, point 7).

Each trial imports a small event, then runs the timing core in a subprocess
(`tests/core/crash_child.py`) and streams reads into it from four readers at once: unique reads
(every one identifiable by reader, chip and reader time), re-sent reads and a few corrupt lines.
The child prints `ACK <token>` once `core.submit` has returned for a line. At a random moment
(after a random number of acknowledgements, plus a random few milliseconds, so that the kill
lands anywhere: mid-batch, mid-commit, between a commit and its ACK) the child gets SIGKILL.
Right after each kill the journal must already hold every acknowledged read, exactly once, and
every submission whole or not at all. A new child on the same database then gets what was not
acknowledged, after a rewind of each reader (re-sending some reads it had acknowledged, as a
reader does after a reconnect). One or two kills per trial; the last child is stopped cleanly.

At the end the journal holds exactly the reads streamed, each once, and the standings that
`TimingCore.start` rebuilds from the journal equal the last child's live standings, a batch
rescore of the journal's reads, and a batch rescore of the streamed reads.

The streams and kill moments are drawn from seeded generators (`SEED`); where a kill lands also
depends on the machine's timing, which is the point. Set GAMBERO_CRASH_TRIALS to run more
trials. Each trial prints how far its children got (`pytest -s`): "lines in doubt" are lines a
child committed but was killed before acknowledging. On PostgreSQL the trials use a database of
their own, made for the module and dropped after it. Everything runs on local files or the
loopback PostgreSQL server; every child is killed in a `finally`.

Two narrower crash cases follow: a replay arriving while the read it repeats is still being
committed, and a first start killed while it creates the schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from readers.protocols.ipico import IpicoParser, encode_ipico, parse_line
from timing.core import TimingCore
from timing.entries import ReadEntry, encode_time
from timing.eventfile import EventFiles, load_event
from timing.journal import JournalRow
from timing.reads import Read, Rejected
from timing.results import results_csv
from timing.standings import Standings
from timing.store import Store

from ..databases import fresh_url, postgres_url, reset_postgres

ROOT = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("GAMBERO_CRASH_TRIALS", "20"))
SEED = "gambero-crash"
TIMEOUT_S = 60.0
DAY = datetime(2026, 5, 10)
GUN = DAY.replace(hour=9)

ReadKey = tuple[str, str, int]
"""(reader id, chip, reader time in µs as the journal stores it): one read."""

EVENT_TOML = """\
[event]
name = "Crash Test 10K"
date = "2026-05-10"
timezone = "Europe/Rome"

[categories]
age_bounds = [0, 20, 40, 60]

[[races]]
id = "10k"
name = "10K"
distance_m = 10000
gun = "09:00:00"
rank_by = "chip"
min_lap_s = 60
precision = "0.1"

[[races]]
id = "laps"
name = "Lap race"
gun = "09:30:00"
laps = 3
points = ["finish"]
min_lap_s = 120
precision = "s"

[[points]]
id = "start"
kind = "start"

[[points]]
id = "split"
kind = "split"
distance_m = 5000

[[points]]
id = "finish"
kind = "finish"

[[readers]]
id = "start-mat"
point = "start"
format = "ipico"

[[readers]]
id = "split-mat"
point = "split"
format = "ipico"

[[readers]]
id = "finish-main"
point = "finish"
format = "ipico"

[[readers]]
id = "finish-backup"
point = "finish"
format = "ipico"
clock_offset_s = -0.7
"""
READERS = ("start-mat", "split-mat", "finish-main", "finish-backup")
RUNNERS = range(1, 37)
LAPPERS = range(101, 113)


def chip_of(bib: int) -> str:
    return f"0580{bib:08d}"


def write_event(folder: Path) -> Path:
    folder.mkdir()
    rows = ["bib,first_name,last_name,gender,birth_date,race,wave,chips,club"]
    for bib in [*RUNNERS, *LAPPERS]:
        race = "10k" if bib in RUNNERS else "laps"
        gender = "FMX"[bib % 3]
        rows.append(f"{bib},Name{bib},Last{bib},{gender},{1950 + bib % 60}-03-0{1 + bib % 9},"
                    f"{race},,{chip_of(bib)},")
    (folder / "participants.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "adjustments.csv").write_text(
        "bib,kind,value,reason\n7,status,DQ,cut the course\n12,penalty,30,no bib shown\n",
        encoding="utf-8")
    path = folder / "event.toml"
    path.write_text(EVENT_TOML, encoding="utf-8")
    return path


# -- the stream -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One stdin line for the child: what a reader sent in one go, and what it holds."""

    reader: str
    data: bytes
    reads: tuple[ReadKey, ...]
    rejected: tuple[str, ...]
    """The raw text of each rejected record, as the journal keeps it."""


def read_key(reader: str, read: Read) -> ReadKey:
    return reader, read.chip, encode_time(read)[0]


def planned_reads(rng: random.Random) -> dict[str, list[tuple[str, datetime]]]:
    """Per reader, (chip, time) of every read, in time order; no two alike."""
    reads: dict[str, list[tuple[str, datetime]]] = {reader: [] for reader in READERS}
    taken: set[tuple[str, str, datetime]] = set()

    def add(reader: str, chip: str, moment: datetime) -> None:
        moment = moment.replace(microsecond=moment.microsecond // 10_000 * 10_000)
        while (reader, chip, moment) in taken:
            moment += timedelta(milliseconds=10)
        taken.add((reader, chip, moment))
        reads[reader].append((chip, moment))

    def seconds(low: float, high: float) -> timedelta:
        return timedelta(seconds=rng.uniform(low, high))

    for bib in RUNNERS:
        chip = chip_of(bib)
        start = GUN + seconds(0, 90)
        if rng.random() < 0.9:
            add("start-mat", chip, start)
        if rng.random() < 0.1:
            continue  # gave up after the start
        split = start + seconds(1400, 2100)
        add("split-mat", chip, split)
        finish = split + seconds(1400, 2400)
        for _ in range(rng.randint(1, 3)):  # event-mode repeats while on the mat
            add("finish-main", chip, finish + seconds(0, 1.5))
        if rng.random() < 0.6:
            add("finish-backup", chip, finish + seconds(0, 1.5))
    for bib in LAPPERS:
        moment = GUN + timedelta(minutes=30)
        for _ in range(rng.choice((2, 3, 3, 4))):
            moment += seconds(300, 480)
            add("finish-main", chip_of(bib), moment)
    for number in range(rng.randint(2, 5)):  # chips nobody wears
        add(rng.choice(READERS), f"0999{number:08d}", GUN + seconds(0, 5000))
    return {reader: sorted(found, key=lambda read: read[1]) for reader, found in reads.items()}


def corrupt_line(rng: random.Random, number: int) -> bytes:
    """A record the IPICO parser rejects, unlike any other in the stream."""
    good = encode_ipico(f"0bad{number:08d}", GUN + timedelta(seconds=number), "01")
    kind = rng.randrange(5)
    if kind == 0:  # a wrong checksum
        checksum = (int(good[34:36], 16) + 1) % 256
        return good[:34] + f"{checksum:02x}".encode() + b"\r\n"
    if kind == 1:
        return good[:24] + b"\r\n"  # cut short
    if kind == 2:
        return good[:10] + b"zz" + good[12:]  # not hex
    if kind == 3:
        return b"\xff\xfe noise " + str(number).encode() + b"\x00\r\n"  # not text
    return f"hello from reader {number}\r\n".encode()  # not an IPICO record


def make_item(reader: str, data: bytes) -> Item:
    records = IpicoParser().feed(data)
    return Item(reader, data,
                tuple(read_key(reader, r) for r in records if isinstance(r, Read)),
                tuple(r.raw for r in records if isinstance(r, Rejected)))


def make_stream(rng: random.Random) -> list[Item]:
    """The readers' lines interleaved at random (each reader's in its own order), some lines
    sent twice, a few carrying a corrupt record."""
    per_reader: dict[str, list[Item]] = {}
    corrupt = itertools.count(1)
    for reader, reads in planned_reads(rng).items():
        items: list[Item] = []
        position = 0
        while position < len(reads):
            size = rng.randint(1, 3)
            lines = [encode_ipico(chip, moment, "0" + str(READERS.index(reader)))
                     for chip, moment in reads[position:position + size]]
            if rng.random() < 0.06:
                lines.insert(rng.randint(0, len(lines)), corrupt_line(rng, next(corrupt)))
            item = make_item(reader, b"".join(lines))
            assert len(item.reads) == len(reads[position:position + size])
            items.append(item)
            position += size
        per_reader[reader] = items
    stream: list[Item] = []
    sent: dict[str, list[Item]] = {reader: [] for reader in READERS}
    while any(per_reader.values()):
        readers = [reader for reader, items in per_reader.items() if items]
        reader = rng.choices(readers, [len(per_reader[r]) for r in readers])[0]
        item = per_reader[reader].pop(0)
        stream.append(item)
        sent[reader].append(item)
        if rng.random() < 0.07:  # the reader sends a recent line again
            stream.append(rng.choice(sent[reader][-6:]))
    return stream


# -- one child --------------------------------------------------------------------------------

@dataclass
class Outcome:
    acks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    results: str | None = None
    returncode: int | None = None
    stderr: str = ""


@dataclass(frozen=True)
class Kill:
    after_acks: int
    delay_s: float


async def run_child(url: str, event_id: int, lines: list[str], bursts: list[tuple[int, float]],
                    kill: Kill | None, stderr_path: Path) -> Outcome:
    """Start a child, write `lines` in `bursts` (count, pause after), and either SIGKILL it
    `kill.delay_s` after its `kill.after_acks`-th ACK, or send QUIT and let it finish."""
    with stderr_path.open("wb") as stderr:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.core.crash_child", url, str(event_id), cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr)
    assert child.stdin is not None and child.stdout is not None
    stdin, stdout = child.stdin, child.stdout
    outcome = Outcome()
    kill_now = asyncio.Event()

    async def read() -> None:
        while line := await stdout.readline():
            word, _, rest = line.decode().strip().partition(" ")
            if word == "ACK":
                outcome.acks.append(rest.split(" ")[0])
                if kill is not None and len(outcome.acks) >= kill.after_acks:
                    kill_now.set()
            elif word == "FAIL":
                outcome.failures.append(rest)
            elif word == "RESULTS":
                outcome.results = bytes.fromhex(rest).decode()
            elif word != "READY":
                outcome.other.append(line.decode())

    async def write() -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            position = 0
            for count, pause in bursts:
                stdin.write("".join(lines[position:position + count]).encode())
                position += count
                await stdin.drain()
                if pause:
                    await asyncio.sleep(pause)
            if kill is None:  # the end of stdin would end the child too: not before the kill
                stdin.write(b"QUIT\n")
                await stdin.drain()

    reading = asyncio.create_task(read())
    writing = asyncio.create_task(write())
    try:
        if kill is not None:
            waiting = asyncio.create_task(kill_now.wait())
            await asyncio.wait({waiting, reading}, timeout=TIMEOUT_S,
                               return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if kill_now.is_set() and kill.delay_s:
                await asyncio.sleep(kill.delay_s)
            if child.returncode is None:
                child.send_signal(signal.SIGKILL)
        await asyncio.wait_for(child.wait(), TIMEOUT_S)
        await asyncio.wait_for(reading, TIMEOUT_S)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        for task in (reading, writing):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, BrokenPipeError,
                                     ConnectionResetError):
                await task
        stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.wait_closed()
    outcome.returncode = child.returncode
    outcome.stderr = stderr_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    return outcome


# -- the journal, seen from outside --------------------------------------------------------------

@dataclass
class JournalView:
    seqs: list[int]
    reads: Counter[ReadKey]
    rejected: Counter[str]


async def journal_view(url: str, event_id: int) -> JournalView:
    store = await Store.open(url, migrate=False)
    try:
        async with store.engine.connect() as connection:
            rows = (await connection.execute(
                select(JournalRow.seq, JournalRow.kind, JournalRow.reader_key, JournalRow.chip,
                       JournalRow.reader_time, JournalRow.raw)
                .where(JournalRow.event_id == event_id).order_by(JournalRow.seq))).all()
    finally:
        await store.close()
    view = JournalView([], Counter(), Counter())
    for seq, kind, reader, chip, reader_time, raw in rows:
        view.seqs.append(int(seq))
        if kind == "read":
            assert reader_time is not None, f"seq {seq}: a read without its reader time"
            view.reads[(str(reader), str(chip), reader_time)] += 1
        else:
            assert kind == "rejected", f"seq {seq}: unexpected {kind!r} entry"
            view.rejected[str(raw)] += 1
    return view


def check_journal(view: JournalView, stream: list[Item], acked: set[int], where: str) -> None:
    """Every acknowledged line's reads are in the journal exactly once (its rejected records at
    least once: a rejected line is not de-duplicated); no read twice; nothing that was not sent;
    every line's reads wholly in or wholly out; sequence numbers without a gap."""
    assert view.seqs == list(range(1, len(view.seqs) + 1)), f"{where}: journal seq has gaps"
    twice = {key: count for key, count in view.reads.items() if count > 1}
    assert not twice, f"{where}: reads journaled more than once: {twice}"
    lost = [(index, key) for index in sorted(acked) for key in stream[index].reads
            if view.reads[key] != 1]
    assert not lost, f"{where}: acknowledged reads missing from the journal: {lost}"
    lost_rejected = [(index, raw) for index in sorted(acked) for raw in stream[index].rejected
                     if view.rejected[raw] < 1]
    assert not lost_rejected, f"{where}: acknowledged rejected lines missing: {lost_rejected}"
    sent_reads = {key for item in stream for key in item.reads}
    sent_rejected = {raw for item in stream for raw in item.rejected}
    assert set(view.reads) <= sent_reads, f"{where}: {set(view.reads) - sent_reads}"
    assert set(view.rejected) <= sent_rejected, f"{where}: {set(view.rejected) - sent_rejected}"
    torn = [index for index, item in enumerate(stream)
            if 0 < sum(key in view.reads for key in item.reads) < len(item.reads)]
    assert not torn, f"{where}: lines only partly journaled: {torn}"


# -- standings, three ways ------------------------------------------------------------------------

async def rebuilt_and_rescored(url: str, event_id: int, files: EventFiles) -> tuple[str, str]:
    """(results CSV of a fresh TimingCore.start, of a batch rescore of the journal's reads)."""
    store = await Store.open(url, migrate=False)
    try:
        core = await TimingCore.start(store, event_id)
        rebuilt = results_csv(core.event, core.standings.results())
        await core.stop()
        reads = [(item.entry.reader_id, item.entry.read)
                 async for batch in store.replay(event_id) for item in batch
                 if isinstance(item.entry, ReadEntry)]
    finally:
        await store.close()
    batch = Standings(files.event, files.athletes, files.adjustments)
    batch.add_reads(reads)
    return rebuilt, results_csv(files.event, batch.results())


def rescored_stream(stream: list[Item], files: EventFiles) -> str:
    reads: dict[ReadKey, tuple[str, Read]] = {}
    for item in stream:
        for record in IpicoParser().feed(item.data):
            if isinstance(record, Read):
                reads.setdefault(read_key(item.reader, record), (item.reader, record))
    batch = Standings(files.event, files.athletes, files.adjustments)
    batch.add_reads(reads.values())
    return results_csv(files.event, batch.results())


# -- databases ------------------------------------------------------------------------------------

T = TypeVar("T")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on an event loop of its own, in a worker thread (for sync fixtures)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


async def create_database(server: str, name: str) -> str:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def drop_database(server: str, name: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[str]:
    """A database of this module's own on the PostgreSQL test server, dropped at the end: a
    trial takes seconds, and another test run resetting the shared test database meanwhile
    would wipe the journal under it. Where no database can be created, the shared one."""
    server = postgres_url()  # skips, saying why, without GAMBERO_TEST_POSTGRES_URL
    name = f"gambero_crash_{os.getpid()}"
    try:
        private = run_async(lambda: create_database(server, name))
    except (OSError, SQLAlchemyError):
        yield server
        return
    try:
        yield private
    finally:
        run_async(lambda: drop_database(server, name))


@pytest.fixture
async def crash_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database for one trial: an SQLite file, or a reset PostgreSQL schema."""
    if backend == "sqlite":
        return await fresh_url(backend, tmp_path)
    url = str(request.getfixturevalue("private_postgres"))
    await asyncio.wait_for(reset_postgres(url), 30)
    return url


# -- the test -------------------------------------------------------------------------------------

@pytest.mark.parametrize("trial", range(TRIALS))
async def test_sigkill_loses_no_acknowledged_read(crash_url: str, tmp_path: Path,
                                                  trial: int) -> None:
    url = crash_url
    files = load_event(write_event(tmp_path / "event"))
    assert not files.problems, files.problems
    store = await Store.open(url)
    try:
        event_id = (await store.import_event(files)).event_id
    finally:
        await store.close()
    stream = make_stream(random.Random(f"{SEED}-{trial}"))
    kills = random.Random(f"{SEED}-{trial}-kills").choice((1, 1, 1, 2))

    tokens = itertools.count(1)
    token_item: dict[str, int] = {}
    acked: set[int] = set()
    acked_order: list[int] = []
    before = await journal_view(url, event_id)
    stats: list[str] = []
    final: Outcome | None = None
    for run in range(kills + 1):
        rng = random.Random(f"{SEED}-{trial}-run{run}")
        # A reader that reconnects rewinds: some lines it had acknowledged come again first.
        rewind: list[int] = []
        for reader in READERS:
            back = rng.randint(0, 8)
            mine = [index for index in acked_order if stream[index].reader == reader]
            rewind += mine[max(0, len(mine) - back):] if back else []
        todo = rewind + [index for index in range(len(stream)) if index not in acked]
        plan = [(str(next(tokens)), index) for index in todo]
        token_item.update(plan)
        lines = [f"{token} {stream[index].reader} {stream[index].data.hex()}\n"
                 for token, index in plan]
        bursts: list[tuple[int, float]] = []
        while sum(count for count, _ in bursts) < len(lines):
            bursts.append((rng.randint(1, 12), rng.choice((0.0, 0.0, rng.uniform(0, 0.003)))))
        last = run == kills
        kill = None if last else Kill(
            rng.randint(1, max(1, len(plan) - 1)),
            rng.choice((0.0, rng.uniform(0, 0.002), rng.uniform(0, 0.01))))
        outcome = await run_child(url, event_id, lines, bursts, kill,
                                  tmp_path / f"child{run}.stderr")
        where = f"trial {trial} run {run} (kill {kill})"
        assert not outcome.failures, f"{where}: {outcome.failures}\n{outcome.stderr}"
        assert not outcome.other, f"{where}: {outcome.other}\n{outcome.stderr}"
        assert set(outcome.acks) <= {token for token, _ in plan}, where
        for token in outcome.acks:
            index = token_item[token]
            if index not in acked:
                acked.add(index)
                acked_order.append(index)
        view = await journal_view(url, event_id)
        check_journal(view, stream, acked, where)
        if last:
            assert outcome.returncode == 0, f"{where}: exit {outcome.returncode}\n" \
                                            f"{outcome.stderr}"
            assert len(outcome.acks) == len(plan), f"{where}: not every line acknowledged"
            final = outcome
        else:
            assert outcome.returncode == -signal.SIGKILL, \
                f"{where}: the child ended by itself ({outcome.returncode})\n{outcome.stderr}"
            # Lines committed by this child but killed before their ACK: in doubt, re-sent.
            unacked = {index for _, index in plan} - acked
            in_doubt = sum(1 for index in unacked if stream[index].reads
                           and all(view.reads[key] for key in stream[index].reads)
                           and not all(before.reads[key] for key in stream[index].reads))
            stats.append(f"kill after {len(outcome.acks)}/{len(plan)} ACKs, "
                         f"{len(view.reads)} reads journaled, {in_doubt} lines in doubt")
        before = view

    assert final is not None and final.results is not None
    everything = {key for item in stream for key in item.reads}
    assert set(before.reads) == everything, "the journal lacks reads the last child acknowledged"
    rebuilt, rescored = await rebuilt_and_rescored(url, event_id, files)
    assert final.results == rebuilt, "live standings differ from a rebuild of the journal"
    assert rebuilt == rescored, "a rebuild differs from a batch rescore of the journal's reads"
    assert rescored == rescored_stream(stream, files), "standings differ from the reads streamed"
    assert final.results.count(",FIN,") > 20  # the race was scored, not empty
    print(f"trial {trial}: {len(stream)} lines, {len(everything)} reads; " + "; ".join(stats))


# -- a replay while the read it repeats is still being committed -----------------------------------

async def test_a_replay_is_not_acknowledged_before_the_read_it_repeats_is_durable(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader reconnects and rewinds while its old connection's last read is still in the
    writer's hands: the replay may only be answered once that read is durable."""
    event_id = (await store.import_event(load_event(write_event(tmp_path / "event")))).event_id
    core = await TimingCore.start(store, event_id)
    release = asyncio.Event()
    real_append = store.append
    calls = 0

    async def append_failing_once(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first commit hangs, then the disk is gone
            await release.wait()
            raise OSError("disk I/O error")
        await real_append(*args, **kwargs)

    monkeypatch.setattr(store, "append", append_failing_once)
    line = encode_ipico(chip_of(1), GUN + timedelta(minutes=50), "02").decode().strip()
    read = parse_line(line, 1)
    assert isinstance(read, Read)
    try:
        original = asyncio.create_task(core.submit("finish-main", [read]))
        await asyncio.sleep(0.05)  # the writer holds it: its commit is pending
        replay = asyncio.create_task(core.submit("finish-main", [read]))
        await asyncio.sleep(0.05)
        answered_early = replay.done()
        release.set()
        with pytest.raises(OSError):
            await original
        try:
            await asyncio.wait_for(replay, 10)
        except OSError:
            replay_durable = True  # refused: not acknowledged, so the reader sends it again
        else:
            replay_durable = await store.count(event_id, "read") == 1
    finally:
        release.set()
        await core.stop()
    assert not answered_early, "a replay was acknowledged before the read it repeats was durable"
    assert replay_durable, "a replay was acknowledged, but the read is not in the journal"


# -- a first start killed while it creates the schema --------------------------------------------

DIE_MID_MIGRATION = """\
import asyncio, os, signal, sys
from sqlalchemy import event
from timing.store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1], migrate=False)
    created = 0

    def before(connection, cursor, statement, *args):
        global created
        if statement.lstrip().upper().startswith("CREATE"):
            created += 1
            if created == 3:  # two tables made, the third under way: the process dies
                os.kill(os.getpid(), signal.SIGKILL)

    event.listen(store.engine.sync_engine, "before_cursor_execute", before)
    await store.upgrade()

created = 0
asyncio.run(main())
"""


async def test_a_first_start_killed_while_migrating_starts_again(
        database_url: str, backend: str, tmp_path: Path) -> None:
    """The embedded default migrates on its first start; a SIGKILL meanwhile must leave the
    database as it was (or migrated), never half made."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DIE_MID_MIGRATION, database_url, cwd=ROOT,
        stderr=asyncio.subprocess.PIPE)
    try:
        _, stderr = await asyncio.wait_for(child.communicate(), TIMEOUT_S)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode == -signal.SIGKILL, stderr.decode()
    store = await Store.open(database_url, migrate=False)
    try:
        await store.upgrade()  # a second first start
        event_id = (await store.import_event(load_event(write_event(tmp_path / "event"))))\
            .event_id
        assert await store.last_seq(event_id) == 0
    finally:
        await store.close()
