"""One writer per event journal: the lock a timing core holds while it runs.

Two cores appending to one journal (say `gambero serve` and `gambero readers run` started on
the same database) would hand out the same sequence numbers; the second one's commits would
fail for ever. So a core takes this lock before it replays the journal, and a second core is
refused with a clear message instead.

- PostgreSQL: a session-level advisory lock keyed by the event, held on a connection of its
  own. The server releases it when that connection ends, also when the process is killed.
- SQLite: an exclusive `flock` on `<database>.event-<id>.lock` beside the database; the kernel
  releases it when the process ends, however it ends. (In-memory databases need none.)

A core that restarts right after a crash may find the old lock not yet released (PostgreSQL
notices a dead client within moments), so taking the lock waits a few seconds before giving up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

try:
    import fcntl
except ImportError:  # not on Windows: there, SQLite databases go without the lock
    fcntl = None  # type: ignore[assignment]

LOCK_CLASS = 0x67616D62  # "gamb": the advisory locks' first key, the event id the second
Release = Callable[[], Awaitable[None]]


class WriterBusy(RuntimeError):
    """Another timing core is writing this event's journal."""

    def __init__(self, event_id: int, database: str, holder: str | None) -> None:
        self.event_id = event_id
        self.database = database
        """Where the journal is: the SQLite file, or the PostgreSQL URL (no password)."""
        self.holder = holder
        """Who holds the lock, as far as known: "pid N" (SQLite), a client address (PostgreSQL)."""
        held_by = f" ({holder})" if holder else ""
        super().__init__(f"another Gambero process{held_by} is writing the journal of event "
                         f"{event_id} in {database} (gambero serve or gambero readers run): "
                         "stop it first, or use that one")

    def explained(self, event_name: str | None) -> str:
        """What is wrong and what to do, for a command's one-line error message."""
        event = repr(event_name) if event_name is not None else str(self.event_id)
        holder = f" ({self.holder})" if self.holder else ""
        return (f"the journal of event {event} in {self.database} is already being written by "
                f"another Gambero process{holder}, `gambero serve` or `gambero readers run` - "
                "stop that one first, or keep using it")


async def hold_writer(engine: AsyncEngine, event_id: int, wait_s: float = 5.0) -> Release:
    """Take the event's writer lock (waiting up to `wait_s`); returns what releases it."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        release = await _try(engine, event_id)
        if release is not None:
            return release
        if asyncio.get_running_loop().time() >= deadline:
            raise WriterBusy(event_id, _where(engine), await _holder(engine, event_id))
        await asyncio.sleep(0.1)


async def _try(engine: AsyncEngine, event_id: int) -> Release | None:
    if engine.dialect.name == "postgresql":
        return await _try_advisory(engine, event_id)
    database = engine.url.database
    if fcntl is None or not database or database == ":memory:":
        return _nothing
    return _try_flock(_lock_path(database, event_id))


async def _try_advisory(engine: AsyncEngine, event_id: int) -> Release | None:
    connection = await engine.connect()
    try:
        taken = (await connection.execute(text("SELECT pg_try_advisory_lock(:kind, :event)"),
                                          {"kind": LOCK_CLASS, "event": event_id})).scalar()
        await connection.commit()  # the lock is the session's: no transaction stays open
    except BaseException:
        await connection.close()
        raise
    if not taken:
        await connection.close()
        return None

    async def release() -> None:
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:kind, :event)"),
                                     {"kind": LOCK_CLASS, "event": event_id})
            await connection.commit()
        finally:
            await connection.close()  # ending the session releases it in any case

    return release


def _lock_path(database: str, event_id: int) -> Path:
    return Path(f"{database}.event-{event_id}.lock")


def _try_flock(path: Path) -> Release | None:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    # Our pid in the file, so that a process refused the lock can say who holds it. Only a
    # hint (the lock is the flock, not the file's contents): a failure to write it is ignored.
    with contextlib.suppress(OSError):
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)

    async def release() -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    return release


async def _nothing() -> None:
    return None


def _where(engine: AsyncEngine) -> str:
    if engine.dialect.name == "postgresql":
        return engine.url.render_as_string(hide_password=True)
    return str(Path(engine.url.database or "").resolve())


async def _holder(engine: AsyncEngine, event_id: int) -> str | None:
    """Who holds the lock, for the message; None when that cannot be found out."""
    try:
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                row = (await connection.execute(text(
                    "SELECT a.client_addr, a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.classid = :kind AND l.objid = :event"),
                    {"kind": LOCK_CLASS, "event": event_id})).first()
            if row is None:
                return None
            address = row[0] or "this machine (a local socket)"
            return f"connected from {address}" + (f", {row[1]}" if row[1] else "")
        pid = _lock_path(engine.url.database or "", event_id).read_text().strip()
    except Exception:  # only a hint for the message: the refusal stands without it
        return None
    return f"pid {pid}" if pid.isdigit() else None
