"""Rebuilding a core's standings from its journal, and the garbage collector's settings for it.

On start the core replays the whole journal: millions of reads come as the driver's own rows
(no object made per read) and go to the standings in bulk between actions, as
`timing.entries.apply_all` does from entries. Entries that cannot apply are set aside
(`timing.quarantine`) exactly as the live core sets them aside, so that a restart gives the
standings it had.
"""

from __future__ import annotations

import gc

from timing.entries import ActionEntry, Journaled, apply_all, invalid_read_message, voided_seq
from timing.quarantine import Quarantine
from timing.standings import Standings
from timing.store import ReadRow, Store

GC_THRESHOLDS = (50_000, 20, 100)
"""The cyclic garbage collector's thresholds while a core runs (see `tune_gc`)."""

DedupKey = tuple[str, str]
"""(reader id, the journal's `dedup` text): see `timing.entries.dedup_key`."""

StoredReads = list[tuple[str, int, str, str, str | None]]


async def rebuild(store: Store, event_id: int, standings: Standings, quarantine: Quarantine,
                  seen: set[DedupKey]) -> int:
    """Apply the journal of `event_id` to `standings`, set aside what cannot apply, add every
    read's identity to `seen`; returns the last sequence number. The garbage collector is
    paused meanwhile and the millions of objects made are then frozen out of its way: scanning
    them again and again would cost more than the rebuild itself."""
    seq = 0
    reads: StoredReads = []
    rows: list[ReadRow] = []
    gc.disable()
    try:
        async for batch in store.replay_for_rebuild(event_id):
            for item in batch:
                if not isinstance(item, Journaled):  # a read, as a row: see `StoredRead`
                    seen.add((item[1], item[6]))
                    reads.append((item[1], item[4], item[5], item[2], item[3]))
                    rows.append(item)
                    continue
                if reads:
                    _add_reads(standings, quarantine, reads, rows)
                    reads, rows = [], []
                for failed, error in apply_all(standings, [item], settle=False):
                    quarantine.add(failed, item.entry, error)
                if isinstance(item.entry, ActionEntry):
                    target = voided_seq(item.entry)
                    if target is not None:
                        quarantine.void(target, item.seq)
            if reads:
                _add_reads(standings, quarantine, reads, rows)
                reads, rows = [], []
            last = batch[-1]
            seq = last.seq if isinstance(last, Journaled) else int(last[0])
        standings.settle()
    finally:
        gc.enable()
        gc.freeze()
        tune_gc()
    return seq


def _add_reads(standings: Standings, quarantine: Quarantine, reads: StoredReads,
               rows: list[ReadRow]) -> None:
    for index, outcome in standings.add_stored_reads(reads, settle=False):
        if outcome.kind == "invalid":
            row = rows[index]
            quarantine.add_summary(
                int(row[0]), "read", f"{row[1]}: chip {row[2]} bib {row[3]} at reader time "
                f"{row[4]} µs ({row[5]})", invalid_read_message(outcome))


def tune_gc() -> None:
    """Make the cyclic collector run far less often (never more often than it was set to).
    Ingest allocates several objects per read (the read, its entry, keys, tuples), nearly all
    freed by reference counting: the collector found almost nothing to collect, yet with the
    default thresholds (700, 10, 10) it kept making full passes over the whole heap of a
    running event (hundreds of MB), pauses that every acknowledgement waiting behind them paid
    (at about 30,000 reads/s the p99 went from 50-60 ms to 17-18 ms without them). With these
    thresholds the young generations are still collected often (short-lived cycles:
    exceptions, tasks) and a full pass comes after about a hundred million allocations."""
    current = gc.get_threshold()
    gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(GC_THRESHOLDS, current,
                                                                   strict=True)))
