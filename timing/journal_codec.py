"""The journal's codec: how an entry is stored as a row of the `journal` table and read back.
The only code that knows the columns an entry is kept in (`timing.journal.JournalRow`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from timing.entries import ActionEntry, Entry, ReadEntry, RejectedEntry, stored_form
from timing.journal import JournalRow
from timing.reads import Read
from timing.stored_time import decode_time

JOURNAL: Table = JournalRow.__table__  # type: ignore[assignment]

READ_COLUMNS = ("event_id", "seq", "kind", "recorded_ms", "reader_key", "chip", "bib",
                 "reader_time", "clock", "reader_seq", "device", "antenna", "rssi", "line", "raw",
                 "actor", "dedup")


def read_row(event_id: int, seq: int, entry: ReadEntry) -> tuple[Any, ...]:
    """A read as the values of `READ_COLUMNS`."""
    read = entry.read
    micros, clock, dedup = entry.stored or stored_form(read)
    return (event_id, seq, "read", entry.received_ms, entry.reader_id, read.chip, read.bib,
            micros, clock, read.sequence, read.reader, read.antenna, read.rssi, read.line,
            read.raw, entry.actor or None, dedup)


def other_row(event_id: int, seq: int, entry: RejectedEntry | ActionEntry,
         recorded_ms: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(JOURNAL.c.keys())
    row.update(event_id=event_id, seq=seq, recorded_ms=recorded_ms)
    if isinstance(entry, RejectedEntry):
        row.update(kind="rejected", recorded_ms=entry.received_ms, reader_key=entry.reader_id,
                   raw=entry.raw, reason=entry.reason, line=entry.line,
                   lines=None if entry.lines == 1 else entry.lines)
    else:
        row.update(kind="action", recorded_ms=entry.at_ms or recorded_ms, action=entry.action,
                   payload=dict(entry.payload), actor=entry.actor, reason=entry.reason)
    return row


def entry_of(row: Any) -> Entry:
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
