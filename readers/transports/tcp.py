"""TCP transports: a client for readers we connect to (`host = "address:port"`), and a server
for readers that connect to us (`host = "listen:port"` or `"listen:address:port"`).

Keepalive is switched on so that a cable pulled out of a reader's network port is noticed by
the operating system even when the reader is silent (Linux: after about two minutes with the
defaults set here, rather than never).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from readers.transports.base import READ_SIZE, LinkDown, TransportKind

CONNECT_TIMEOUT_S = 5.0
LISTEN_PREFIX = "listen:"


def split_address(text: str, default_port: int | None = None,
                  any_port: bool = False) -> tuple[str, int]:
    """`"10.0.0.5:3601"` -> ("10.0.0.5", 3601); `"[::1]:23"` for IPv6. ValueError if bad.
    `any_port`: port 0 is allowed (to listen on a port the system picks)."""
    host, colon, port_text = text.strip().rpartition(":")
    if not colon:
        if default_port is None:
            raise ValueError(f"{text!r} has no port (address:port)")
        host, port_text = text.strip(), str(default_port)
    host = host.strip("[]")
    lowest = 0 if any_port else 1
    if not host or not port_text.isdigit() or not lowest <= int(port_text) < 65536:
        raise ValueError(f"{text!r} is not address:port")
    return host, int(port_text)


def _keepalive(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 6)


class _Stream:
    """Reading and writing one connected stream, errors mapped to LinkDown."""

    def __init__(self) -> None:
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def _attach(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _keepalive(writer)
        self._reader, self._writer = reader, writer

    async def read(self) -> bytes:
        if self._reader is None:
            raise LinkDown("not connected")
        try:
            data = await self._reader.read(READ_SIZE)
        except OSError as error:
            raise LinkDown(f"connection failed: {error.strerror or error}") from error
        if not data:
            raise LinkDown("the reader closed the connection")
        return data

    async def write(self, data: bytes) -> None:
        if self._writer is None:
            raise LinkDown("not connected")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as error:
            raise LinkDown(f"cannot send: {error.strerror or error}") from error

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is None:
            return
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


class TcpClient(_Stream):
    """We connect to the reader at host:port."""

    kind: TransportKind = "tcp"

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def open(self) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), CONNECT_TIMEOUT_S)
        except TimeoutError as error:
            raise LinkDown(f"no answer from {self.address} in {CONNECT_TIMEOUT_S:g} s") \
                from error
        except OSError as error:
            raise LinkDown(f"cannot connect to {self.address}: "
                           f"{error.strerror or error}") from error
        self._attach(reader, writer)


class TcpServer(_Stream):
    """The reader connects to us: we listen on address:port and take one reader connection at
    a time (a new connection from the reader replaces a stale one)."""

    kind: TransportKind = "tcp"

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port
        self._server: asyncio.Server | None = None
        self._arrivals: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = \
            asyncio.Queue()
        self._knock = asyncio.Event()
        """Set while a newer connection from the reader waits in `_arrivals`."""

    @property
    def address(self) -> str:
        return f"listening on {self.host}:{self.port}"

    async def _listen(self) -> None:
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(self._arrived, self.host, self.port)
        except OSError as error:
            raise LinkDown(f"cannot listen on {self.host}:{self.port}: "
                           f"{error.strerror or error}") from error
        if self.port == 0:  # an ephemeral port (tests): say which one we got
            self.port = self._server.sockets[0].getsockname()[1]

    async def _arrived(self, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        await self._arrivals.put((reader, writer))
        self._knock.set()

    async def open(self) -> None:
        """Wait for the reader to connect."""
        await self._listen()
        self._attach(*await self._arrivals.get())
        if self._arrivals.empty():
            self._knock.clear()

    async def read(self) -> bytes:
        """The next bytes of the current connection, or LinkDown as soon as the reader opens a
        new one (also while the old one stays open and silent)."""
        if self._knock.is_set():
            raise LinkDown("the reader opened a new connection")
        reading = asyncio.ensure_future(super().read())
        knocked = asyncio.ensure_future(self._knock.wait())
        try:
            await asyncio.wait((reading, knocked), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reading, knocked):
                if not task.done():
                    task.cancel()
            await asyncio.gather(reading, knocked, return_exceptions=True)
        if reading.done() and not reading.cancelled():
            return reading.result()  # data that came first is not thrown away
        raise LinkDown("the reader opened a new connection")

    async def shutdown(self) -> None:
        """Stop listening too (close() keeps listening for the reader's next connection)."""
        await self.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        while not self._arrivals.empty():
            _reader, writer = self._arrivals.get_nowait()
            writer.close()
        self._knock.clear()


__all__ = ["LISTEN_PREFIX", "TcpClient", "TcpServer", "split_address"]
