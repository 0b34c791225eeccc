"""Persistence, all of it: the database engine, migrations, event import and the journal
(stored as `timing.journal_codec` says; the server's lookups in `timing.store_queries`).

SQLite (WAL, a file beside the event) is the default; PostgreSQL through `DATABASE_URL`. Both
go through SQLAlchemy's asyncio layer (aiosqlite, asyncpg). Nothing else in Gambero opens a
session or commits.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from timing.entries import (
    Entry,
    Journaled,
    ReadEntry,
)
from timing.event_rows import ImportReport, load_event_rows, save_event
from timing.eventfile import EventFiles
from timing.journal import EventRow, JournalRow, TokenRow
from timing.journal_codec import JOURNAL, READ_COLUMNS, entry_of, other_row, read_row
from timing.model import Adjustment, Athlete, Event
from timing.sqlite_append import SqliteAppender
from timing.store_queries import ServerQueries

DATABASE_FILE = "gambero.db"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def database_url(event_dir: Path | None = None) -> str:
    """`DATABASE_URL` if set (plain `postgresql://` and `sqlite:///` are given async drivers),
    else an SQLite file beside the event."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        folder = event_dir if event_dir is not None else Path.cwd()
        return f"sqlite+aiosqlite:///{(folder / DATABASE_FILE).resolve()}"
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"),
                          ("postgres://", "postgresql+asyncpg://"),
                          ("sqlite://", "sqlite+aiosqlite://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


class StoredRead(NamedTuple):
    """A journaled read as a rebuild needs it: the fields of a `ReadRow`, in order."""

    seq: int
    reader_key: str
    chip: str
    bib: str | None
    reader_time: int
    clock: str
    dedup: str


class TokenRecord(NamedTuple):
    id: int
    role: str
    reader: str | None
    label: str
    token_hash: str
    created_ms: int
    revoked_ms: int | None


ReadRow = Sequence[Any]
"""A journaled read as the driver returns it (an asyncpg record, an SQLite tuple): the fields
of `StoredRead` in that order, then `kind`. Indexed, not named, for speed."""
_KIND = len(StoredRead._fields)


@dataclass
class LoadedEvent:
    event_id: int
    event: Event
    athletes: list[Athlete]
    adjustments: list[Adjustment]


class Store(ServerQueries):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._appender: SqliteAppender | None = None
        """SQLite files: the one-hop writer of reads (`timing.sqlite_append`)."""
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            self._appender = SqliteAppender(database, JOURNAL.name, READ_COLUMNS)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect (and bring the schema up to date unless `migrate` is False)."""
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            sa_event.listen(engine.sync_engine, "connect", _sqlite_connect)
            sa_event.listen(engine.sync_engine, "begin", _sqlite_begin)
        store = cls(engine)
        if migrate:
            try:
                await store.upgrade()
            except BaseException:
                await engine.dispose()
                raise
        return store

    async def close(self) -> None:
        if self._appender is not None:
            await self._appender.close()
        await self.engine.dispose()

    async def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to `revision` (the only way the schema is made)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_run_alembic_upgrade, revision)

    # -- events ------------------------------------------------------------------------------

    async def import_event(self, files: EventFiles, source: str = "") -> ImportReport:
        async with self.engine.begin() as connection:
            return await connection.run_sync(save_event, files, source)

    async def event_ids(self) -> dict[str, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(EventRow.name, EventRow.id))
            return {name: event_id for name, event_id in rows}

    async def load(self, event_id: int) -> LoadedEvent:
        async with self.engine.connect() as connection:
            event, athletes, adjustments = await connection.run_sync(load_event_rows, event_id)
        return LoadedEvent(event_id, event, athletes, adjustments)

    # -- the journal -------------------------------------------------------------------------

    async def last_seq(self, event_id: int) -> int:
        async with self.engine.connect() as connection:
            value = await connection.scalar(
                select(func.max(JournalRow.seq)).where(JournalRow.event_id == event_id))
        return int(value or 0)

    async def append(self, event_id: int, first_seq: int, entries: Sequence[Entry],
                     recorded_ms: int) -> None:
        """Append `entries` as seq `first_seq`, `first_seq + 1`, … in one transaction. When it
        returns, they are durable (committed). A second writer, or a replayed read that slipped
        past the caller's de-duplication, makes it raise and nothing is written."""
        reads: list[tuple[Any, ...]] = []
        others: list[dict[str, Any]] = []
        for seq, entry in enumerate(entries, start=first_seq):
            if isinstance(entry, ReadEntry):
                reads.append(read_row(event_id, seq, entry))
            else:
                others.append(other_row(event_id, seq, entry, recorded_ms))
        if self._appender is not None and not others:
            await self._appender.append(reads)  # the hot path on SQLite: one hop, one commit
            return
        async with self.engine.begin() as connection:
            if reads:
                # The hot path: straight to the driver's executemany, no per-row processing.
                await connection.exec_driver_sql(self._insert_reads, reads)
            if others:
                await connection.execute(insert(JOURNAL), others)

    @property
    def _insert_reads(self) -> str:
        if self.engine.dialect.paramstyle == "numeric_dollar":
            marks = ", ".join(f"${n}" for n in range(1, len(READ_COLUMNS) + 1))
        else:
            marks = ", ".join("?" * len(READ_COLUMNS))
        return f"INSERT INTO journal ({', '.join(READ_COLUMNS)}) VALUES ({marks})"

    async def replay(self, event_id: int, after: int = 0,
                     batch: int = 50_000) -> AsyncIterator[list[Journaled]]:
        """The journal from `after` on, in sequence order, in ranges of `batch` sequence numbers
        (not with LIMIT: see `replay_for_rebuild`), up to the last entry when the replay ends."""
        last = await self.last_seq(event_id)
        async with self.engine.connect() as connection:
            while after < last:
                result = await connection.execute(
                    select(JOURNAL).where(JOURNAL.c.event_id == event_id,
                                           JOURNAL.c.seq > after,
                                           JOURNAL.c.seq <= after + batch)
                    .order_by(JOURNAL.c.seq))
                rows = result.mappings().all()
                await connection.rollback()  # a new snapshot for the next range (SQLite's WAL)
                after += batch
                if after >= last:  # what was appended meanwhile comes too
                    last = await self.last_seq(event_id)
                if rows:
                    yield [Journaled(int(row["seq"]), entry_of(row)) for row in rows]

    async def replay_for_rebuild(self, event_id: int, batch: int = 100_000
                                 ) -> AsyncIterator[list[ReadRow | Journaled]]:
        """The journal in sequence order for a rebuild: reads as the driver's own rows, with
        the fields of `StoredRead` in that order (no object made per read: millions of them),
        everything else as `Journaled` entries.

        Rows come straight from the driver (asyncpg, aiosqlite), in ranges of sequence numbers
        rather than with LIMIT: a LIMIT query on a journal the planner has no statistics for
        yet (right after a restart) made PostgreSQL sort everything left, batch after batch.
        """
        async with self.engine.connect() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            postgres = self.engine.dialect.name == "postgresql"
            marks = ("$1", "$2", "$3") if postgres else ("?", "?", "?")
            query = (f"SELECT {', '.join(StoredRead._fields)}, kind FROM journal "
                     f"WHERE event_id = {marks[0]} AND seq > {marks[1]} AND seq <= {marks[2]} "
                     f"ORDER BY seq")
            after, last = 0, await self.last_seq(event_id)
            while after < last:
                params = (event_id, after, after + batch)
                rows: Sequence[ReadRow] = (await driver.fetch(query, *params) if postgres
                                           else await driver.execute_fetchall(query, params))
                after += batch
                if after >= last:
                    last = await self.last_seq(event_id)
                if not rows:
                    continue
                others = [row[0] for row in rows if row[_KIND] != "read"]
                if not others:
                    yield list(rows)
                    continue
                entries = await self._entries(connection, event_id, others)
                yield [entries[row[0]] if row[_KIND] != "read" else row for row in rows]

    async def _entries(self, connection: AsyncConnection, event_id: int,
                       seqs: list[int]) -> dict[int, Journaled]:
        result = await connection.execute(
            select(JOURNAL).where(JOURNAL.c.event_id == event_id, JOURNAL.c.seq.in_(seqs)))
        return {int(row["seq"]): Journaled(int(row["seq"]), entry_of(row))
                for row in result.mappings()}

    async def count(self, event_id: int, kind: str) -> int:
        async with self.engine.connect() as connection:
            value = await connection.scalar(
                select(func.count()).select_from(JOURNAL)
                .where(JOURNAL.c.event_id == event_id, JOURNAL.c.kind == kind))
        return int(value or 0)

    async def last_reader_sequences(self, event_id: int) -> dict[str, int]:
        """Per reader, the highest record number (`Read.sequence`) its journaled reads carry:
        where a reader session resumes its rewind after a restart."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(JOURNAL.c.reader_key, func.max(JOURNAL.c.reader_seq))
                .where(JOURNAL.c.event_id == event_id, JOURNAL.c.kind == "read",
                       JOURNAL.c.reader_seq.is_not(None))
                .group_by(JOURNAL.c.reader_key))
            return {str(reader): int(last) for reader, last in rows if reader is not None}


    # -- API tokens (only their hashes) --------------------------------------------------------

    async def add_token(self, role: str, reader: str | None, label: str, token_hash: str,
                        created_ms: int) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(insert(TokenRow).values(
                role=role, reader=reader, label=label, token_hash=token_hash,
                created_ms=created_ms, revoked_ms=None).returning(TokenRow.id))
            return int(result.scalar_one())

    async def tokens(self) -> list[TokenRecord]:
        async with self.engine.connect() as connection:
            result = await connection.execute(select(
                TokenRow.id, TokenRow.role, TokenRow.reader, TokenRow.label,
                TokenRow.token_hash, TokenRow.created_ms, TokenRow.revoked_ms)
                .order_by(TokenRow.id))
            return [TokenRecord(*row) for row in result]

    async def revoke_token(self, token_id: int, revoked_ms: int) -> bool:
        """False if no token has that id or it was revoked already."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(TokenRow).where(TokenRow.id == token_id, TokenRow.revoked_ms.is_(None))
                .values(revoked_ms=revoked_ms))
            return bool(result.rowcount)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 driver opens transactions itself, and not before CREATE TABLE: a migration
    # killed half-way would leave half a schema. Take the transactions over (`_sqlite_begin`)
    # so that DDL is transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; synchronous=FULL makes a commit survive a power
    # cut, not only a crash of the process (a read is acknowledged only after its commit).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _run_alembic_upgrade(connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
