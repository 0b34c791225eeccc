"""The readers of an event: one session per configured reader, started, stopped and added while
the event runs, and their health in one place (what the API's `/api/readers` will show).

How event.toml names a reader's link (`[[readers]]`, one of):
- `port = "/dev/ttyUSB0"` (optional `baud`): a serial reader; vendor defaults otherwise;
- `host = "10.0.0.5:3601"`: we connect to the reader (the port may be left out: the format's
  usual port, e.g. 3601 for RACE RESULT);
- `host = "listen:3601"` or `"listen:0.0.0.0:3601"`: the reader connects to us;
- `path = "reads/finish.txt"`: a recording, replayed (`replay_speed`: 0 = at once);
- none of them: the reader's reads come through the server's ingest endpoint; it is listed
  (transport "ingest"), and whoever receives those reads keeps their counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from readers.health import ReaderHealth
from readers.session import ReaderSession, SessionSettings, Sink, now_ms
from readers.transports.base import Transport
from readers.transports.replay import FileReplay
from readers.transports.tcp import LISTEN_PREFIX, TcpClient, TcpServer, split_address
from timing.model import Event, ReaderConfig

log = logging.getLogger("gambero.readers")

DEFAULT_TCP_PORTS = {"ipico": 10000, "ultra": 23, "raceresult": 3601, "p3": 5403,
                     "llrp": 5084}


def make_transport(config: ReaderConfig, directory: Path = Path("."),
                   replay_speed: float = 0.0) -> Transport | None:
    """The transport event.toml describes for `config`; None for an ingest-only reader.
    Raises ValueError for an address that cannot be used."""
    if config.path is not None:
        return FileReplay(directory / config.path, config.format, replay_speed)
    if config.port is not None:
        from readers.transports.serial import SerialPort, serial_defaults

        baud, parity = serial_defaults(config.format)
        return SerialPort(config.port, config.baud or baud, parity)
    if config.host is not None:
        if config.host.startswith(LISTEN_PREFIX):
            rest = config.host[len(LISTEN_PREFIX):]
            host, port = split_address(rest if ":" in rest else f"0.0.0.0:{rest}",
                                       any_port=True)
            return TcpServer(host, port)
        return TcpClient(*split_address(config.host, DEFAULT_TCP_PORTS.get(config.format)))
    return None


class ReaderManager:
    def __init__(self, sink: Sink, *, timezone: str = "UTC", directory: Path = Path("."),
                 settings: SessionSettings | None = None, replay_speed: float = 0.0,
                 transport_factory: Callable[[ReaderConfig], Transport | None] | None = None
                 ) -> None:
        self.sink = sink
        self.timezone = timezone
        self.directory = directory
        self.settings = settings or SessionSettings()
        self.replay_speed = replay_speed
        self._transport_factory = transport_factory
        self.sessions: dict[str, ReaderSession] = {}
        self._ingest: dict[str, ReaderHealth] = {}

    @classmethod
    def for_event(cls, event: Event, sink: Sink, *, directory: Path = Path("."),
                  settings: SessionSettings | None = None, replay_speed: float = 0.0,
                  transport_factory: Callable[[ReaderConfig], Transport | None] | None = None
                  ) -> ReaderManager:
        """A manager holding every reader of `event` (not started yet). ValueError if a
        reader's address cannot be used."""
        manager = cls(sink, timezone=event.timezone, directory=directory,
                      settings=settings, replay_speed=replay_speed,
                      transport_factory=transport_factory)
        for config in event.readers:
            manager.add(config)
        return manager

    def add(self, config: ReaderConfig, transport: Transport | None = None) -> ReaderHealth:
        """Add a reader (not started). ValueError if its id is taken or its address is bad."""
        if config.id in self.sessions or config.id in self._ingest:
            raise ValueError(f"reader {config.id!r} already exists")
        if transport is None:
            transport = (self._transport_factory(config) if self._transport_factory
                         else make_transport(config, self.directory, self.replay_speed))
        if transport is None:
            health = ReaderHealth(config.id, config.point, config.format, "ingest",
                                  address="ingest endpoint")
            self._ingest[config.id] = health
            return health
        session = ReaderSession(config, transport, self.sink, timezone=self.timezone,
                                settings=self.settings)
        self.sessions[config.id] = session
        return session.health

    def resume(self, last_sequences: Mapping[str, int]) -> None:
        """Tell each reader where the journal's records of it end (`Store.last_reader_sequences`),
        so that its first connection rewinds what it made while Gambero was not running."""
        for reader_id, last in last_sequences.items():
            session = self.sessions.get(reader_id)
            if session is not None:
                session.dialect.resume(last)

    def start(self, reader_id: str) -> None:
        self._session(reader_id).start()

    async def stop(self, reader_id: str) -> None:
        await self._session(reader_id).stop()

    async def remove(self, reader_id: str) -> None:
        if reader_id in self._ingest:
            del self._ingest[reader_id]
            return
        await self.stop(reader_id)
        del self.sessions[reader_id]

    def start_all(self) -> None:
        for session in self.sessions.values():
            session.start()

    async def stop_all(self) -> None:
        """Stop every session at once (each hands over what it read, up to its flush timeout);
        one that fails is logged and does not keep the others running."""
        await asyncio.gather(*(self._stop_quietly(session)
                               for session in list(self.sessions.values())))

    @staticmethod
    async def _stop_quietly(session: ReaderSession) -> None:
        try:
            await session.stop()
        except Exception:
            log.exception("reader %s: stopping failed", session.config.id)

    def health(self) -> list[ReaderHealth]:
        now = now_ms()
        every = [session.health for session in self.sessions.values()]
        every += self._ingest.values()
        for health in every:
            health.rate(now)
        return sorted(every, key=lambda health: health.id)

    def health_of(self, reader_id: str) -> ReaderHealth:
        if reader_id in self._ingest:
            return self._ingest[reader_id]
        return self._session(reader_id).health

    def _session(self, reader_id: str) -> ReaderSession:
        try:
            return self.sessions[reader_id]
        except KeyError:
            raise KeyError(f"no reader {reader_id!r}") from None


__all__ = ["DEFAULT_TCP_PORTS", "ReaderManager", "make_transport"]
