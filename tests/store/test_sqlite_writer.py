"""The SQLite journal's writer process (`timing.sqlite_append`, `timing.sqlite_writer`): rows land
once and durably, a constraint error writes nothing, a writer that dies is replaced without
losing or doubling a batch, and a writer never outlives the process that started it."""

from __future__ import annotations

import asyncio
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

# A writer that misbehaves once (or always): it opens the database and says it is ready like the
# real one, takes one request, and dies without answering, after committing the batch or not.
FAULTY_WRITER = """
import os, sys
sys.path.insert(0, {folder!r})
import sqlite_writer
mode, marker, arguments = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode != "always" and os.path.exists(marker):
    sys.exit(sqlite_writer.main(arguments))
open(marker, "a").close()
writer = sqlite_writer.Writer(arguments[0], arguments[1], arguments[2:])
sqlite_writer.write_frame(sys.stdout.buffer, ("ready", writer.max_rows))
request = sqlite_writer.read_frame(sys.stdin.buffer)
if mode == "commit-then-die":
    writer.append(request[1])
os._exit(9)
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
    def __init__(self, path: Path, mode: str) -> None:
        super().__init__(str(path), "journal", COLUMNS)
        script = path.with_name("faulty_writer.py")
        script.write_text(FAULTY_WRITER.format(folder=str(WRITER_PROGRAM.parent)))
        marker = path.with_name(f"faulty-{mode}.done")
        self._command = (sys.executable, str(script), mode, str(marker), *self._command[4:])


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


@pytest.mark.parametrize("mode", ["commit-then-die", "die-before-commit"])
async def test_a_batch_whose_writer_died_lands_exactly_once(database: Path, mode: str) -> None:
    appender = FaultyAppender(database, mode)
    try:
        await appender.append(rows(1, 300))  # the first writer dies on this one
        await appender.append(rows(301, 2))
    finally:
        await appender.close()
    assert table_rows(database) == rows(1, 302)


async def test_a_writer_that_keeps_dying_fails_the_batch_and_writes_nothing(
        database: Path) -> None:
    appender = FaultyAppender(database, "always")
    try:
        with pytest.raises(OperationalError):
            await appender.append(rows(1, 5))
    finally:
        await appender.close()
    assert table_rows(database) == []


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
    if not sys.platform.startswith("linux"):
        pytest.skip("the writer follows its parent's death through a Linux prctl")
    script = (
        "import asyncio, sys\n"
        "from timing.sqlite_append import SqliteAppender\n"
        "async def main():\n"
        f"    appender = SqliteAppender({str(database)!r}, 'journal', {COLUMNS!r})\n"
        "    await appender.append([(1, 1, 'x')])\n"
        "    print(appender.writer_pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n")
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as parent:
        try:
            assert parent.stdout is not None
            writer = int(parent.stdout.readline())
            assert running(writer)
        finally:
            parent.kill()
    deadline = time.monotonic() + 5
    while running(writer) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(writer)
    assert table_rows(database) == [(1, 1, "x")]


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")
