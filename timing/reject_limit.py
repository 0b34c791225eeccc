"""How many rejected lines a reader may have journaled each second (pure: no I/O).

A reader that sends garbage (a wrong baud rate, a failing cable, a misconfigured format) has
every line rejected: thousands a minute, each of which would be a journal row, for as long as
it goes on. Every rejected line is still counted (the reader's health and the answer to a post
say exactly how many), but each second only the first few lines with the same reason, and a
few more in all, are journaled one by one; the rest of that second become one summary entry
that says how many they were and keeps the last of them. docs/readers.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from timing.entries import RejectedEntry
from timing.reads import Rejected

SAME_REASON_PER_S = 5
"""Rejected lines with the same reason journaled one by one per reader and second."""
PER_READER_PER_S = 20
"""Rejected lines journaled one by one per reader and second, whatever their reasons."""


@dataclass(slots=True)
class _Second:
    second: int
    journaled: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    counted: int = 0
    """Lines of this second counted but not journaled."""
    last: Rejected | None = None


class RejectLimit:
    """Per reader and second of arrival: which rejected lines are journaled one by one, and
    the summaries of those that were only counted."""

    def __init__(self, same_reason: int = SAME_REASON_PER_S,
                 per_reader: int = PER_READER_PER_S) -> None:
        self.same_reason = same_reason
        self.per_reader = per_reader
        self._seconds: dict[str, _Second] = {}
        self._due: list[RejectedEntry] = []

    def admit(self, reader_id: str, record: Rejected, now_ms: int) -> bool:
        """Whether to journal `record` now; if not, it is counted for its second's summary."""
        second = now_ms // 1000
        state = self._seconds.get(reader_id)
        if state is None or state.second != second:
            if state is not None:
                self._close(reader_id, state)
            state = self._seconds[reader_id] = _Second(second)
        same = state.by_reason.get(record.reason, 0)
        if same < self.same_reason and state.journaled < self.per_reader:
            state.by_reason[record.reason] = same + 1
            state.journaled += 1
            return True
        state.counted += 1
        state.last = record
        return False

    def counting(self) -> bool:
        """Whether some lines are counted and not yet summarised."""
        return bool(self._due) or any(state.counted for state in self._seconds.values())

    def summaries(self, now_ms: int | None = None) -> list[RejectedEntry]:
        """The summaries of the seconds that have ended by `now_ms` (None: of every second,
        ended or not, as when the core stops), each once."""
        for reader_id, state in list(self._seconds.items()):
            if now_ms is None or state.second < now_ms // 1000:
                self._close(reader_id, state)
                del self._seconds[reader_id]
        due, self._due = self._due, []
        return due

    def _close(self, reader_id: str, state: _Second) -> None:
        if not state.counted or state.last is None:
            return
        last = state.last
        self._due.append(RejectedEntry(
            reader_id, last.raw,
            f"{state.counted} more rejected lines in this second were counted, not journaled "
            f"one by one (the last is shown: {last.reason})",
            state.second * 1000 + 999, last.line, lines=state.counted))
