"""The live feed's fan-out: `Broadcaster` keeps the websocket clients and brings each of them
up to the last frame published, with one message per client per pass, encoded once for all
the clients that need the same one (same race filter, same frame last sent), and never
awaited per client.

Under `gambero serve` a pass (`Broadcaster.run`) writes to the clients a chunk at a time and
lets the event loop turn between chunks: with 10,000 clients a pass takes over 0.1 s (each
write is a system call), and requests and reads coming in must not wait behind it. A chunk
takes the last frame published when its turn comes, so a frame published during a pass
reaches the later chunks in that pass and the earlier ones in the next: a client's latency
is at most about one pass, not a whole pass of waiting plus a whole pass of sending.

A client served through ASGI (`Client`) has a bounded outbox that its sender task empties; a
detached websocket (`DirectClient`, under `gambero serve`: `api.ws_server`) is written to at
once, and only while its socket's buffer is full do frames wait, in a backlog as bounded as
an outbox. Either way a client with no room left is sent a fresh snapshot instead of what it
missed (resynced), and dropped if that keeps happening. A client that reconnects with
`since=SEQ` is sent what it missed from the recent frames, or a snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame as WireFrame
from websockets.frames import Opcode

from api.live import Frame, RaceFilter, guns_json
from api.rows import Row
from api.view import LiveState


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


log = logging.getLogger("gambero.live")
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

    def __init__(self, broadcaster: Broadcaster, races: RaceFilter, health: bool) -> None:
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


class Broadcaster:
    def __init__(self, state: LiveState, *, outbox: int = 64, history: int = 256,
                 max_resyncs: int = 3) -> None:
        self.state = state
        self.outbox_size = outbox
        self.max_resyncs = max_resyncs
        self.clients: dict[Subscriber, None] = {}
        """In the order they came (a dict as an ordered set): a pass goes through them so."""
        self.history: deque[Frame] = deque(maxlen=history)
        self._snapshots: dict[tuple[int, RaceFilter], Message] = {}
        self.encodes = 0
        self.resyncs = 0
        self.drops = 0
        self.last_frame_at = 0.0
        self.published_seq = state.seq
        """The last frame's seq. The state may be ahead of it: rows worked out early for a
        request, whose frame waits for its tick."""
        self.passes = 0
        self._wake: asyncio.Event | None = None
        """Set by `publish` while `run` sends the frames; None: `publish` sends at once."""

    # -- clients ---------------------------------------------------------------------------

    def connect(self, races: RaceFilter, since: int | None, health: bool = False) -> Client:
        """A client with an outbox, for a websocket served through ASGI (a sender task)."""
        client = Client(races, health, self.outbox_size)
        message, client.seq = self._first(races, since)
        client.take(message, self.outbox_size)
        self.clients[client] = None
        return client

    def attach(self, client: DirectClient, since: int | None) -> None:
        """A detached websocket (its connection set): its first message is written now."""
        message, client.seq = self._first(client.races, since)
        client.take(message, self.outbox_size)
        self.clients[client] = None

    def disconnect(self, client: Subscriber) -> None:
        self.clients.pop(client, None)

    def _first(self, races: RaceFilter, since: int | None) -> tuple[Message, int]:
        """What a client at `since` (None: a new one) is sent next, and the seq it brings it
        to: what it missed from the recent frames, else a snapshot."""
        first = self._resume(races, since) if since is not None else None
        if first is not None:
            return first, self.published_seq
        return self.snapshot(races), self.state.seq

    def _resume(self, races: RaceFilter, since: int) -> Message | None:
        """One delta with what a client at `since` missed, if the recent frames hold it (up
        to the last frame published: the next frame goes on from there)."""
        seq = self.published_seq
        if since > seq or since < 0:
            return None
        missed = [frame for frame in self.history if frame.seq > since]
        if since < seq and (not missed or missed[0].first_seq > since + 1):
            return None
        rows: dict[str, Row] = {}
        reload: list[str] = []
        for frame in missed:
            for row in frame.rows:
                rows[row["bib"]] = row
            reload.extend(race for race in frame.reload if race not in reload)
        for race in reload:  # reloaded races are fetched whole: their rows are not needed
            rows = {bib: row for bib, row in rows.items() if row["race"] != race}
        return Message(_encode(self._delta(races, seq, since + 1, rows.values(), reload)))

    @staticmethod
    def _delta(races: RaceFilter, seq: int, first_seq: int, rows: Iterable[Row],
               reload: list[str]) -> dict[str, Any]:
        return {"type": "delta", "seq": seq, "first_seq": first_seq,
                "rows": [row for row in rows if races is None or row["race"] in races],
                "reload": [race for race in reload if races is None or race in races]}

    def snapshot(self, races: RaceFilter) -> Message:
        """The snapshot message for a race filter, encoded once per sequence number."""
        key = (self.state.seq, races)
        message = self._snapshots.get(key)
        if message is None:
            if len(self._snapshots) > 32:
                self._snapshots.clear()
            chosen = [race for race in self.state.races() if races is None or race.id in races]
            message = self._snapshots[key] = Message(_encode({
                "type": "snapshot", "seq": self.state.seq,
                "races": {race.id: {**guns_json(self.state, race.id),
                                    "rows": self.state.rows(race.id)} for race in chosen}}))
            self.encodes += 1
        return message

    # -- fan-out -------------------------------------------------------------------------------

    def publish(self, frame: Frame) -> None:
        """A new frame: sent to every client now, or (while `run` runs) by its next pass."""
        # Resumes use only seq, first_seq, rows and reload: whole reloaded races stay out.
        self.history.append(Frame(frame.seq, frame.first_seq, frame.rows, frame.reload)
                            if frame.race_rows or frame.guns else frame)
        self.published_seq = frame.seq
        self.last_frame_at = time.monotonic()
        if self._wake is None:
            self.send(list(self.clients))
        else:
            self._wake.set()

    async def run(self, chunk: int = 64, interval: float = 0.0,
                  refresh: Callable[[], None] | None = None) -> None:
        """Send the frames as they are published, in passes over every client, `chunk`
        clients between two turns of the event loop (64 writes take under 1 ms here). A pass
        starts when a frame is published, at least `interval` after the last one started, so
        a client gets at most one message per `interval`; a pass that takes longer is
        followed at once by the next. Between chunks `refresh` may publish a newer frame
        (`api.live.FrameSource.refresh`): the rest of the pass takes it."""
        wake = self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        last_start = float("-inf")
        try:
            while True:
                await wake.wait()
                wait = last_start + interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                wake.clear()
                last_start = loop.time()
                clients = list(self.clients)
                for start in range(0, len(clients), chunk):
                    if start:
                        await asyncio.sleep(0)
                        if refresh is not None:
                            refresh()
                    self.send(clients[start:start + chunk])
                self.passes += 1
        finally:
            self._wake = None

    def send(self, clients: Iterable[Subscriber]) -> None:
        """Bring each of these clients up to the last frame published: one delta with every
        frame it has not had (a snapshot if the recent frames no longer hold them), encoded
        once for all the clients that need the same one."""
        seq = self.published_seq
        encoded: dict[tuple[RaceFilter, int], tuple[Message, int]] = {}
        for client in clients:
            if client.dropped or client.seq >= seq:
                continue
            key = (client.races, client.seq)
            found = encoded.get(key)
            if found is None:
                found = encoded[key] = self._first(client.races, client.seq)
                self.encodes += 1
            message, client.seq = found
            self._offer_safely(client, message)

    def _offer_safely(self, client: Subscriber, message: Message) -> None:
        try:
            self.offer(client, message)
        except Exception:  # a broken connection: drop it, never the frame for the others
            log.exception("a live client failed; it is disconnected")
            client.dropped = True
            self.clients.pop(client, None)

    def publish_health(self, health: dict[str, Any]) -> None:
        message = Message(_encode({"type": "health", **health}))
        for client in list(self.clients):
            if client.health:
                self._offer_safely(client, message)

    def resync_all(self) -> None:
        """Every client gets a fresh snapshot (after a gap in the frames received)."""
        self.history.clear()
        self._snapshots.clear()
        self.published_seq = self.state.seq
        for client in list(self.clients):
            client.clear()
            client.seq = self.state.seq
            client.take(self.snapshot(client.races), self.outbox_size)

    def offer(self, client: Subscriber, message: Message) -> None:
        """Send or queue a message; a client with no room left for it is resynced (sent a
        snapshot instead of what it missed), and dropped if that keeps happening."""
        if client.dropped or client.take(message, self.outbox_size):
            return
        client.clear()
        client.resyncs += 1
        if client.resyncs > self.max_resyncs:
            client.dropped = True
            self.drops += 1
            self.clients.pop(client, None)
            client.close_too_slow()
            return
        self.resyncs += 1
        client.seq = self.state.seq
        client.take(self.snapshot(client.races), self.outbox_size)
