"""Shared by the live reader tests: a sink that de-duplicates as the core does, a small event,
and waiting with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from readers.transports.base import LinkDown, TransportKind
from timing.entries import dedup_key
from timing.model import Athlete, Event, Point, Race, ReaderConfig
from timing.reads import Read, Record, Rejected

EVENT_DATE = date(2026, 5, 10)


@dataclass(frozen=True)
class Answer:
    accepted: int
    duplicates: int
    rejected: int


@dataclass
class DedupSink:
    """Stores reads once per (reader, chip, reader time), like TimingCore.submit; `delay_s`
    makes every submission slow (a slow journal)."""

    reads: dict[tuple[str, str], Read] = field(default_factory=dict)
    rejected: list[tuple[str, Rejected]] = field(default_factory=list)
    duplicates: int = 0
    calls: int = 0
    delay_s: float = 0.0

    async def __call__(self, reader_id: str, records: Sequence[Record],
                      received_ms: int) -> Answer:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        accepted = duplicates = rejected = 0
        for record in records:
            if isinstance(record, Rejected):
                self.rejected.append((reader_id, record))
                rejected += 1
                continue
            key = dedup_key(reader_id, record)
            if key in self.reads:
                duplicates += 1
            else:
                self.reads[key] = record
                accepted += 1
        self.duplicates += duplicates
        return Answer(accepted, duplicates, rejected)

    def keys(self, reader_id: str) -> set[tuple[str, str]]:
        return {key for key in self.reads if key[0] == reader_id}


class BlockedSink(DedupSink):
    """A journal that does not answer until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def __call__(self, reader_id: str, records: Sequence[Record],
                       received_ms: int) -> Answer:
        await self.release.wait()
        return await super().__call__(reader_id, records, received_ms)


def small_event(readers: tuple[ReaderConfig, ...] = (), count: int = 12
                ) -> tuple[Event, list[Athlete]]:
    """A 1 km race, gun at 09:00 Rome time, `count` athletes with one IPICO-style chip each."""
    gun_ms = int(datetime(2026, 5, 10, 9, 0, tzinfo=ZoneInfo("Europe/Rome")).timestamp() * 1000)
    race = Race("1k", "One K", 1000.0, gun_ms, points=("start", "finish"),
                start_point="start", finish_point="finish", min_lap_ms=30_000)
    event = Event("Live test", EVENT_DATE, "Europe/Rome", (race,),
                  (Point("start", "start", 0.0), Point("finish", "finish", 1000.0)), readers)
    athletes = [Athlete(str(n), f"First{n}", f"Last{n}", "FM"[n % 2], "1k",
                        chips=(f"0580001200{n:02x}",)) for n in range(1, count + 1)]
    return event, athletes


async def eventually(condition: Callable[[], bool], timeout_s: float = 15.0,
                     what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)


async def bounded(awaitable: Awaitable[object], timeout_s: float = 20.0) -> None:
    await asyncio.wait_for(awaitable, timeout_s)


class ScriptedTransport:
    """A link whose reader the test plays: `feed()` bytes to the session, `drop()` the link;
    what the session sent is in `sent`, each connection counted in `opens`."""

    kind: TransportKind = "sim"
    address = "scripted"

    def __init__(self) -> None:
        self.opens = 0
        self.sent: list[bytes] = []
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def open(self) -> None:
        self.opens += 1

    def feed(self, data: bytes) -> None:
        self._inbox.put_nowait(data)

    def drop(self) -> None:
        self._inbox.put_nowait(None)

    @property
    def unread(self) -> int:
        return self._inbox.qsize()

    async def read(self) -> bytes:
        data = await self._inbox.get()
        if data is None:
            raise LinkDown("scripted link dropped")
        return data

    async def write(self, data: bytes) -> None:
        self.sent.append(data)

    async def close(self) -> None:
        return None
