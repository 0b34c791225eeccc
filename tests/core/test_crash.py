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
import itertools
import os
import random
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from readers.protocols.ipico import encode_ipico, parse_line
from timing.core import CommitFailed, TimingCore
from timing.eventfile import load_event
from timing.reads import Read
from timing.store import Store

from ..databases import fresh_url, postgres_url, reset_postgres
from .crash_harness import (
    GUN,
    READERS,
    ROOT,
    TIMEOUT_S,
    Kill,
    Outcome,
    check_journal,
    chip_of,
    journal_view,
    make_stream,
    rebuilt_and_rescored,
    rescored_stream,
    run_child,
    write_event,
)

TRIALS = int(os.environ.get("GAMBERO_CRASH_TRIALS", "20"))
SEED = "gambero-crash"


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
        with pytest.raises(CommitFailed):
            await original
        try:
            await asyncio.wait_for(replay, 10)
        except CommitFailed:
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
