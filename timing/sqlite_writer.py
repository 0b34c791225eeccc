"""The journal writer process of an SQLite journal (run by `timing.sqlite_append`, stdlib only).

    python sqlite_writer.py PARENT_PID DATABASE TABLE COLUMN [COLUMN ...]

It inserts rows of COLUMNs into TABLE of the SQLite file DATABASE, one transaction per request,
and answers each request only after its COMMIT has returned (WAL, synchronous=FULL: durable).
Requests and answers travel over stdin and stdout as frames: a 4-byte big-endian length, then
a pickle. Requests: ("append", rows) and ("select", sql, params); answers: ("ok", value) or
(error kind, message) with kind "integrity", "operational" or "error". The first frame it
sends is ("ready", largest rows per statement), or an error if the database cannot be opened.

It runs in a process of its own so that writing the journal never waits for the interpreter
lock of the process that parses and scores reads (a thread did, and under load each of its
commits waited for that lock several times). It ends when its stdin closes, and on Linux
also as soon as the process that started it dies, so that a crashed core's writer cannot
commit anything after the core has gone (a restarted core replays the journal first). It
ignores SIGINT, SIGTERM and SIGHUP: a Ctrl-C or a service manager signals the whole process
group, and an interrupt that struck between its COMMIT and its answer would report a committed
batch as failed. Its life follows its parent's instead, which stops it by closing the pipe
after the last commit.
Imports nothing outside the standard library: it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import struct
import sys
from itertools import chain
from typing import Any, BinaryIO

MAX_ROWS_PER_STATEMENT = 256
"""Multi-row INSERTs of up to this many rows: a handful of statement texts serve every batch."""
HEADER = struct.Struct(">I")
PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000")
"""The settings of `timing.store._sqlite_connect`: the durability rule is the same."""


def read_frame(stream: BinaryIO) -> Any | None:
    """The next frame's object, or None when the stream has ended."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def write_frame(stream: BinaryIO, message: object) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


class Writer:
    def __init__(self, database: str, table: str, columns: list[str]) -> None:
        self.connection = sqlite3.connect(database, isolation_level=None)
        for pragma in PRAGMAS:
            self.connection.execute(f"PRAGMA {pragma}")
        limit = self.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self.max_rows = max(1, min(MAX_ROWS_PER_STATEMENT, limit // len(columns)))
        self.head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        self.row_marks = "(" + ", ".join("?" * len(columns)) + ")"
        self.statements: dict[int, str] = {}

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            start = 0
            for size in statement_sizes(len(rows), self.max_rows):
                connection.execute(self.statement(size),
                                   list(chain.from_iterable(rows[start:start + size])))
                start += size
            connection.execute("COMMIT")
        except BaseException:
            # Only an open transaction is rolled back: a failed COMMIT may have ended it, and a
            # ROLLBACK error would hide the real one.
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def select(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params).fetchall()

    def statement(self, rows: int) -> str:
        statement = self.statements.get(rows)
        if statement is None:
            statement = self.head + ", ".join([self.row_marks] * rows)
            self.statements[rows] = statement
        return statement

    def answer(self, request: tuple[Any, ...]) -> tuple[str, Any]:
        try:
            if request[0] == "append":
                self.append(request[1])
                return ("ok", None)
            if request[0] == "select":
                return ("ok", self.select(request[1], request[2]))
            return ("error", f"unknown request {request[0]!r}")
        except sqlite3.IntegrityError as error:
            return ("integrity", str(error))
        except sqlite3.OperationalError as error:
            return ("operational", str(error))
        except Exception as error:  # the core gets it as a failed commit, never a silent loss
            return ("error", f"{type(error).__name__}: {error}")


def statement_sizes(count: int, largest: int) -> list[int]:
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


def follow_parent(parent: int) -> None:
    """Ignore the signals meant for the parent's process group, and (Linux) be killed as soon
    as the parent dies (strictly, the thread that started this process: the event loop's
    thread, which lives as long as the core). Elsewhere the closed pipe ends it."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes  # only here: not every platform has a C library to load

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(1)


def main(argv: list[str]) -> int:
    follow_parent(int(argv[0]))
    argv = argv[1:]
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    try:
        writer = Writer(argv[0], argv[1], argv[2:])
    except Exception as error:
        write_frame(answers, ("operational", f"{type(error).__name__}: {error}"))
        return 1
    write_frame(answers, ("ready", writer.max_rows))
    while (request := read_frame(requests)) is not None:
        write_frame(answers, writer.answer(request))
    writer.connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
