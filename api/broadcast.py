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
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from api.live import Frame, RaceFilter, guns_json
from api.rows import Row
from api.subscribers import Client, DirectClient, Message, Subscriber, encode
from api.view import LiveState

log = logging.getLogger("gambero.live")


class Broadcaster:
    def __init__(self, state: LiveState, *, outbox: int = 64, history: int = 1024,
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
        return Message(encode(self._delta(races, seq, since + 1, rows.values(), reload)))

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
            message = self._snapshots[key] = Message(encode({
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
        seq, size, connected = self.published_seq, self.outbox_size, self.clients
        encoded: dict[tuple[RaceFilter, int], tuple[Message, int]] = {}
        for client in clients:
            if client.dropped or client.seq >= seq or client not in connected:
                continue  # up to date, or gone since the pass began
            key = (client.races, client.seq)
            found = encoded.get(key)
            if found is None:
                found = encoded[key] = self._first(client.races, client.seq)
                self.encodes += 1
            message, client.seq = found
            try:  # `_offer_safely`, inlined: this runs once per client per pass
                if not client.take(message, size):
                    self._fell_behind(client)
            except Exception:
                self._failed(client)

    def _offer_safely(self, client: Subscriber, message: Message) -> None:
        try:
            self.offer(client, message)
        except Exception:
            self._failed(client)

    def _failed(self, client: Subscriber) -> None:
        """A broken connection: drop it, never the frame for the others."""
        log.exception("a live client failed; it is disconnected")
        client.dropped = True
        self.clients.pop(client, None)

    def publish_health(self, health: dict[str, Any]) -> None:
        message = Message(encode({"type": "health", **health}))
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
        if not (client.dropped or client.take(message, self.outbox_size)):
            self._fell_behind(client)

    def _fell_behind(self, client: Subscriber) -> None:
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
