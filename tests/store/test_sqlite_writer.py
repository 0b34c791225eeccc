"""The SQLite journal's writer process (`timing.sqlite_append`, `timing.sqlite_writer`): rows land
once and durably, a constraint error writes nothing, a writer that dies is replaced without
losing or doubling a batch, and a writer never outlives the process that started it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from timing.sqlite_append import WRITER_PROGRAM, SqliteAppender

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("event_id", "seq", "label")

# Writers that misbehave, by the order they are started in: the first follows the first role of
# the plan, the second the second, and so on; writers past the plan are the real one. A role
# says what the writer does with the first batch it is sent: dies before committing it
# ("die-before-commit"), commits it and dies without answering ("commit-then-die"); or it dies
# before it is even ready ("no-start"). Queries are answered as the real writer answers them.
FAULTY_WRITER = """
import os, sys
sys.path.insert(0, {folder!r})
import sqlite_writer
plan, counter, arguments = sys.argv[1].split(","), sys.argv[2], sys.argv[3:]
with open(counter, "a") as started:
    started.write("x")
index = os.path.getsize(counter) - 1
role = plan[index] if index < len(plan) else "real"
if role == "real":
    sys.exit(sqlite_writer.main(arguments))
if role == "no-start":
    os._exit(3)
sqlite_writer.follow_parent(int(arguments[0]))
writer = sqlite_writer.Writer(arguments[1], arguments[2], arguments[3:])
requests, answers = sys.stdin.buffer, sys.stdout.buffer
sqlite_writer.write_frame(answers, ("ready", writer.max_rows))
while (request := sqlite_writer.read_frame(requests)) is not None:
    if request[0] == "append":
        if role == "commit-then-die":
            writer.append(request[1])
        os._exit(9)
    sqlite_writer.write_frame(answers, writer.answer(request))
"""


def make_table(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE journal (event_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
                           " label TEXT, PRIMARY KEY (event_id, seq))")


def table_rows(path: Path) -> list[tuple[int, int, str]]:
    with sqlite3.connect(path) as connection:
        query = "SELECT event_id, seq, label FROM journal ORDER BY seq"
        return connection.execute(query).fetchall()


def rows(first: int, count: int) -> list[tuple[int, int, str]]:
    return [(1, seq, f"read {seq}") for seq in range(first, first + count)]


class FaultyAppender(SqliteAppender):
    def __init__(self, path: Path, plan: list[str]) -> None:
        super().__init__(str(path), "journal", COLUMNS)
        self.script = path.with_name("faulty_writer.py")
        self.script.write_text(FAULTY_WRITER.format(folder=str(WRITER_PROGRAM.parent)))
        self.counter = path.with_name("writers-started")
        self.plan = ",".join(plan)

    def _writer_command(self) -> tuple[str, ...]:
        real = super()._writer_command()
        return (sys.executable, str(self.script), self.plan, str(self.counter), *real[4:])

    @property
    def writers_started(self) -> int:
        return self.counter.stat().st_size


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "journal.db"
    make_table(path)
    return path


async def test_rows_land_once_in_order_with_the_store_settings(database: Path) -> None:
    appender = SqliteAppender(str(database), "journal", COLUMNS)
    try:
        # 600 rows: statements of 256, 256, 64, 16 and 8 rows in one transaction.
        await appender.append(rows(1, 600))
        await appender.append(rows(601, 3))
        assert table_rows(database) == rows(1, 603)
        settings = [(await appender.select(f"PRAGMA {name}"))[0][0]
                    for name in ("journal_mode", "synchronous", "foreign_keys")]
        assert settings == ["wal", 2, 1]  # synchronous=FULL: durable at COMMIT
    finally:
        await appender.close()
    assert appender.writer_pid is None


async def test_a_constraint_error_writes_nothing_of_its_batch(database: Path) -> None:
    appender = SqliteAppender(str(database), "journal", COLUMNS)
    try:
        await appender.append(rows(1, 2))
        with pytest.raises(IntegrityError, match="UNIQUE"):
            await appender.append([(1, 3, "new"), (1, 2, "taken")])
        await appender.append(rows(3, 1))  # the writer goes on
    finally:
        await appender.close()
    assert table_rows(database) == rows(1, 3)


@pytest.mark.parametrize("plan", [
    ["commit-then-die"],
    ["die-before-commit"],
    # The batch is sent again to the second writer, which commits it and dies as well: the
    # third must find it there, not commit it twice, nor report it failed.
    ["die-before-commit", "commit-then-die"],
    ["die-before-commit", "no-start", "die-before-commit", "no-start"],
])
async def test_a_batch_whose_writer_died_lands_exactly_once(database: Path,
                                                            plan: list[str]) -> None:
    appender = FaultyAppender(database, plan)
    try:
        await appender.append(rows(1, 300))  # the writers of the plan die on this one
        await appender.append(rows(301, 2))
    finally:
        await appender.close()
    assert table_rows(database) == rows(1, 302)
    assert appender.writers_started == len(plan) + 1


async def test_when_no_writer_can_say_what_became_of_a_batch_the_error_says_so(
        database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("timing.sqlite_append.SETTLE_S", 0.5)
    appender = FaultyAppender(database, ["commit-then-die"] + ["no-start"] * 100)
    try:
        with pytest.raises(OperationalError, match="whether the batch was committed is unknown"):
            await appender.append(rows(1, 5))
    finally:
        await appender.close()
    # It was committed: the error must not have claimed that nothing was written.
    assert table_rows(database) == rows(1, 5)
    assert appender.writers_started > 2


async def test_interrupts_sent_to_the_process_group_do_not_touch_the_writer(
        database: Path) -> None:
    """Ctrl-C signals every process of the terminal's group, the writer included; a signal
    between its COMMIT and its answer would report a committed batch as failed."""
    appender = SqliteAppender(str(database), "journal", COLUMNS)
    try:
        await appender.append(rows(1, 1))
        writer = appender.writer_pid
        assert writer is not None
        for batch in range(100):
            for name in ("SIGINT", "SIGTERM", "SIGHUP"):
                os.kill(writer, getattr(signal, name))
            await appender.append(rows(2 + batch * 20, 20))
        assert appender.writer_pid == writer
    finally:
        await appender.close()
    assert table_rows(database) == rows(1, 2001)


async def test_a_writer_killed_between_batches_is_replaced(database: Path) -> None:
    appender = SqliteAppender(str(database), "journal", COLUMNS)
    try:
        await appender.append(rows(1, 1))
        first = appender.writer_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.1)
        await appender.append(rows(2, 1))
        assert appender.writer_pid not in (None, first)
    finally:
        await appender.close()
    assert table_rows(database) == rows(1, 2)


async def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    appender = SqliteAppender(str(tmp_path / "no-such-folder" / "journal.db"), "journal",
                              COLUMNS)
    with pytest.raises(OperationalError, match="unable to open database"):
        await appender.append(rows(1, 1))
    await appender.close()


def test_the_writer_dies_with_the_process_that_started_it(database: Path) -> None:
    """Even while its pipe stays open (here a forked copy of the parent holds it): a crashed
    core's writer must not commit anything after the core has gone."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the writer follows its parent's death through a Linux prctl")
    script = (
        "import asyncio, os, sys, time\n"
        "from timing.sqlite_append import SqliteAppender\n"
        "async def main():\n"
        f"    appender = SqliteAppender({str(database)!r}, 'journal', {COLUMNS!r})\n"
        "    await appender.append([(1, 1, 'x')])\n"
        "    holder = os.fork()\n"
        "    if holder == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    print(appender.writer_pid, holder, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n")
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as parent:
        holder = 0
        try:
            assert parent.stdout is not None
            writer, holder = (int(pid) for pid in parent.stdout.readline().split())
            assert running(writer)
            parent.kill()
            parent.wait()
            deadline = time.monotonic() + 5
            while running(writer) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert running(holder)  # the writer's stdin is still open...
            assert not running(writer)  # ...and it is gone all the same
        finally:
            parent.kill()
            if holder:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(holder, signal.SIGKILL)


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")
