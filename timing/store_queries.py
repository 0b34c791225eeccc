"""What the server looks up in the journal (reads only): reader counts, the latest entries,
actions by name, an athlete's reads, the journal as the desk pages through it. A part of
`timing.store.Store`, kept apart to keep each module small."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from timing.entries import Entry, Journaled
from timing.journal_codec import JOURNAL, entry_of


class ServerQueries:
    engine: AsyncEngine

    async def reader_counts(self, event_id: int) -> dict[str, tuple[int, int, int | None]]:
        """Reader id -> (reads journaled, rejected lines, when the last read was received).
        Rejected lines counted but not journaled are in the count (`RejectedEntry.lines`)."""
        counts: dict[str, list[Any]] = {}
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(JOURNAL.c.reader_key, JOURNAL.c.kind,
                       func.sum(func.coalesce(JOURNAL.c.lines, 1)),
                       func.max(JOURNAL.c.recorded_ms))
                .where(JOURNAL.c.event_id == event_id,
                       JOURNAL.c.kind.in_(("read", "rejected")))
                .group_by(JOURNAL.c.reader_key, JOURNAL.c.kind))
            for reader_key, kind, number, last in result:
                entry = counts.setdefault(str(reader_key), [0, 0, None])
                if kind == "read":
                    entry[0], entry[2] = int(number), None if last is None else int(last)
                else:
                    entry[1] = int(number)
        return {key: (value[0], value[1], value[2]) for key, value in counts.items()}

    async def latest(self, event_id: int, kind: str | None, limit: int) -> list[Journaled]:
        """The last `limit` journal entries (of `kind` if given), newest first."""
        query = select(JOURNAL).where(JOURNAL.c.event_id == event_id)
        if kind is not None:
            query = query.where(JOURNAL.c.kind == kind)
        async with self.engine.connect() as connection:
            result = await connection.execute(query.order_by(JOURNAL.c.seq.desc()).limit(limit))
            return [Journaled(int(row["seq"]), entry_of(row)) for row in result.mappings()]

    async def actions(self, event_id: int, names: Sequence[str]) -> list[Journaled]:
        """Every action named in `names` (e.g. "alarm", "gun"), in journal order."""
        async with self.engine.connect() as connection:
            # Sorted here, not by the query: an ORDER BY seq makes SQLite walk the whole
            # journal in seq order instead of using the partial index ix_journal_actions.
            result = await connection.execute(
                select(JOURNAL).where(JOURNAL.c.event_id == event_id,
                                       JOURNAL.c.action.is_not(None),
                                       JOURNAL.c.action.in_(list(names))))
            return sorted((Journaled(int(row["seq"]), entry_of(row))
                           for row in result.mappings()), key=lambda item: item.seq)

    async def recorded_times(self, event_id: int, seqs: Sequence[int]) -> dict[int, int]:
        """seq -> when the entry was recorded (ms since 1970 UTC), for the entries `seqs` (the
        alarms of set-aside entries say since when)."""
        if not seqs:
            return {}
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(JOURNAL.c.seq, JOURNAL.c.recorded_ms)
                .where(JOURNAL.c.event_id == event_id, JOURNAL.c.seq.in_(sorted(set(seqs)))))
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
                select(JOURNAL.c.reader_key, JOURNAL.c.chip, JOURNAL.c.reader_time,
                       JOURNAL.c.clock)
                .where(JOURNAL.c.event_id == event_id, JOURNAL.c.kind == "read",
                       JOURNAL.c.bib.is_(None), func.lower(JOURNAL.c.chip).in_(wanted))
                .order_by(JOURNAL.c.seq))
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
        journal = JOURNAL.c
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
                    select(JOURNAL).where(*where).order_by(seq.desc()).limit(limit))
                found.extend(Journaled(int(row["seq"]), entry_of(row))
                             for row in result.mappings())
        found.sort(key=lambda item: item.seq, reverse=True)
        return found[:limit]

    # -- an athlete's entries, for corrections at the desk ---------------------------------------

    async def entry(self, event_id: int, seq: int) -> Entry | None:
        """The journal entry `seq`, or None."""
        async with self.engine.connect() as connection:
            result = await connection.execute(select(JOURNAL).where(
                JOURNAL.c.event_id == event_id, JOURNAL.c.seq == seq))
            row = result.mappings().first()
            return None if row is None else entry_of(row)

    async def reads_of(self, event_id: int, bibs: Sequence[str], chips: Sequence[str] = ()
                       ) -> list[Journaled]:
        """Every read typed under one of `bibs` (hand timing) or, when given, of one of
        `chips` (compared in lower case, as chip codes are), in journal order."""
        wanted = [JOURNAL.c.bib.is_not(None) & JOURNAL.c.bib.in_(list(bibs))]  # by the
        if chips:  # partial index ix_journal_bibs; chip reads are many, and not indexed
            wanted.append(JOURNAL.c.bib.is_(None)
                          & func.lower(JOURNAL.c.chip).in_(sorted({c.lower() for c in chips})))
        found: list[Journaled] = []
        async with self.engine.connect() as connection:
            for condition in wanted if bibs else wanted[1:]:
                # Sorted below, not by the query (see `actions`).
                result = await connection.execute(select(JOURNAL).where(
                    JOURNAL.c.event_id == event_id, JOURNAL.c.kind == "read", condition))
                found += (Journaled(int(row["seq"]), entry_of(row)) for row in result.mappings())
        return sorted(found, key=lambda item: item.seq)
