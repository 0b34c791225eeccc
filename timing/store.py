"""Persistence, all of it: the database engine, migrations, event import and the journal.

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

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from timing.entries import (
    ActionEntry,
    Entry,
    Journaled,
    ReadEntry,
    RejectedEntry,
    stored_form,
)
from timing.event_rows import ImportReport, load_event_rows, save_event
from timing.eventfile import EventFiles
from timing.journal import EventRow, JournalRow, TokenRow
from timing.model import Adjustment, Athlete, Event
from timing.reads import Read
from timing.sqlite_append import SqliteAppender
from timing.stored_time import decode_time

DATABASE_FILE = "gambero.db"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_JOURNAL: Table = JournalRow.__table__  # type: ignore[assignment]


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


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._appender: SqliteAppender | None = None
        """SQLite files: the one-hop writer of reads (`timing.sqlite_append`)."""
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            self._appender = SqliteAppender(database, _JOURNAL.name, _READ_COLUMNS)

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
                reads.append(_read_row(event_id, seq, entry))
            else:
                others.append(_row(event_id, seq, entry, recorded_ms))
        if self._appender is not None and not others:
            await self._appender.append(reads)  # the hot path on SQLite: one hop, one commit
            return
        async with self.engine.begin() as connection:
            if reads:
                # The hot path: straight to the driver's executemany, no per-row processing.
                await connection.exec_driver_sql(self._insert_reads, reads)
            if others:
                await connection.execute(insert(_JOURNAL), others)

    @property
    def _insert_reads(self) -> str:
        if self.engine.dialect.paramstyle == "numeric_dollar":
            marks = ", ".join(f"${n}" for n in range(1, len(_READ_COLUMNS) + 1))
        else:
            marks = ", ".join("?" * len(_READ_COLUMNS))
        return f"INSERT INTO journal ({', '.join(_READ_COLUMNS)}) VALUES ({marks})"

    async def replay(self, event_id: int, after: int = 0,
                     batch: int = 50_000) -> AsyncIterator[list[Journaled]]:
        """The journal from `after` on, in sequence order, in ranges of `batch` sequence numbers
        (not with LIMIT: see `replay_for_rebuild`), up to the last entry when the replay ends."""
        last = await self.last_seq(event_id)
        async with self.engine.connect() as connection:
            while after < last:
                result = await connection.execute(
                    select(_JOURNAL).where(_JOURNAL.c.event_id == event_id,
                                           _JOURNAL.c.seq > after,
                                           _JOURNAL.c.seq <= after + batch)
                    .order_by(_JOURNAL.c.seq))
                rows = result.mappings().all()
                await connection.rollback()  # a new snapshot for the next range (SQLite's WAL)
                after += batch
                if after >= last:  # what was appended meanwhile comes too
                    last = await self.last_seq(event_id)
                if rows:
                    yield [Journaled(int(row["seq"]), _entry(row)) for row in rows]

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
            select(_JOURNAL).where(_JOURNAL.c.event_id == event_id, _JOURNAL.c.seq.in_(seqs)))
        return {int(row["seq"]): Journaled(int(row["seq"]), _entry(row))
                for row in result.mappings()}

    async def count(self, event_id: int, kind: str) -> int:
        async with self.engine.connect() as connection:
            value = await connection.scalar(
                select(func.count()).select_from(_JOURNAL)
                .where(_JOURNAL.c.event_id == event_id, _JOURNAL.c.kind == kind))
        return int(value or 0)

    async def last_reader_sequences(self, event_id: int) -> dict[str, int]:
        """Per reader, the highest record number (`Read.sequence`) its journaled reads carry:
        where a reader session resumes its rewind after a restart."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(_JOURNAL.c.reader_key, func.max(_JOURNAL.c.reader_seq))
                .where(_JOURNAL.c.event_id == event_id, _JOURNAL.c.kind == "read",
                       _JOURNAL.c.reader_seq.is_not(None))
                .group_by(_JOURNAL.c.reader_key))
            return {str(reader): int(last) for reader, last in rows if reader is not None}


    # -- queries for the server --------------------------------------------------------------

    async def reader_counts(self, event_id: int) -> dict[str, tuple[int, int, int | None]]:
        """Reader id -> (reads journaled, rejected lines, when the last read was received).
        Rejected lines counted but not journaled are in the count (`RejectedEntry.lines`)."""
        counts: dict[str, list[Any]] = {}
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(_JOURNAL.c.reader_key, _JOURNAL.c.kind,
                       func.sum(func.coalesce(_JOURNAL.c.lines, 1)),
                       func.max(_JOURNAL.c.recorded_ms))
                .where(_JOURNAL.c.event_id == event_id,
                       _JOURNAL.c.kind.in_(("read", "rejected")))
                .group_by(_JOURNAL.c.reader_key, _JOURNAL.c.kind))
            for reader_key, kind, number, last in result:
                entry = counts.setdefault(str(reader_key), [0, 0, None])
                if kind == "read":
                    entry[0], entry[2] = int(number), None if last is None else int(last)
                else:
                    entry[1] = int(number)
        return {key: (value[0], value[1], value[2]) for key, value in counts.items()}

    async def latest(self, event_id: int, kind: str | None, limit: int) -> list[Journaled]:
        """The last `limit` journal entries (of `kind` if given), newest first."""
        query = select(_JOURNAL).where(_JOURNAL.c.event_id == event_id)
        if kind is not None:
            query = query.where(_JOURNAL.c.kind == kind)
        async with self.engine.connect() as connection:
            result = await connection.execute(query.order_by(_JOURNAL.c.seq.desc()).limit(limit))
            return [Journaled(int(row["seq"]), _entry(row)) for row in result.mappings()]

    async def actions(self, event_id: int, names: Sequence[str]) -> list[Journaled]:
        """Every action named in `names` (e.g. "alarm", "gun"), in journal order."""
        async with self.engine.connect() as connection:
            # Sorted here, not by the query: an ORDER BY seq makes SQLite walk the whole
            # journal in seq order instead of using the partial index ix_journal_actions.
            result = await connection.execute(
                select(_JOURNAL).where(_JOURNAL.c.event_id == event_id,
                                       _JOURNAL.c.action.is_not(None),
                                       _JOURNAL.c.action.in_(list(names))))
            return sorted((Journaled(int(row["seq"]), _entry(row))
                           for row in result.mappings()), key=lambda item: item.seq)

    async def recorded_times(self, event_id: int, seqs: Sequence[int]) -> dict[int, int]:
        """seq -> when the entry was recorded (ms since 1970 UTC), for the entries `seqs` (the
        alarms of set-aside entries say since when)."""
        if not seqs:
            return {}
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(_JOURNAL.c.seq, _JOURNAL.c.recorded_ms)
                .where(_JOURNAL.c.event_id == event_id, _JOURNAL.c.seq.in_(sorted(set(seqs)))))
            return {int(seq): int(recorded) for seq, recorded in result}

    async def reads_of_chips(self, event_id: int, chips: Sequence[str]
                             ) -> list[tuple[str, str, int, str]]:
        """(reader id, chip, reader time, clock) of every read of `chips` (compared in lower
        case, as chip codes are)."""
        if not chips:
            return []
        wanted = sorted({chip.lower() for chip in chips})
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(_JOURNAL.c.reader_key, _JOURNAL.c.chip, _JOURNAL.c.reader_time,
                       _JOURNAL.c.clock)
                .where(_JOURNAL.c.event_id == event_id, _JOURNAL.c.kind == "read",
                       _JOURNAL.c.bib.is_(None), func.lower(_JOURNAL.c.chip).in_(wanted))
                .order_by(_JOURNAL.c.seq))
            return [(str(reader), str(chip), int(micros), str(clock))
                    for reader, chip, micros, clock in result]


    # -- the journal as the desk reads it (GET /api/journal) -----------------------------------

    async def journal_page(self, event_id: int, kinds: Sequence[str], *,
                           actions: Sequence[str] = (), bib: str | None = None,
                           chips: Sequence[str] = (), before: int | None = None,
                           limit: int = 100) -> list[Journaled]:
        """The newest `limit` entries of `kinds` (with a seq below `before`, if given), newest
        first. Kinds: "action", "manual" (reads by bib: hand timing, manual files), "read"
        (chip reads), "rejected". `actions` keeps only the actions of those names. `bib` keeps
        only what concerns that athlete: actions whose payload names it (`bib`, `to_bib`, or a
        `chip` of `chips`), its manual entries, and the chip reads of `chips` (none without
        them; rejected lines concern nobody).

        One query per kind, each one an index serves (a journal is millions of chip reads):
        chip reads and rejected lines through the primary key, backwards; actions through
        ix_journal_actions and manual entries through ix_journal_bibs, then sorted (they are
        few). For those two the `IS NOT NULL` terms are the partial indexes' conditions,
        written out so that SQLite sees it may use them, and `seq + 0` keeps the planner off
        the primary key: without statistics SQLite took it for its order, reading every chip
        read of the event to find the last 50 actions."""
        journal = _JOURNAL.c
        lowered = sorted({chip.lower() for chip in chips})
        queries: list[tuple[list[Any], Any]] = []

        def newest(*terms: Any, by_key: bool = True) -> None:
            seq = journal.seq if by_key else journal.seq + 0
            where = [journal.event_id == event_id, *terms]
            if before is not None:
                where.append(seq < before)
            queries.append((where, seq))

        where: list[Any]
        if "action" in kinds:
            where = [journal.action.is_not(None)]
            if actions:
                where.append(journal.action.in_(sorted(set(actions))))
            if bib is not None:
                named = ((journal.payload["bib"].as_string() == bib)
                         | (journal.payload["to_bib"].as_string() == bib))
                if lowered:
                    named = named | func.lower(journal.payload["chip"].as_string()).in_(lowered)
                where.append(named)
            newest(*where, by_key=False)
        if "manual" in kinds:
            where = [journal.bib.is_not(None), journal.kind == "read"]
            if bib is not None:
                where.append(journal.bib == bib)
            newest(*where, by_key=False)
        if "read" in kinds and (bib is None or lowered):
            where = [journal.kind == "read", journal.bib.is_(None)]
            if lowered:
                where.append(func.lower(journal.chip).in_(lowered))
            newest(*where)
        if "rejected" in kinds and bib is None:
            newest(journal.kind == "rejected")
        found: list[Journaled] = []
        async with self.engine.connect() as connection:
            for where, seq in queries:
                result = await connection.execute(
                    select(_JOURNAL).where(*where).order_by(seq.desc()).limit(limit))
                found.extend(Journaled(int(row["seq"]), _entry(row))
                             for row in result.mappings())
        found.sort(key=lambda item: item.seq, reverse=True)
        return found[:limit]

    # -- an athlete's entries, for corrections at the desk ---------------------------------------

    async def entry(self, event_id: int, seq: int) -> Entry | None:
        """The journal entry `seq`, or None."""
        async with self.engine.connect() as connection:
            result = await connection.execute(select(_JOURNAL).where(
                _JOURNAL.c.event_id == event_id, _JOURNAL.c.seq == seq))
            row = result.mappings().first()
            return None if row is None else _entry(row)

    async def reads_of(self, event_id: int, bibs: Sequence[str], chips: Sequence[str] = ()
                       ) -> list[Journaled]:
        """Every read typed under one of `bibs` (hand timing) or, when given, of one of
        `chips` (compared in lower case, as chip codes are), in journal order."""
        wanted = [_JOURNAL.c.bib.is_not(None) & _JOURNAL.c.bib.in_(list(bibs))]  # by the
        if chips:  # partial index ix_journal_bibs; chip reads are many, and not indexed
            wanted.append(_JOURNAL.c.bib.is_(None)
                          & func.lower(_JOURNAL.c.chip).in_(sorted({c.lower() for c in chips})))
        found: list[Journaled] = []
        async with self.engine.connect() as connection:
            for condition in wanted if bibs else wanted[1:]:
                # Sorted below, not by the query (see `actions`).
                result = await connection.execute(select(_JOURNAL).where(
                    _JOURNAL.c.event_id == event_id, _JOURNAL.c.kind == "read", condition))
                found += (Journaled(int(row["seq"]), _entry(row)) for row in result.mappings())
        return sorted(found, key=lambda item: item.seq)

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


_READ_COLUMNS = ("event_id", "seq", "kind", "recorded_ms", "reader_key", "chip", "bib",
                 "reader_time", "clock", "reader_seq", "device", "antenna", "rssi", "line", "raw",
                 "actor", "dedup")


def _read_row(event_id: int, seq: int, entry: ReadEntry) -> tuple[Any, ...]:
    """A read as the values of `_READ_COLUMNS`."""
    read = entry.read
    micros, clock, dedup = entry.stored or stored_form(read)
    return (event_id, seq, "read", entry.received_ms, entry.reader_id, read.chip, read.bib,
            micros, clock, read.sequence, read.reader, read.antenna, read.rssi, read.line,
            read.raw, entry.actor or None, dedup)


def _row(event_id: int, seq: int, entry: RejectedEntry | ActionEntry,
         recorded_ms: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(_JOURNAL.c.keys())
    row.update(event_id=event_id, seq=seq, recorded_ms=recorded_ms)
    if isinstance(entry, RejectedEntry):
        row.update(kind="rejected", recorded_ms=entry.received_ms, reader_key=entry.reader_id,
                   raw=entry.raw, reason=entry.reason, line=entry.line,
                   lines=None if entry.lines == 1 else entry.lines)
    else:
        row.update(kind="action", recorded_ms=entry.at_ms or recorded_ms, action=entry.action,
                   payload=dict(entry.payload), actor=entry.actor, reason=entry.reason)
    return row


def _entry(row: Any) -> Entry:
    kind = row["kind"]
    if kind == "read":
        moment, dated = decode_time(int(row["reader_time"]), str(row["clock"]))
        read = Read(chip=row["chip"] or "", time=moment, dated=dated, bib=row["bib"],
                    reader=row["device"], antenna=row["antenna"], rssi=row["rssi"],
                    sequence=row["reader_seq"], line=row["line"] or 0, raw=row["raw"] or "")
        return ReadEntry(row["reader_key"], read, int(row["recorded_ms"]), row["actor"] or "")
    if kind == "rejected":
        return RejectedEntry(row["reader_key"], row["raw"] or "", row["reason"] or "",
                             int(row["recorded_ms"]), row["line"] or 0, row["lines"] or 1)
    return ActionEntry(row["action"], dict(row["payload"] or {}), row["actor"] or "",
                       int(row["recorded_ms"]), row["reason"] or "")


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
