"""The live feed's clients: the messages they are sent (encoded, framed and compressed once
for all of them), a websocket served through ASGI with an outbox (`Client`) and a detached
websocket written to at once (`DirectClient`). `api.broadcast.Broadcaster` decides what each
gets and when.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any, Protocol

from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame as WireFrame
from websockets.frames import Opcode

from api.live import RaceFilter


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


PING_MAX_CHARS = 64


class Message:
    """One encoded message, shared by every client it goes to: its text, and (each made on
    first use) the websocket frame carrying it, plain or compressed, so that every detached
    connection is written the same bytes."""

    __slots__ = ("_deflated", "_wire", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._wire: bytes | None = None
        self._deflated: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            # A server's frames are not masked (RFC 6455, 5.1): the same bytes suit everyone.
            self._wire = WireFrame(Opcode.TEXT, self.text.encode()).serialize(mask=False)
        return self._wire

    @property
    def deflated(self) -> bytes:
        """The frame compressed with permessage-deflate (RFC 7692) as a message of its own
        (no context kept from one message to the next), which any connection that
        negotiated `server_no_context_takeover` and a window of `DEFLATE_BITS` can take.
        Short messages go uncompressed (always allowed)."""
        if self._deflated is None:
            payload = self.text.encode()
            if len(payload) < DEFLATE_FROM:
                self._deflated = self.wire
            else:
                self._deflated = WireFrame(Opcode.TEXT, payload).serialize(
                    mask=False, extensions=[_ONE_MESSAGE_DEFLATE])
        return self._deflated


DEFLATE_BITS = 15
"""The window messages are compressed with: a connection that negotiated a smaller one (the
client asked for it) is sent them uncompressed."""
DEFLATE_FROM = 256
"""Bytes of JSON under which compressing is not worth it."""
_ONE_MESSAGE_DEFLATE = PerMessageDeflate(remote_no_context_takeover=True,
                                         local_no_context_takeover=True,
                                         remote_max_window_bits=DEFLATE_BITS,
                                         local_max_window_bits=DEFLATE_BITS)
"""Compresses each message on its own (a new compressor each time): shared by all."""
PONG = Message('{"type":"pong"}')
TOO_SLOW = 1013, "too slow: reconnect with since="


class Client:
    """One websocket's outbox (a plain ASGI endpoint's). The sender task takes from it; None
    means: close, too slow."""

    def __init__(self, races: RaceFilter, health: bool, size: int) -> None:
        self.races = races
        self.health = health
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue(size)
        self.resyncs = 0
        self.dropped = False
        self.seq = 0
        """The journal sequence number of the last message given to it."""

    def take(self, message: Message, size: int) -> bool:
        """Queue a message; False if the outbox is full."""
        try:
            self.outbox.put_nowait(message.text)
        except asyncio.QueueFull:
            return False
        return True

    def clear(self) -> None:
        while not self.outbox.empty():
            self.outbox.get_nowait()

    def close_too_slow(self) -> None:
        self.outbox.put_nowait(None)


class LiveConnection(Protocol):
    """A websocket the feed writes to directly (`api.ws_server.LiveWebSocket`)."""

    deflate: bool
    """It takes `Message.deflated` frames."""

    @property
    def writing_paused(self) -> bool: ...

    def write(self, data: bytes) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


class Feed(Protocol):
    """What a detached client asks of the feed (`api.broadcast.Broadcaster`)."""

    def offer(self, client: DirectClient, message: Message) -> None: ...

    def disconnect(self, client: DirectClient) -> None: ...


class DirectClient:
    """A detached websocket: each message is written to its connection at once, already
    framed (no task, no queue). Only while the connection's buffer is full (the client not
    keeping up) do messages wait, in a backlog as bounded as an outbox, sent on when the
    buffer drains."""

    __slots__ = (
        "backlog",
        "broadcaster",
        "connection",
        "dropped",
        "health",
        "races",
        "resyncs",
        "seq",
    )

    def __init__(self, broadcaster: Feed, races: RaceFilter, health: bool) -> None:
        self.broadcaster = broadcaster
        self.races = races
        self.health = health
        self.resyncs = 0
        self.dropped = False
        self.connection: LiveConnection | None = None
        self.backlog: deque[Message] | None = None
        self.seq = 0
        """The journal sequence number of the last message given to it."""

    def take(self, message: Message, size: int) -> bool:
        """Write a message, or keep it while the connection is full; False if the backlog
        already holds `size`."""
        connection = self.connection
        assert connection is not None
        if self.backlog is None:
            if not connection.writing_paused:
                connection.write(message.deflated if connection.deflate else message.wire)
                self.resyncs = 0  # caught up: only falling behind again and again drops it
                return True
            self.backlog = deque()
        if len(self.backlog) >= size:
            return False
        self.backlog.append(message)
        return True

    def clear(self) -> None:
        self.backlog = None

    def close_too_slow(self) -> None:
        self.backlog = None
        if self.connection is not None:
            self.connection.close(*TOO_SLOW)

    # -- called back by the connection ---------------------------------------------------------

    def writable(self) -> None:
        connection, backlog = self.connection, self.backlog
        if connection is None or backlog is None:
            return
        while backlog and not connection.writing_paused:
            message = backlog.popleft()
            connection.write(message.deflated if connection.deflate else message.wire)
        if not backlog:
            self.backlog = None
            self.resyncs = 0

    def received(self, text: str) -> None:
        if is_ping(text):
            self.broadcaster.offer(self, PONG)

    def lost(self) -> None:
        self.backlog = None
        self.broadcaster.disconnect(self)


def is_ping(text: str) -> bool:
    """Whether a client's message is `{"type": "ping"}`. Anything longer is ignored unparsed:
    clients have nothing else to say, and a deeply nested or huge text must cost nothing."""
    if len(text) > PING_MAX_CHARS:
        return False
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(message, dict) and message.get("type") == "ping"


Subscriber = Client | DirectClient
