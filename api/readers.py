"""Readers as the server sees them: their health, and adding, starting and stopping them.

`ReaderManager` is the interface the routes use. `IngestReaders` serves readers that have no
link (network readers and apps that post their reads to `POST /api/readers/{id}/reads`), and
every reader of a server started with `--no-readers`: it keeps each reader's health from what
the core answered to its submissions. `api.live_readers.LiveReaders` adds the live sessions.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

from readers.health import Cause, State
from timing.core import Submitted, TimingCore
from timing.entries import ActionError, add_reader
from timing.model import ReaderConfig
from timing.reads import Record
from timing.store import Store

Transport = Literal["serial", "tcp", "file", "sim", "ingest"]
QUIET_S = 60.0
"""An ingest reader that has posted nothing for this long is shown as not connected."""


@dataclass(frozen=True)
class ReaderHealth:
    id: str
    point: str
    format: str
    transport: Transport
    connected: bool
    since_ms: int | None
    last_read_ms: int | None
    reads_per_s: float
    reads: int
    duplicates: int
    rejected: int
    clock_offset_ms: int | None
    drift_ms: int | None
    alarm: str | None
    running: bool = True
    """Extension: False once stopped (its reads are refused until it is started again)."""
    state: State = "disconnected"
    """connected, disconnected, done (a recording replayed to its end) or stopped."""
    connected_ms: int | None = None
    """When the link last came up (an ingest reader: its posts began again after a pause);
    None: not since this start."""
    causes: dict[str, Cause] = field(default_factory=dict)
    """What needs attention, by kind (`alarm` joins their texts): `api.alarms` reads them."""

    def as_json(self) -> dict[str, object]:
        return asdict(self)


class ReaderError(Exception):
    """A reader operation that cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class ReaderManager(Protocol):
    def health(self) -> list[ReaderHealth]: ...

    def reader(self, reader_id: str) -> ReaderHealth:
        """Raises ReaderError(404) for an unknown reader."""

    async def add(self, config: ReaderConfig, actor: str = "") -> ReaderHealth:
        """Journal the reader (so a restart and a rebuild know it too), then run it."""

    async def start(self, reader_id: str) -> ReaderHealth: ...

    async def stop(self, reader_id: str) -> ReaderHealth: ...

    async def submit(self, reader_id: str, records: Sequence[Record], actor: str = ""
                     ) -> Submitted:
        """Journal reads that arrived for `reader_id` (through the API); once durable."""


async def journal_reader(core: TimingCore, config: ReaderConfig, actor: str) -> None:
    """The journal entry that adds `config` to the event (ReaderError if it cannot)."""
    try:
        await core.act(add_reader(config, actor=actor, at_ms=time.time_ns() // 1_000_000))
    except ActionError as error:
        raise ReaderError(str(error)) from None


def transport_of(config: ReaderConfig) -> Transport:
    if config.port:
        return "serial"
    if config.host:
        return "tcp"
    if config.path:
        return "file"
    return "ingest"


class _Counts:
    def __init__(self) -> None:
        self.reads = 0
        self.duplicates = 0
        self.rejected = 0
        self.last_read_ms: int | None = None
        self.last_post: float | None = None
        self.since_ms: int | None = None
        self.connected_ms: int | None = None
        self.recent: deque[tuple[float, int]] = deque()
        self.running = True

    def rate(self, now: float, window: float = 10.0) -> float:
        while self.recent and self.recent[0][0] < now - window:
            self.recent.popleft()
        return round(sum(count for _, count in self.recent) / window, 2)


class IngestReaders:
    """Readers fed through the API only: health from the core's answers to their posts."""

    def __init__(self, core: TimingCore) -> None:
        self.core = core
        self.configs = {reader.id: reader for reader in core.event.readers}
        self.counts = {reader_id: _Counts() for reader_id in self.configs}

    async def load_counts(self, store: Store, event_id: int) -> None:
        """Reads and rejected lines already journaled (duplicates are not journaled: they
        count from this start on)."""
        for reader_id, (reads, rejected, last_ms) in (
                await store.reader_counts(event_id)).items():
            counts = self.counts.get(reader_id)
            if counts is not None:
                counts.reads, counts.rejected, counts.last_read_ms = reads, rejected, last_ms

    def health(self) -> list[ReaderHealth]:
        return [self.reader(reader_id) for reader_id in self.configs]

    def reader(self, reader_id: str) -> ReaderHealth:
        config = self.configs.get(reader_id)
        if config is None:
            raise ReaderError(f"no reader {reader_id!r} in this event", 404)
        counts = self.counts[reader_id]
        now = time.monotonic()
        connected = (counts.running and counts.last_post is not None
                     and now - counts.last_post < QUIET_S)
        alarm = None
        if not counts.running:
            alarm = "stopped"
        elif transport_of(config) != "ingest":
            alarm = (f"{transport_of(config)} transport not run by this server: post its "
                     f"reads to /api/readers/{config.id}/reads")
        return ReaderHealth(
            id=config.id, point=config.point, format=config.format,
            transport=transport_of(config), connected=connected, since_ms=counts.since_ms,
            last_read_ms=counts.last_read_ms, reads_per_s=counts.rate(now), reads=counts.reads,
            duplicates=counts.duplicates, rejected=counts.rejected,
            clock_offset_ms=config.clock_offset_ms, drift_ms=None, alarm=alarm,
            running=counts.running,
            state="stopped" if not counts.running else
            "connected" if connected else "disconnected",
            connected_ms=counts.connected_ms)

    async def add(self, config: ReaderConfig, actor: str = "") -> ReaderHealth:
        if transport_of(config) != "ingest":
            raise ReaderError("this server runs no live readers (started with --no-readers): "
                              "add the reader without port/host/path and post its reads", 501)
        await journal_reader(self.core, config, actor)
        return self.add_ingest(config)

    def add_ingest(self, config: ReaderConfig) -> ReaderHealth:
        """A reader whose reads will be posted to the API (already journaled by the caller)."""
        self.configs[config.id] = config
        self.counts[config.id] = _Counts()
        return self.reader(config.id)

    async def start(self, reader_id: str) -> ReaderHealth:
        self.reader(reader_id)
        self.counts[reader_id].running = True
        return self.reader(reader_id)

    async def stop(self, reader_id: str) -> ReaderHealth:
        self.reader(reader_id)
        self.counts[reader_id].running = False
        return self.reader(reader_id)

    async def submit(self, reader_id: str, records: Sequence[Record], actor: str = ""
                     ) -> Submitted:
        self.reader(reader_id)
        counts = self.counts[reader_id]
        if not counts.running:
            raise ReaderError(f"reader {reader_id} is stopped: start it to take its reads")
        answer = await self.core.submit(reader_id, records, actor=actor)
        now_ms = time.time_ns() // 1_000_000
        counts.reads += answer.accepted
        counts.duplicates += answer.duplicates
        counts.rejected += answer.rejected
        now = time.monotonic()
        if counts.last_post is None or now - counts.last_post >= QUIET_S:
            counts.connected_ms = now_ms  # posting (again) after a pause: "connected" anew
        counts.last_post = now
        if counts.since_ms is None:
            counts.since_ms = now_ms
        if answer.accepted:
            counts.last_read_ms = now_ms
            counts.recent.append((counts.last_post, answer.accepted))
        return answer
