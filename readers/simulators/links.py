"""Ways to reach a simulated reader: over TCP on the loopback (`SimTcpServer`), through a
pseudo-terminal that pyserial opens like a USB-serial adapter (`SimPty`), or in-process
(`SimTransport`, a transport a session uses directly). Each can drop the link mid-race."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from pathlib import Path

from readers.simulators.base import SimulatedReader
from readers.transports.base import LinkDown, TransportKind


class SimTcpServer:
    """The simulator as a TCP reader on 127.0.0.1 (one client at a time, like a reader)."""

    def __init__(self, simulator: SimulatedReader, host: str = "127.0.0.1", port: int = 0):
        self.simulator = simulator
        self.host, self.port = host, port
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.connections = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:  # the reader serves one client: the newcomer takes over
            self.drop()
        self._writer = writer
        self.connections += 1
        self.simulator.attach(writer.write)
        try:
            while data := await reader.read(4096):
                self.simulator.command(data)
        except OSError:
            pass
        finally:
            if self._writer is writer:
                self.simulator.detach()
                self._writer = None
            writer.close()

    def drop(self) -> None:
        """Cut the current connection (the reader's cable pulled out, or a reboot)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            self.simulator.detach()
            writer.transport.abort()

    async def stop(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class SimPty:
    """The simulator behind a pseudo-terminal, reached through a stable symlink `path` (as
    udev's /dev/serial/by-id/… names an adapter). `unplug()` closes the terminal and removes the
    link; `plug()` makes a new terminal behind the same path."""

    def __init__(self, simulator: SimulatedReader, path: str | Path) -> None:
        self.simulator = simulator
        self.path = Path(path)
        self._master: int | None = None
        self._slave: int | None = None
        self._outbox = bytearray()
        self.plugs = 0

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: a serial line carries bytes as they are
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.path.symlink_to(os.ttyname(slave))
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._readable)
        self.plugs += 1
        self.simulator.attach(self._send)

    def unplug(self) -> None:
        self.simulator.detach()
        master, slave = self._master, self._slave
        self._master = self._slave = None
        self._outbox.clear()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if master is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(master)
            loop.remove_writer(master)
            os.close(master)
        if slave is not None:
            os.close(slave)

    def _send(self, data: bytes) -> None:
        if self._master is None:
            return
        pending = bool(self._outbox)
        self._outbox += data
        if not pending:
            self._flush()

    def _flush(self) -> None:
        master = self._master
        if master is None:
            return
        loop = asyncio.get_running_loop()
        try:
            written = os.write(master, self._outbox) if self._outbox else 0
        except BlockingIOError:
            written = 0
        except OSError:
            return
        del self._outbox[:written]
        if self._outbox:
            loop.add_writer(master, self._flush)
        else:
            loop.remove_writer(master)

    def _readable(self) -> None:
        if self._master is None:
            return
        try:
            data = os.read(self._master, 4096)
        except OSError:  # nobody has the port open (yet): nothing to read
            return
        if data:
            self.simulator.command(data)


class SimTransport:
    """A session's transport straight to a simulator, no socket or terminal in between."""

    kind: TransportKind = "sim"

    def __init__(self, simulator: SimulatedReader) -> None:
        self.simulator = simulator
        self.reachable = True
        """False: connecting fails (the reader is off or its cable out), until set again."""
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue()

    @property
    def address(self) -> str:
        return f"simulated {self.simulator.format} reader"

    async def open(self) -> None:
        if not self.reachable:
            raise LinkDown("simulated reader unreachable")
        self._inbox = asyncio.Queue()
        inbox = self._inbox
        self.simulator.attach(inbox.put_nowait)

    def drop(self) -> None:
        """The link fails: the session sees the connection end."""
        self.simulator.detach()
        self._inbox.put_nowait(None)

    async def read(self) -> bytes:
        data = await self._inbox.get()
        if data is None:
            raise LinkDown("simulated link dropped")
        chunks = [data]
        while not self._inbox.empty():
            more = self._inbox.get_nowait()
            if more is None:
                self._inbox.put_nowait(None)
                break
            chunks.append(more)
        return b"".join(chunks)

    async def write(self, data: bytes) -> None:
        if not self.simulator.attached:
            raise LinkDown("simulated link dropped")
        self.simulator.command(data)

    async def close(self) -> None:
        self.simulator.detach()


__all__ = ["SimPty", "SimTcpServer", "SimTransport"]
