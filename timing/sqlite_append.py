"""The hot path of an SQLite journal: appending reads through a writer process of its own.

Through SQLAlchemy and aiosqlite, a group commit costs several round trips to the driver's
thread and steps once per row. A thread of the store's own with one call per transaction was
better, but still shared the interpreter lock with the event loop: each statement gives the
lock up while SQLite works and must win it back, and while the loop was busy parsing and
scoring (exactly when reads pile up) each of those waits could take the interpreter's whole
switch interval (5 ms), several times per commit. Commits then grew slower than the reads
came, and the backlog never drained. So the rows go to a process of their own
(`timing.sqlite_writer`): the event loop pickles a batch (a fraction of a microsecond per row),
writes it to a pipe and awaits the answer like any other I/O; the binding, the inserts and
the fsync run on another core, under another interpreter lock. The writer answers only after
its COMMIT (WAL, synchronous=FULL), so a read is durable when `append` returns, as before.

If the writer process dies with a batch in flight, whether that batch was committed is
unknown: a new writer is started and asked. If the batch landed, `append` returns; if not,
nothing of it was written and the new writer is given it once more; writers that die meanwhile
are replaced in turn. Only if none can be started for `SETTLE_S` does `append` raise with the
outcome unknown, and the core then asks the journal itself (`TimingCore._landed_after_all`):
a committed batch is never taken for a failed one, which would make the core hand out taken
sequence numbers for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from timing.sqlite_writer import HEADER

WRITER_PROGRAM = Path(__file__).with_name("sqlite_writer.py")
SETTLE_S = 30.0
"""How long `append` keeps trying to learn the fate of a batch whose writer died."""


class WriterGone(OperationalError):
    """The writer process ended (killed, crashed, or could not start)."""


class SqliteAppender:
    """Inserts rows of `columns` into `table` of the SQLite file `path`, one transaction per
    `append`, through one writer process. `key_columns` (a prefix of `columns`) identify a row:
    after a writer died mid-commit, they say whether the batch's first row is in the table."""

    def __init__(self, path: str, table: str, columns: Sequence[str],
                 key_columns: int = 2) -> None:
        self._path = path
        self._table = table
        self._columns = tuple(columns)
        self._key_columns = key_columns
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        """One request at a time on the pipe."""

    async def append(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert `rows` in one transaction; durable when this returns. A row that breaks a
        constraint (a replayed read, a taken sequence number) raises and nothing is written."""
        if not rows:
            return
        request = ("append", list(rows))
        async with self._lock:
            try:
                answer = await self._ask(request)
            except WriterGone:
                answer = await self._settle(request)
            _raise_for(answer, "append")

    async def select(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query run by the writer process on its own connection (checks, tests)."""
        async with self._lock:
            answer = await self._ask(("select", sql, params))
        _raise_for(answer, "select")
        rows: list[tuple[Any, ...]] = answer[1]
        return rows

    @property
    def writer_pid(self) -> int | None:
        """The writer process's id while one runs (for benchmarks and tests)."""
        return None if self._process is None else self._process.pid

    async def close(self) -> None:
        async with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()

    # -- the writer process ---------------------------------------------------------------------

    async def _settle(self, request: tuple[str, list[tuple[Any, ...]]]) -> tuple[str, Any]:
        """The answer for a batch whose writer died before answering. Whether it died before
        or during the batch, a new writer tells whether the batch landed; if it did not,
        nothing of it was written and the batch is sent again. Writers that die meanwhile are
        replaced in turn, for `SETTLE_S` at most: only then does this give up, with the fate of
        the batch unknown (so the caller must not take it for a failed one lightly)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_S
        pause = 0.05
        while True:
            try:
                if await self._landed(request[1][0]):
                    return ("ok", None)
                return await self._ask(request)
            except OperationalError as error:  # a writer died again, or could not start
                gone = error
            if loop.time() >= deadline:
                raise WriterGone("append (whether the batch was committed is unknown)", None,
                                 gone)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _writer_command(self) -> tuple[str, ...]:
        return (sys.executable, "-I", "-S", str(WRITER_PROGRAM), str(os.getpid()), self._path,
                self._table, *self._columns)

    async def _ask(self, request: tuple[Any, ...]) -> tuple[str, Any]:
        process = self._process or await self._start()
        assert process.stdin is not None and process.stdout is not None
        body = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            process.stdin.write(HEADER.pack(len(body)) + body)
            await process.stdin.drain()
            return await _read_answer(process.stdout)
        except (OSError, asyncio.IncompleteReadError) as error:
            await self._forget(process)
            raise WriterGone(request[0], None, error) from error
        except asyncio.CancelledError:
            # The answer may still come; a later request must not take it for its own.
            await self._forget(process)
            raise

    async def _start(self) -> asyncio.subprocess.Process:
        try:
            process = await asyncio.create_subprocess_exec(
                *self._writer_command(), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE)
        except OSError as error:
            raise WriterGone("start the journal writer", None, error) from error
        assert process.stdout is not None
        try:
            kind, detail = await _read_answer(process.stdout)
        except asyncio.IncompleteReadError as error:
            await process.wait()
            raise WriterGone("start the journal writer", None, error) from error
        except BaseException:  # cancelled while it started: no writer left behind
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        if kind != "ready":
            await process.wait()
            raise OperationalError("open the journal", None, RuntimeError(detail))
        self._process = process
        return process

    async def _forget(self, process: asyncio.subprocess.Process) -> None:
        if self._process is process:
            self._process = None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await process.wait()

    async def _landed(self, first_row: tuple[Any, ...]) -> bool:
        """Whether a batch whose writer died before answering was committed: its first row is
        in the table, every column as sent (a transaction lands whole or not at all)."""
        keys = self._columns[:self._key_columns]
        sql = (f"SELECT {', '.join(self._columns)} FROM {self._table} WHERE "
               + " AND ".join(f"{column} = ?" for column in keys))
        kind, found = await self._ask(("select", sql, tuple(first_row[:self._key_columns])))
        _raise_for((kind, found), "select")
        return bool(found) and tuple(found[0]) == tuple(first_row)


async def _read_answer(stream: asyncio.StreamReader) -> tuple[str, Any]:
    (size,) = HEADER.unpack(await stream.readexactly(HEADER.size))
    answer: tuple[str, Any] = pickle.loads(await stream.readexactly(size))
    return answer


def _raise_for(answer: tuple[str, Any], statement: str) -> None:
    """The SQLAlchemy error the engine's own path raises for the same failure."""
    kind, detail = answer
    if kind == "ok":
        return
    if kind == "integrity":
        raise IntegrityError(statement, None, RuntimeError(detail))
    raise OperationalError(statement, None, RuntimeError(detail))
