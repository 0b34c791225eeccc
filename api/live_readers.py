"""The readers a server runs itself: a live session for each reader event.toml gives a link to
(`port`, `host`, `path`), and ingest-only readers for the rest.

The sessions are `readers.manager.ReaderManager`'s (connect, reconnect with backoff, rewind,
clock watch, health); ingest-only readers keep `IngestReaders`' bookkeeping. Both answer to the
routes through the `api.readers.ReaderManager` interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from api.readers import (
    IngestReaders,
    ReaderError,
    ReaderHealth,
    journal_reader,
    transport_of,
)
from readers.health import ReaderHealth as SessionHealth
from readers.manager import ReaderManager as SessionManager
from readers.session import SessionSettings, now_ms
from timing.core import Submitted, TimingCore
from timing.model import ReaderConfig
from timing.reads import Record
from timing.store import Store


def _shown(health: SessionHealth) -> ReaderHealth:
    return ReaderHealth(**health.as_api(), running=health.running)


class LiveReaders:
    def __init__(self, core: TimingCore, sessions: SessionManager, ingest: IngestReaders) -> None:
        self.core = core
        self.sessions = sessions
        self.ingest = ingest
        self._adding = asyncio.Lock()

    @classmethod
    async def open(cls, core: TimingCore, store: Store, event_id: int, *,
                   directory: Path, settings: SessionSettings | None = None,
                   replay_speed: float = 0.0) -> LiveReaders:
        """Every reader of the event: sessions started for those with a link (resuming where
        the journal's records of each end), the others ingest-only. ValueError when a
        reader's address cannot be used."""
        sessions = SessionManager(core.submit, timezone=core.event.timezone,
                                  directory=directory,
                                  settings=settings, replay_speed=replay_speed)
        ingest = IngestReaders(core)
        for config in core.event.readers:
            if transport_of(config) != "ingest":
                sessions.add(config)
                del ingest.configs[config.id], ingest.counts[config.id]
        await ingest.load_counts(store, event_id)
        counts = await store.reader_counts(event_id)
        for reader_id, session in sessions.sessions.items():
            if reader_id in counts:  # what the journal already holds, from before this start
                session.health.reads, session.health.rejected, session.health.last_read_ms = (
                    counts[reader_id])
        sessions.resume(await store.last_reader_sequences(event_id))
        sessions.start_all()
        return cls(core, sessions, ingest)

    def health(self) -> list[ReaderHealth]:
        every = [_shown(health) for health in self.sessions.health() if health.id
                 in self.sessions.sessions]
        every += self.ingest.health()
        return sorted(every, key=lambda health: health.id)

    def reader(self, reader_id: str) -> ReaderHealth:
        if reader_id in self.sessions.sessions:
            return _shown(self.sessions.health_of(reader_id))
        return self.ingest.reader(reader_id)

    async def add(self, config: ReaderConfig, actor: str = "") -> ReaderHealth:
        async with self._adding:  # two requests adding the same id: one wins, one gets 409
            if self.core.standings.has_reader(config.id):
                raise ReaderError(f"reader {config.id!r} already exists")
            if transport_of(config) == "ingest":
                await journal_reader(self.core, config, actor)
                return self.ingest.add_ingest(config)
            if config.path is not None and not _inside(self.sessions.directory, config.path):
                raise ReaderError("a recording added while the event runs must be a file in "
                                  "the event's folder (a relative path without '..')", 422)
            try:  # a session that cannot be made (bad address, LLRP without sllurp) is
                self.sessions.add(config)  # refused before anything is journaled
            except ValueError as error:
                raise ReaderError(str(error), 422) from None
            try:
                await journal_reader(self.core, config, actor)
            except BaseException:
                await self.sessions.remove(config.id)
                raise
            self.sessions.start(config.id)
            return self.reader(config.id)

    async def start(self, reader_id: str) -> ReaderHealth:
        if reader_id in self.sessions.sessions:
            self.sessions.start(reader_id)
            return self.reader(reader_id)
        return await self.ingest.start(reader_id)

    async def stop(self, reader_id: str) -> ReaderHealth:
        if reader_id in self.sessions.sessions:
            await self.sessions.stop(reader_id)
            return self.reader(reader_id)
        return await self.ingest.stop(reader_id)

    async def submit(self, reader_id: str, records: Sequence[Record], actor: str = ""
                     ) -> Submitted:
        """Reads posted through the API. For a reader with a live session too (a forwarder
        catching up what the link missed), they count in that session's health."""
        if reader_id not in self.sessions.sessions:
            return await self.ingest.submit(reader_id, records, actor)
        if not self.sessions.health_of(reader_id).running:
            raise ReaderError(f"reader {reader_id} is stopped: start it to take its reads")
        answer = await self.core.submit(reader_id, records, actor=actor)
        self.sessions.health_of(reader_id).stored(answer.accepted, answer.duplicates,
                                                  answer.rejected, now_ms())
        return answer

    async def close(self) -> None:
        """Stop every session; each hands what it has read to the journal first."""
        await self.sessions.stop_all()


def _inside(directory: Path, path: str) -> bool:
    """Whether `path` (as event.toml would give it) names a file inside `directory`."""
    candidate = Path(path)
    if candidate.is_absolute():
        return False
    base = directory.resolve()
    return (base / candidate).resolve().is_relative_to(base)
