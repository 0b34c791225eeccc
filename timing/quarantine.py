"""Journal entries that could not be applied to the standings (pure: no I/O).

The journal is never edited, so an entry that is in it and cannot apply (a gun outside the
event's days, a reader whose clock offset is absurd, a read whose time no date can show: what
older versions let in, or an error in Gambero itself) must not stop the core, and must not be
forgotten either. It is set aside here: the standings go on without it, live and in every
rebuild alike, and the timekeeper sees it (`GET /api/quarantined`, the console) until an
operator voids it (`gambero db check --void`, a journal action with a reason).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from timing.entries import ActionEntry, Entry, ReadEntry, RejectedEntry

SUMMARY_MAX = 300


@dataclass(frozen=True, slots=True)
class Quarantined:
    seq: int
    kind: str
    """"read", "rejected" or the action's name."""
    summary: str
    """What the entry says, shortened."""
    error: str
    """Why it could not apply."""
    voided_by: int | None = None
    """The journal entry that set it aside for good, once one has."""


def summarize(entry: Entry) -> tuple[str, str]:
    """(kind, summary) of a journal entry, for the timekeeper."""
    if isinstance(entry, ReadEntry):
        read = entry.read
        who = f"bib {read.bib}" if read.bib is not None else f"chip {read.chip}"
        text = f"{entry.reader_id}: {who} at {read.time.isoformat()}"
        return "read", text[:SUMMARY_MAX]
    if isinstance(entry, RejectedEntry):
        return "rejected", f"{entry.reader_id}: {entry.reason}"[:SUMMARY_MAX]
    assert isinstance(entry, ActionEntry)
    fields = ", ".join(f"{key}={value!r}" for key, value in entry.payload.items()
                       if value is not None)
    text = f"{entry.action}: {fields}" + (f" ({entry.reason})" if entry.reason else "")
    return entry.action, text[:SUMMARY_MAX]


class Quarantine:
    """The entries set aside so far, by sequence number."""

    def __init__(self) -> None:
        self._entries: dict[int, Quarantined] = {}

    def add(self, seq: int, entry: Entry, error: str) -> Quarantined:
        kind, summary = summarize(entry)
        return self.add_summary(seq, kind, summary, error)

    def add_summary(self, seq: int, kind: str, summary: str, error: str) -> Quarantined:
        item = self._entries[seq] = Quarantined(seq, kind, summary[:SUMMARY_MAX], error)
        return item

    def void(self, seq: int, by: int) -> None:
        """Entry `seq` is set aside for good by the journal entry `by` (no longer open)."""
        item = self._entries.get(seq)
        if item is not None:
            self._entries[seq] = replace(item, voided_by=by)

    def is_open(self, seq: int) -> bool:
        item = self._entries.get(seq)
        return item is not None and item.voided_by is None

    def open(self) -> list[Quarantined]:
        """The entries not voided yet, in journal order."""
        return [item for _, item in sorted(self._entries.items()) if item.voided_by is None]

    def everything(self) -> list[Quarantined]:
        return [item for _, item in sorted(self._entries.items())]
