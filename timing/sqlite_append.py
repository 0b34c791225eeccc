"""The hot path of an SQLite journal: appending reads in one hop to a thread of its own.

Through SQLAlchemy and aiosqlite, a group commit costs several round trips to the driver's
thread (BEGIN, the insert, COMMIT, the pool's reset), and the insert steps once per row: the
thread gives up the interpreter lock for each row and must win it back while the event loop is
busy parsing and scoring, which made the append the slowest stage of ingest. Here one call does
the whole transaction on a connection of its own, in a thread of its own: BEGIN IMMEDIATE, a few
multi-row INSERTs (up to 256 rows per statement, so the lock is released once per statement,
not once per row), COMMIT. The connection has the same settings as the store's (WAL,
synchronous=FULL, foreign keys): a read is durable when `append` returns, as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

MAX_ROWS_PER_STATEMENT = 256


class SqliteAppender:
    """Inserts rows of `columns` into `table` of the SQLite file `path`, one transaction per
    `append`. Only one thread ever touches the connection."""

    def __init__(self, path: str, table: str, columns: Sequence[str]) -> None:
        self._path = path
        self._head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        self._row_marks = "(" + ", ".join("?" * len(columns)) + ")"
        self._width = len(columns)
        self._statements: dict[int, str] = {}
        self._connection: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gambero-sqlite-append")

    async def append(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert `rows` in one transaction; durable when this returns. A row that breaks a
        constraint (a replayed read, a taken sequence number) raises and nothing is written."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._write, rows)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown()

    # -- in the appender's thread -------------------------------------------------------------

    def _write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        connection = self._connection or self._connect()
        statement = ""
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                start = 0
                for size in _sizes(len(rows), self._max_rows):
                    statement = self._statement(size)
                    connection.execute(statement,
                                       list(chain.from_iterable(rows[start:start + size])))
                    start += size
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError as error:  # the same error the SQLAlchemy path raises
            raise IntegrityError(statement, None, error) from error
        except sqlite3.OperationalError as error:
            raise OperationalError(statement, None, error) from error

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        # The settings of `timing.store._sqlite_connect`: the durability rule is the same.
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=10000"):
            connection.execute(f"PRAGMA {pragma}")
        limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._max_rows = max(1, min(MAX_ROWS_PER_STATEMENT, limit // self._width))
        self._connection = connection
        return connection

    def _statement(self, rows: int) -> str:
        statement = self._statements.get(rows)
        if statement is None:
            statement = self._head + ", ".join([self._row_marks] * rows)
            self._statements[rows] = statement
        return statement

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _sizes(count: int, largest: int) -> list[int]:
    """`count` rows as statement sizes: as many `largest` as fit, then powers of two, so that a
    handful of statement texts (and prepared statements) serve every batch size."""
    sizes = [largest] * (count // largest)
    rest = count % largest
    power = 1 << max(0, rest.bit_length() - 1)
    while rest:
        if rest >= power:
            sizes.append(power)
            rest -= power
        power >>= 1
    return sizes
