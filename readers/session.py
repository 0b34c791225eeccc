"""One reader, kept connected: connect, start-up commands, read, parse, submit, reconnect.

The session owns a transport (bytes), a parser (records), a dialect (what to say to the reader)
and a clock watch. Two tasks run while it is started:

- the link task connects, sends the start-up and rewind commands, reads, parses and queues the
  records; when the link fails it closes it, waits (capped exponential backoff: 0.5 s, 1 s, 2 s
  … up to `backoff_max_s`, back to the start once a connection has delivered data) and
  connects again, to the same path or address; any other error on the link (a bug) is logged
  and handled as a failed link, so a session never ends on its own;
- the submit task hands the queued records to the sink (the timing core's `submit`), which
  answers only once they are durable. Reading goes on meanwhile, so a slow commit never stalls
  the link; a failed submission is retried, never dropped.

A half record left in the parser when the link fails is journaled as rejected ("cut off by a
disconnect") and the rewind after the reconnect brings the read back. The session never
de-duplicates: the core does (same reader, chip and reader time), so rewinds may ask for more
than was missed.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from readers.clock import ClockWatch
from readers.dialects import Dialect, make_dialect
from readers.health import Cause, ReaderHealth
from readers.lines import LineSplitter
from readers.protocols import make_parser
from readers.protocols.base import Parser
from readers.transports.base import LinkDown, Transport
from timing.model import ReaderConfig
from timing.reads import Read, Record, Rejected

log = logging.getLogger("gambero.readers")

ARRIVAL_SPREAD_MS = 1000
"""Records submitted together arrived within this long of each other (see `_batch_size`)."""
CLEAR_WHEN = {"link": "the reader is connected again",
              "storage": "the journal takes the reader's reads again"}


class Answer(Protocol):
    @property
    def accepted(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def rejected(self) -> int: ...


Sink = Callable[[str, Sequence[Record], int], Awaitable[Answer]]
"""`sink(reader_id, records, received_ms)`: journal them, answer once durable (TimingCore.submit
has this shape). `received_ms`: when the records arrived from the reader (not when they are
submitted, which can be much later after the journal was slow or refused writes)."""


@dataclass(frozen=True)
class SessionSettings:
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    clock_check_s: float = 60.0
    drift_limit_ms: int = 1000
    clock_rate: float = 1.0
    """Reader seconds per host second the readers' clocks run at: 1 for real readers, a
    simulator's speed for simulated ones (their drift is judged at that rate)."""
    submit_retry_s: float = 1.0
    max_batch: int = 1000
    """Most records handed to the core in one submission: a long backlog (a rewind) goes in
    steps, so that commits stay short and other readers' submissions join them."""


def backoff_delay(failures: int, settings: SessionSettings) -> float:
    """The wait before the next connection attempt after `failures` failed ones in a row
    (0: the last connection delivered data, so the link was good: retry soon)."""
    return min(settings.backoff_max_s,
               settings.backoff_initial_s * (1 << min(30, max(0, failures - 1))))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class ReaderSession:
    def __init__(self, config: ReaderConfig, transport: Transport, sink: Sink, *,
                 timezone: str = "UTC",
                 settings: SessionSettings | None = None,
                 dialect: Dialect | None = None,
                 parser_factory: Callable[[], Parser] | None = None) -> None:
        self.config = config
        self.transport = transport
        self.sink = sink
        self.settings = settings or SessionSettings()
        self.dialect = dialect or make_dialect(config.format)
        self._make_parser = parser_factory or (lambda: make_parser(config.format))
        self.clock = ClockWatch(timezone, config.clock_offset_ms, self.settings.drift_limit_ms,
                                self.settings.clock_rate)
        self.health = ReaderHealth(config.id, config.point, config.format, transport.kind,
                                   address=transport.address, running=False)
        self._pending: list[Record] = []
        self._arrival_ms: list[int] = []
        """When each pending record arrived (parallel to `_pending`): the journal's
        recorded_ms, whenever the submission happens."""
        self._arrived = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: list[asyncio.Task[None]] = []
        self._connections = 0
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._alarms: dict[str, Cause] = {}
        """What needs attention, by kind (link, storage, clock, drift): `health.alarm` joins
        them."""
        self._live_clock = transport.kind != "file"
        """A recording's times say nothing of a reader's clock now."""
        self.finished = asyncio.Event()
        """Set when a file replay has been sent whole and submitted."""

    # -- control -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self.health.running = True
        if not self.health.connected:  # until the link comes up, that is what to attend to
            self._set_connected(False)
            self._alarm("link", "not connected yet")
        if self._pending:  # left by a stop that could not hand them over
            self._idle.clear()
            self._arrived.set()
        self._tasks = [asyncio.create_task(self._link_forever(), name=f"reader-{self.config.id}"),
                       asyncio.create_task(self._submit_forever(),
                                           name=f"reader-{self.config.id}-submit")]

    async def stop(self, flush_timeout_s: float = 10.0) -> None:
        """Disconnect, then hand over what was read (waits up to `flush_timeout_s`)."""
        if not self._tasks:
            return
        link, submit = self._tasks
        link.cancel()
        await self._finish(link)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained(), flush_timeout_s)
        submit.cancel()
        await self._finish(submit)
        self._tasks = []
        self.health.running = False
        self._alarms.clear()  # stopped on purpose: nothing to attend to ...
        if self._pending:  # ... unless reads are left (kept: a restart submits them)
            self._alarm("storage", f"stopped with {len(self._pending)} records read but not "
                                   f"stored (the journal did not answer in "
                                   f"{flush_timeout_s:g} s)")
            log.error("reader %s: stopped with %d records read but not stored: the journal did "
                      "not answer in %g s", self.config.id, len(self._pending), flush_timeout_s)
        self._set_connected(False)
        self._show_alarms()
        close = getattr(self.transport, "shutdown", None) or self.transport.close
        try:
            await close()
        except Exception:  # a transport must not keep the others from stopping
            log.exception("reader %s: closing the link failed", self.config.id)

    async def _finish(self, task: asyncio.Task[None]) -> None:
        """Wait for a cancelled task; what it failed with is logged, not raised, so that a
        stop always completes."""
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("reader %s: task %s failed", self.config.id, task.get_name())

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def drained(self) -> None:
        """Wait until everything read so far has been submitted and answered."""
        while self._pending or not self._idle.is_set():
            await self._idle.wait()
            await asyncio.sleep(0)

    # -- the link ------------------------------------------------------------------------------

    async def _link_forever(self) -> None:
        failures = 0
        try:
            while True:
                try:
                    delivered = await self._one_connection()
                except Exception as error:  # a bug must not end the session: log, reconnect
                    log.exception("reader %s: unexpected error on the link", self.config.id)
                    self._lost(f"unexpected error: {error!r}")
                    delivered = False  # counted as a failure: backs off if it repeats
                if getattr(self.transport, "ended", False):
                    await self.drained()
                    self.health.last_error = None  # done, not failed
                    self._alarm("link", None)
                    self.health.finished = True
                    self.finished.set()
                    return
                failures = 0 if delivered else failures + 1
                delay = backoff_delay(failures, self.settings)
                if self.health.last_error:
                    self._alarm("link", f"disconnected: {self.health.last_error} "
                                        f"(retrying every {delay:g} s)")
                await asyncio.sleep(delay)
        finally:
            await self.transport.close()

    async def _one_connection(self) -> bool:
        """Connect and read until the link fails; True if the link delivered any data."""
        try:
            await self.transport.open()
        except LinkDown as error:
            self._lost(str(error))
            return False
        reconnect = self._connections > 0
        self._connections += 1
        if reconnect:
            self.health.reconnects += 1
        self._set_connected(True)
        self.health.connected_ms = self.health.since_ms
        self._alarm("link", None)
        self.health.last_error = None
        self.clock.connected()
        self.health.drift_ms = None  # measured afresh on this connection
        self._alarm("drift", None)
        parser = self._make_parser()
        lines = LineSplitter()
        delivered = False
        clock_task: asyncio.Task[None] | None = None
        try:
            commands = self.dialect.on_connect(reconnect)
            if reconnect and self.dialect.rewinds:
                self.health.rewinds += 1
            await self._send(commands)
            if self.dialect.clock_query() is not None:
                clock_task = asyncio.create_task(self._check_clock())
            while True:
                data = await self._read()
                delivered = True
                received = now_ms()
                self._take(parser.feed(data), received)
                await self._send(self.dialect.on_data(data))
                lost = self.dialect.lost_stream()
                if lost is not None:
                    raise LinkDown(lost)
                for text in lines.feed(data) if self.dialect.line_replies else ():
                    reply = self.dialect.on_line(text)
                    if reply is None:
                        continue
                    if reply.clock is not None and self._live_clock:
                        self.clock.reply(reply.clock, received)
                        self._clock_health()
                    await self._send(reply.send)
        except LinkDown as error:
            self._lost(str(error))
        finally:
            if clock_task is not None:
                clock_task.cancel()
            cut = [Rejected(record.raw, f"cut off by a disconnect: {record.reason}",
                            record.line) if isinstance(record, Rejected) else record
                   for record in parser.close()]
            if cut:
                self._take(cut, now_ms())
            await self.transport.close()
        return delivered

    async def _read(self) -> bytes:
        limit = self.dialect.silence_limit_s
        if limit is None:
            return await self.transport.read()
        try:
            return await asyncio.wait_for(self.transport.read(), limit)
        except TimeoutError:
            raise LinkDown(f"nothing from the reader in {limit:g} s") from None

    def _take(self, records: list[Record], received: int) -> None:
        if not records:
            return
        self._pending.extend(records)
        self._arrival_ms.extend([received] * len(records))
        self._arrived.set()
        self._idle.clear()
        if self._live_clock:
            self.clock.reads([record for record in records if isinstance(record, Read)],
                             received)
            self._clock_health()
        commands = self.dialect.on_records(records)
        if commands:
            self.health.rewinds += 1
            task = asyncio.create_task(self._send_quietly(commands))
            self._side_tasks.add(task)  # kept referenced until done
            task.add_done_callback(self._side_tasks.discard)

    async def _send(self, commands: list[bytes]) -> None:
        for command in commands:
            await self.transport.write(command)

    async def _send_quietly(self, commands: list[bytes]) -> None:
        with contextlib.suppress(LinkDown):
            await self._send(commands)

    async def _check_clock(self) -> None:
        query = self.dialect.clock_query()
        assert query is not None
        while True:
            await asyncio.sleep(self.settings.clock_check_s)
            await self._send_quietly([query])

    def _clock_health(self) -> None:
        self.health.clock_offset_ms = self.clock.offset_ms
        self.health.drift_ms = self.clock.drift_ms
        if self.health.connected:
            limit = f"{self.settings.drift_limit_ms / 1000:g} s"
            error, drift = self.clock.error_ms, self.clock.drift_ms
            self._alarm("clock", self.clock.offset_alarm(),
                        None if error is None else abs(error),
                        f"the reader's clock, with its clock_offset_s, is within {limit} of "
                        "the host's")
            self._alarm("drift", self.clock.drift_alarm(),
                        None if drift is None else abs(drift),
                        f"the drift is back under {limit} (or the reader reconnects)")

    def _lost(self, reason: str) -> None:
        if getattr(self.transport, "ended", False):  # a recording played whole: done, no alarm
            log.info("reader %s: %s", self.config.id, reason)
            self._set_connected(False)
            return
        if self.health.connected or self.health.last_error != reason:
            log.warning("reader %s (%s): %s", self.config.id, self.transport.address, reason)
        self.health.last_error = reason
        self._set_connected(False)
        self._alarm("link", f"disconnected: {reason}")

    def _alarm(self, kind: str, text: str | None, measure: int | None = None,
               clear_when: str = "") -> None:
        """Raise (`text`) or clear (None) one kind of alarm: link, storage, clock or drift.
        Each is kept apart, so that one clearing never wipes another; one raised again while
        it stands keeps its start."""
        if text is None:
            self._alarms.pop(kind, None)
        else:
            since = self._alarms[kind]["since_ms"] if kind in self._alarms else now_ms()
            self._alarms[kind] = Cause(text=text, since_ms=since, measure=measure,
                                       clear_when=clear_when or CLEAR_WHEN.get(kind, ""))
        self._show_alarms()

    def _show_alarms(self) -> None:
        kinds: tuple[str, ...] = ("link", "storage", "clock", "drift")
        shown = {kind: self._alarms[kind] for kind in kinds
                 if kind in self._alarms
                 and (kind not in ("clock", "drift") or self.health.connected)}
        self.health.causes = shown
        self.health.alarm = "; ".join(cause["text"] for cause in shown.values()) or None

    def _set_connected(self, connected: bool) -> None:
        if self.health.connected != connected or self.health.since_ms is None:
            self.health.connected = connected
            self.health.since_ms = now_ms()

    # -- submitting ----------------------------------------------------------------------------

    def _batch_size(self) -> int:
        """How many pending records the next submission takes: at most `max_batch`, and only
        those that arrived within ARRIVAL_SPREAD_MS of the first, since a submission carries
        one arrival time (the latest of its records'). A backlog goes in several steps."""
        size = min(len(self._pending), self.settings.max_batch)
        latest = self._arrival_ms[0] + ARRIVAL_SPREAD_MS
        if self._arrival_ms[size - 1] <= latest:
            return size
        # max(1, …): a host clock stepped back leaves the list unsorted; never an empty batch
        return max(1, bisect.bisect_right(self._arrival_ms, latest, 0, size))

    async def _submit_forever(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._pending:
                size = self._batch_size()
                batch, received = self._pending[:size], self._arrival_ms[size - 1]
                try:
                    answer = await self.sink(self.config.id, batch, received)
                except Exception as error:  # the journal could not take them: keep, retry
                    self._alarm("storage", f"cannot store reads: {error}")
                    log.error("reader %s: cannot store reads: %s", self.config.id, error)
                    await asyncio.sleep(self.settings.submit_retry_s)
                    continue
                del self._pending[:size], self._arrival_ms[:size]
                self._alarm("storage", None)
                self.health.stored(answer.accepted, answer.duplicates, answer.rejected, now_ms())
            self._idle.set()


__all__ = ["Answer", "ReaderSession", "SessionSettings", "Sink", "backoff_delay", "now_ms"]
