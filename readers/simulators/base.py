"""The machinery every simulated reader shares: a clock running at `speed` times real time, a
memory of every read made (the reader keeps reads when nobody listens, as real ones do), one
client link at a time, commands in, lines out, and a little line noise.

A vendor subclass says how a read is written live and when replayed, and how it answers
commands. Links (TCP, pseudo-terminal, in-process) live in `readers.simulators.links`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from readers.simulators.race import ChipRead

NOISE = b"\xff\xfe\x00\x81 line noise\r\n"
"""Binary noise: no reader format can take it for a read (a NUL is never text)."""

Send = Callable[[bytes], None]


class SimulatedReader:
    format = ""

    def __init__(self, reads: list[ChipRead], *, speed: float = 1.0, garble_every: int = 0,
                 lead_s: float = 1.0, clock_start: datetime | None = None) -> None:
        """`reads` in time order; the reader's clock starts at `clock_start`, or `lead_s`
        (reader seconds) before the first read; `garble_every` N: after every Nth live line, a
        garbled line (a corrupted copy of it, or binary noise, in turn)."""
        self.reads = reads
        self.speed = speed
        self.garble_every = garble_every
        first = reads[0].time if reads else datetime(2026, 1, 1)
        self.clock_start = clock_start or first - timedelta(seconds=lead_s)
        self.memory: list[ChipRead] = []
        self.garbled = 0
        self.live_lines = 0
        self._send: Send | None = None
        self._started_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        """Set once every scripted read has been made."""

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._started_at = time.monotonic()
            self._task = asyncio.create_task(self._play(), name=f"sim-{self.format}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def now(self) -> datetime:
        """The reader's clock."""
        if self._started_at is None:
            return self.clock_start
        elapsed = (time.monotonic() - self._started_at) * self.speed
        return self.clock_start + timedelta(seconds=elapsed)

    async def _play(self) -> None:
        while len(self.memory) < len(self.reads):
            wait = (self.reads[len(self.memory)].time - self.now()).total_seconds() / self.speed
            if wait > 0:
                await asyncio.sleep(wait)
                continue  # a command may have made that read meanwhile (make_next_read)
            self.make_next_read()
        self.done.set()

    def make_next_read(self) -> bool:
        """Make the next scripted read now (sent live if a client is attached); False when
        every read has been made."""
        if len(self.memory) >= len(self.reads):
            return False
        self.memory.append(self.reads[len(self.memory)])
        if self._send is not None:
            self._live(len(self.memory) - 1)
        return True

    def _live(self, index: int) -> None:
        line = self.live_line(index)
        if line is None:
            return
        self._emit(line)
        self.live_lines += 1
        if self.garble_every and self.live_lines % self.garble_every == 0:
            self.garbled += 1
            self._emit(NOISE if self.garbled % 2 == 0 else self.garble(line))

    def _emit(self, data: bytes) -> None:
        if self._send is not None:
            self._send(data)

    # -- links ---------------------------------------------------------------------------------

    def attach(self, send: Send) -> None:
        """A client connected: what the reader writes goes to `send` from now on."""
        self._send = send
        greeting = self.greeting()
        if greeting:
            send(greeting)

    def detach(self) -> None:
        self._send = None

    @property
    def attached(self) -> bool:
        return self._send is not None

    def command(self, data: bytes) -> None:
        """Bytes the client sent."""
        for answer in self.on_command(data):
            self._emit(answer)

    def capture(self) -> bytes:
        """Every read the reader made, in its wire format: what a full download gives, and what
        `gambero score` is fed to compare with a live run."""
        return b"".join(self.stored_line(index) for index in range(len(self.memory)))

    # -- vendor hooks --------------------------------------------------------------------------

    def greeting(self) -> bytes:
        return b""

    def live_line(self, index: int) -> bytes | None:
        """The line sent as read `index` of memory is made (None: not pushed now)."""
        return self.stored_line(index)

    def stored_line(self, index: int) -> bytes:
        raise NotImplementedError

    def garble(self, line: bytes) -> bytes:
        raise NotImplementedError

    def on_command(self, data: bytes) -> list[bytes]:
        return []


__all__ = ["NOISE", "SimulatedReader"]
