"""Several processes: the core's frames through Redis pub/sub to web-only processes.

The process that runs the core publishes every frame (and the readers' health) on one channel
per event. A web-only process (`gambero serve --web-only`) has no core: it loads a snapshot
of the rows from the database (the journal replayed), then keeps it current from the frames and
fans them out to its own websocket clients. Redis pub/sub may drop messages (a slow subscriber,
a reconnect): every frame says which sequence numbers it covers, and a web process that sees a
gap reloads the snapshot from the database and sends each of its clients a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from api.broadcast import Broadcaster
from api.live import Frame, apply_frame
from api.readers import ReaderError, ReaderHealth
from api.view import LiveState, RowMaker
from timing.entries import apply_all
from timing.model import ReaderConfig
from timing.reads import Record
from timing.standings import Standings
from timing.store import Store

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from api.runtime import Options, Runtime
    from timing.core import Submitted

log = logging.getLogger("gambero.fanout")
QUEUE = 1000
"""Messages waiting to be published; beyond that they are dropped (followers see the gap)."""


def channel(prefix: str, event_id: int) -> str:
    return f"{prefix}:event:{event_id}:live"


def shown_redis_url(url: str) -> str:
    """`url` with any password replaced by *** (the message goes to the terminal and logs)."""
    return re.sub(r"^(\w+://[^:@/]*):[^@/]*@", r"\1:***@", url)


class RedisUnreachable(ConnectionError):
    """Redis could not be reached when the process started."""


async def connect(url: str) -> Redis:
    from redis.asyncio import Redis

    client: Redis = Redis.from_url(url)
    try:
        await client.ping()
    except Exception as error:
        await client.aclose()
        raise RedisUnreachable(f"Redis at {shown_redis_url(url)} is not reachable: {error}"
                               ) from error
    return client


async def start_publisher(runtime: Runtime) -> None:
    """Publish the runtime's frames and health on its event's channel."""
    assert runtime.options.redis_url is not None
    client = await connect(runtime.options.redis_url)
    name = channel(runtime.options.redis_prefix, runtime.event_id)
    queue: asyncio.Queue[str] = asyncio.Queue(QUEUE)

    def offer(message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(json.dumps(message, separators=(",", ":"), ensure_ascii=False))

    runtime.frame_sinks.append(lambda frame: offer({"kind": "frame", **frame.as_json()}))
    runtime.health_hooks.append(lambda health: offer({"kind": "health", **health}))

    async def publish_forever() -> None:
        while True:
            text = await queue.get()
            try:
                await client.publish(name, text)
            except Exception:  # Redis away: frames are lost, followers will see the gap
                log.exception("could not publish to Redis")

    runtime.tasks.append(asyncio.create_task(publish_forever(), name="gambero-redis-publish"))
    runtime.closers.append(client.aclose)


async def load_snapshot(store: Store, event_id: int, state: LiveState) -> None:
    """Rows of every race as the journal gives them now (a web-only process's snapshot)."""
    loaded = await store.load(event_id)
    standings = Standings(loaded.event, loaded.athletes, loaded.adjustments)
    seq = 0
    async for batch in store.replay(event_id):
        apply_all(standings, batch, settle=False)
        seq = batch[-1].seq
    standings.settle()
    maker = RowMaker(standings)
    state.clear()
    for race in loaded.event.races:
        current = standings.race(race.id)
        state.set_guns(race.id, current.gun_ms, [(w.id, w.gun_ms) for w in current.waves])
        state.replace_race(race.id, maker.race_rows(race.id))
    state.advance(seq)


class RemoteReaders:
    """A web-only process's readers: the health the core's process last published."""

    def __init__(self, configs: tuple[ReaderConfig, ...]) -> None:
        self.ids = [config.id for config in configs]
        self.latest: dict[str, ReaderHealth] = {}

    def health(self) -> list[ReaderHealth]:
        """As last published (readers added live included)."""
        return sorted(self.latest.values(), key=lambda health: health.id)

    def reader(self, reader_id: str) -> ReaderHealth:
        if reader_id not in self.ids and reader_id not in self.latest:
            raise ReaderError(f"no reader {reader_id!r} in this event", 404)
        if reader_id not in self.latest:
            raise ReaderError("no reader health received from the core's process yet", 503)
        return self.latest[reader_id]

    async def add(self, config: ReaderConfig, actor: str = "") -> ReaderHealth:
        raise _web_only()

    async def start(self, reader_id: str) -> ReaderHealth:
        raise _web_only()

    async def stop(self, reader_id: str) -> ReaderHealth:
        raise _web_only()

    async def submit(self, reader_id: str, records: Sequence[Record], actor: str = ""
                     ) -> Submitted:
        raise _web_only()


def _web_only() -> ReaderError:
    return ReaderError("this is a web-only process (gambero serve --web-only): readers and "
                       "changes go to the process that runs the core", 503)


class Follower:
    """Keeps a web-only process's rows current from the core's frames."""

    def __init__(self, runtime: Runtime, readers: RemoteReaders) -> None:
        self.runtime = runtime
        self.readers = readers
        self.reloads = 0

    async def handle(self, message: dict[str, Any]) -> None:
        runtime = self.runtime
        if message.get("kind") == "health":
            for item in message.get("readers", []):
                self.readers.latest[item["id"]] = ReaderHealth(**item)
            runtime.broadcaster.publish_health({"seq": message.get("seq", 0),
                                                "readers": message.get("readers", [])})
            return
        frame = Frame.from_json(message)
        state = runtime.state
        if frame.seq <= state.seq:
            return
        if frame.first_seq > state.seq + 1:  # frames were lost: start again from the journal
            log.warning("gap in the live frames (%d after %d): reloading", frame.first_seq,
                        state.seq)
            await load_snapshot(runtime.store, runtime.event_id, state)
            self.reloads += 1
            runtime.broadcaster.resync_all()
            if frame.seq <= state.seq or frame.first_seq > state.seq + 1:
                return
        apply_frame(state, frame)
        runtime.broadcaster.publish(frame)


async def start_web_only(cls: type[Runtime], store: Store, event_id: int,
                         options: Options) -> Runtime:
    if not options.redis_url:
        raise ValueError("a web-only process needs REDIS_URL")
    client = await connect(options.redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel(options.redis_prefix, event_id))
    loaded = await store.load(event_id)
    state = LiveState(loaded.event)
    await load_snapshot(store, event_id, state)  # after subscribing: no frame falls between
    readers = RemoteReaders(loaded.event.readers)
    runtime = cls(store, event_id, loaded.event, state,
                  Broadcaster(state, outbox=options.outbox, history=options.history),
                  state, readers, options)
    follower = Follower(runtime, readers)
    runtime.follower = follower

    async def follow_forever() -> None:
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                await follower.handle(json.loads(message["data"]))
            except Exception:
                log.exception("bad live message from Redis")

    async def close() -> None:
        await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed in newer redis
        await client.aclose()

    runtime.tasks.append(asyncio.create_task(follow_forever(), name="gambero-redis-follow"))
    runtime.closers.append(close)
    runtime.start_fan_out()
    return runtime
