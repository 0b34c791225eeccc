"""A reader's health, as the API's ReaderHealth shows it (docs/api-contract: `/api/readers`)."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypedDict

from readers.transports.base import TransportKind

RATE_WINDOW_MS = 10_000

API_FIELDS = ("id", "point", "format", "transport", "connected", "since_ms", "last_read_ms",
              "reads_per_s", "reads", "duplicates", "rejected", "clock_offset_ms", "drift_ms",
              "alarm", "state", "connected_ms", "causes")

State = Literal["connected", "disconnected", "done", "stopped"]
"""`done`: a recording replayed to its end (not a link that failed)."""


class Cause(TypedDict):
    """One thing about a reader that needs attention (the alarms of `GET /api/alarms`)."""

    text: str
    since_ms: int
    """When it started (it clears by itself: raised again, it is a new start)."""
    measure: int | None
    """How bad, where it has a size (a clock's error or drift, in ms)."""
    clear_when: str


@dataclass
class ReaderHealth:
    id: str
    point: str
    format: str
    transport: TransportKind
    connected: bool = False
    since_ms: int | None = None
    """When `connected` last changed (connected since, or disconnected since)."""
    last_read_ms: int | None = None
    reads_per_s: float = 0.0
    reads: int = 0
    """Distinct reads stored in the journal."""
    duplicates: int = 0
    rejected: int = 0
    clock_offset_ms: int | None = None
    drift_ms: int | None = None
    alarm: str | None = None
    connected_ms: int | None = None
    """When the link last came up (None: not since this start)."""
    causes: dict[str, Cause] = field(default_factory=dict)
    """What `alarm` joins, by kind (link, storage, clock, drift)."""
    # Beyond the API's fields: for `gambero readers status` and the logs.
    address: str = ""
    running: bool = True
    finished: bool = False
    """A recording replayed to its end (not a failed link)."""
    reconnects: int = 0
    rewinds: int = 0
    last_error: str | None = None
    _arrivals: deque[tuple[int, int]] = field(default_factory=deque, repr=False)

    def stored(self, accepted: int, duplicates: int, rejected: int, now_ms: int) -> None:
        self.reads += accepted
        self.duplicates += duplicates
        self.rejected += rejected
        if accepted:
            self.last_read_ms = now_ms
            self._arrivals.append((now_ms, accepted))
        self.rate(now_ms)

    def rate(self, now_ms: int) -> float:
        while self._arrivals and self._arrivals[0][0] <= now_ms - RATE_WINDOW_MS:
            self._arrivals.popleft()
        self.reads_per_s = round(sum(count for _, count in self._arrivals)
                                 / (RATE_WINDOW_MS / 1000), 2)
        return self.reads_per_s

    @property
    def state(self) -> State:
        if self.finished:
            return "done"
        if not self.running:
            return "stopped"
        return "connected" if self.connected else "disconnected"

    def as_api(self) -> dict[str, Any]:
        """Exactly the fields of the API's ReaderHealth."""
        whole = {**asdict(self), "state": self.state}
        return {name: whole[name] for name in API_FIELDS}

    def as_status(self) -> dict[str, Any]:
        """Everything, for the health file of `gambero readers run`."""
        whole = {**asdict(self), "state": self.state}
        del whole["_arrivals"]
        return whole


__all__ = ["API_FIELDS", "RATE_WINDOW_MS", "Cause", "ReaderHealth", "State"]
