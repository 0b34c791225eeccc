"""Everything a running server holds: the store, the core (or, web-only, a copy of its rows), the
live feed, the readers and the tokens. One `Runtime` per process, kept on `app.state`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.broadcast import Broadcaster
from api.file_problems import FileProblems
from api.live import Frame, FrameSource
from api.live_readers import LiveReaders
from api.readers import IngestReaders, ReaderManager
from api.view import LiveState, ResultsView
from readers.session import SessionSettings
from timing.core import TimingCore
from timing.model import Event
from timing.replay import tune_gc
from timing.store import Store

log = logging.getLogger("gambero.server")


@dataclass
class Options:
    frame_interval: float = 0.1
    """Seconds between the messages a websocket client gets, at least (ten a second at most;
    fewer when a pass over every client takes longer: `api.broadcast.Broadcaster.run`)."""
    outbox: int = 64
    """Frames a websocket client may have waiting before it is resynced."""
    history: int = 1024
    """Recent frames kept for clients resuming with `since=` (during long passes frames are
    cut up to four times an interval: 1,024 is at least 25 s of them)."""
    health_interval: float = 1.0
    redis_url: str | None = None
    redis_prefix: str = "gambero"
    web_only: bool = False
    live_readers: bool = False
    """Run a session for each reader event.toml links (serial, TCP, file): `gambero serve`."""
    event_dir: Path = Path(".")
    """Where event.toml is: reader files (`path`) are relative to it."""
    replay_speed: float = 0.0
    """Readers with a `path` are replayed at this many times real time (0: at once)."""
    reader_settings: SessionSettings | None = None


@dataclass
class Runtime:
    store: Store
    event_id: int
    event: Event
    state: LiveState
    broadcaster: Broadcaster
    view: ResultsView
    readers: ReaderManager
    options: Options
    core: TimingCore | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    frame_sinks: list[Callable[[Frame], None]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    health_hooks: list[Callable[[dict[str, object]], None]] = field(default_factory=list)
    follower: Any = None
    """Web-only: the `api.fanout.Follower` keeping the rows current."""
    frame_source: FrameSource | None = None
    """With a core: what turns its deltas into frames (and keeps `state` current)."""
    file_problems: FileProblems | None = None
    """The problems in the event's files when last imported (`api.file_problems`); None when
    no file was read (served from the database alone)."""

    @classmethod
    async def start(cls, store: Store, event_id: int, options: Options | None = None) -> Runtime:
        """Start the core for the event `event_id` and the live feed over it (or, with
        `options.web_only`, follow a core elsewhere through Redis)."""
        options = options or Options()
        tune_gc()  # a web-only process too: 10,000 clients are half a million objects
        if options.web_only:
            from api.fanout import start_web_only

            runtime: Runtime = await start_web_only(cls, store, event_id, options)
            return runtime
        core = await TimingCore.start(store, event_id)
        try:
            readers = await _readers_of(core, store, event_id, options)
        except BaseException:
            await core.stop()
            raise
        state = LiveState(core.event)
        broadcaster = Broadcaster(state, outbox=options.outbox, history=options.history)
        runtime = cls(store, event_id, core.event, state, broadcaster, state, readers, options,
                      core)
        if isinstance(readers, LiveReaders):
            runtime.closers.append(readers.close)
        try:
            runtime.frame_sinks.append(broadcaster.publish)
            if options.redis_url:
                from api.fanout import start_publisher

                await start_publisher(runtime)
            source = FrameSource(core, state, runtime.publish_frame, options.frame_interval)
            source.load()
            broadcaster.published_seq = state.seq
            runtime.frame_source = source
            frames = asyncio.create_task(source.run(), name="gambero-frames")
            frames.add_done_callback(_say_if_failed)
            runtime.tasks.append(frames)
            runtime.tasks.append(asyncio.create_task(runtime._health_forever(),
                                                     name="gambero-health"))
            runtime.start_fan_out()
        except BaseException:  # Redis unreachable, say: nothing may keep running
            await runtime.stop()
            raise
        return runtime

    def start_fan_out(self) -> None:
        """The task that sends the frames to the websocket clients (`Broadcaster.run`)."""
        refresh = self.frame_source.refresh if self.frame_source is not None else None
        task = asyncio.create_task(
            self.broadcaster.run(interval=self.options.frame_interval, refresh=refresh),
            name="gambero-fan-out")
        task.add_done_callback(_say_if_failed)
        self.tasks.append(task)

    async def current_view(self) -> ResultsView:
        """The results as of the core's last commit (in a web-only process: as of the last
        frame received)."""
        if self.frame_source is not None:
            await self.frame_source.sync()
        return self.view

    def publish_frame(self, frame: Frame) -> None:
        for sink in self.frame_sinks:
            try:
                sink(frame)
            except Exception:  # one broken sink (Redis down) must not stop the others
                log.exception("live frame not delivered")

    async def _health_forever(self) -> None:
        while True:
            await asyncio.sleep(self.options.health_interval)
            message = {"seq": self.state.seq,
                       "readers": [health.as_json() for health in self.readers.health()]}
            self.broadcaster.publish_health(message)
            for hook in self.health_hooks:
                hook(message)

    async def stop(self) -> None:
        """Stop everything, whatever fails on the way (each failure is logged): the readers
        hand over what they read, then the core finishes its commits and lets go."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("task %s had failed", task.get_name())
        self.tasks.clear()
        for closer in reversed(self.closers):
            try:
                await closer()
            except Exception:
                log.exception("closing %r failed", closer)
        if self.core is not None:
            await self.core.stop()


async def _readers_of(core: TimingCore, store: Store, event_id: int,
                      options: Options) -> ReaderManager:
    """Live sessions for the readers event.toml links (`options.live_readers`), else every
    reader an ingest reader. ValueError when a reader's link cannot be used."""
    if options.live_readers:
        return await LiveReaders.open(core, store, event_id, directory=options.event_dir,
                                      settings=options.reader_settings,
                                      replay_speed=options.replay_speed)
    readers = IngestReaders(core)
    await readers.load_counts(store, event_id)
    return readers


def _say_if_failed(task: asyncio.Task[None]) -> None:
    """A background task that fails says so at once (not only when the server stops)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed: the live feed stops until the server restarts",
                  task.get_name(), exc_info=task.exception())
