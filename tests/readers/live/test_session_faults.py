"""Sessions that meet the unexpected: a reply that breaks a dialect, a session that fails to
stop, a journal that refuses writes or never answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

import pytest

from readers.dialects import RaceResultDialect, Reply
from readers.manager import ReaderManager
from readers.protocols.raceresult import encode_raceresult
from readers.session import ReaderSession, SessionSettings, now_ms
from timing.model import ReaderConfig
from timing.reads import Record, Rejected

from .helpers import Answer, BlockedSink, DedupSink, ScriptedTransport, eventually

FAST = SessionSettings(backoff_initial_s=0.02, backoff_max_s=0.1, drift_limit_ms=10**9)
T0 = datetime(2026, 5, 10, 9, 0, 0)


def passing(number: int, chip: str = "1001") -> bytes:
    return encode_raceresult(number, chip, T0.replace(second=number % 60), pushed=True)


class BrokenDialect(RaceResultDialect):
    """A dialect with a bug: the line `BOOM` makes it raise."""

    def on_line(self, text: str) -> Reply | None:
        if text.strip() == "BOOM":
            raise RuntimeError("dialect bug")
        return super().on_line(text)


async def test_an_impossible_clock_reply_is_ignored_and_the_session_reads_on() -> None:
    transport = ScriptedTransport()
    sink = DedupSink()
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), transport, sink,
                            settings=FAST)
    session.start()
    try:
        transport.feed(b"GETTIME;2026-13-10;09:00:00.000\r\n")
        transport.feed(passing(1))
        await eventually(lambda: session.health.reads == 1, what="the passing")
        assert transport.opens == 1 and session.health.connected
        assert not session.clock.measured           # the bad reply measured nothing
    finally:
        await session.stop()


async def test_an_unexpected_error_on_the_link_is_logged_and_the_session_reconnects(
        caplog: pytest.LogCaptureFixture) -> None:
    transport = ScriptedTransport()
    sink = DedupSink()
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), transport, sink,
                            settings=FAST, dialect=BrokenDialect())
    session.start()
    try:
        transport.feed(passing(1) + b"BOOM\r\n")
        await eventually(lambda: transport.opens == 2, what="the reconnect")
        assert "dialect bug" in caplog.text
        transport.feed(passing(2))
        await eventually(lambda: session.health.reads == 2, what="reads after the error")
        assert session.health.connected and session.health.reconnects == 1
    finally:
        await session.stop()                       # completes, raises nothing
    assert not session.running


async def test_stop_all_stops_every_session_even_when_one_fails_to_stop(
        caplog: pytest.LogCaptureFixture) -> None:
    manager = ReaderManager(DedupSink(), settings=FAST)
    for name in ("a", "b", "c"):
        manager.add(ReaderConfig(name, "finish", "raceresult"), ScriptedTransport())
    manager.start_all()

    async def failing_stop(flush_timeout_s: float = 10.0) -> None:
        raise RuntimeError("cannot stop a")

    manager.sessions["a"].stop = failing_stop  # type: ignore[method-assign]
    await asyncio.wait_for(manager.stop_all(), 10)
    assert "cannot stop a" in caplog.text
    assert not manager.sessions["b"].running and not manager.sessions["c"].running


async def test_a_session_whose_link_task_died_still_stops(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), ScriptedTransport(),
                            DedupSink(), settings=FAST)
    session.start()

    async def died() -> None:
        raise RuntimeError("link task died")

    session._tasks[0].cancel()
    session._tasks[0] = asyncio.create_task(died())
    await asyncio.sleep(0)
    await asyncio.wait_for(session.stop(), 10)   # logs the failure instead of raising it
    assert "link task died" in caplog.text and not session.running


async def test_reads_the_journal_did_not_take_by_the_stop_are_reported_and_kept(
        caplog: pytest.LogCaptureFixture) -> None:
    transport, sink = ScriptedTransport(), BlockedSink()
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), transport, sink,
                            settings=FAST)
    session.start()
    transport.feed(passing(1) + passing(2))
    await eventually(lambda: transport.unread == 0, what="the passings read")
    await session.stop(flush_timeout_s=0.1)
    assert "stopped with 2 records read but not stored" in caplog.text
    assert session.health.alarm is not None and "2 records" in session.health.alarm
    sink.release.set()
    session.start()                              # a restart hands them over
    try:
        await eventually(lambda: session.health.reads == 2, what="the kept passings stored")
    finally:
        await session.stop()


async def test_stop_all_waits_for_the_sessions_flushes_at_the_same_time() -> None:
    sink = BlockedSink()
    manager = ReaderManager(sink, settings=FAST)
    transports = {name: ScriptedTransport() for name in ("a", "b", "c")}
    for name, transport in transports.items():
        manager.add(ReaderConfig(name, "finish", "raceresult"), transport)
    manager.start_all()
    for number, transport in enumerate(transports.values(), 1):
        transport.feed(passing(number))
    await eventually(lambda: all(t.unread == 0 for t in transports.values()), what="read")
    stopping = asyncio.create_task(manager.stop_all())
    # Each session has let go of its link and waits for its flush: all three at once.
    await eventually(lambda: all(session._tasks and session._tasks[0].done()
                                 for session in manager.sessions.values()), what="flushing")
    assert not stopping.done()
    sink.release.set()
    await asyncio.wait_for(stopping, 10)
    assert all(health.reads == 1 and not health.running for health in manager.health())


class FailingSink(DedupSink):
    """A journal that refuses writes while `broken`."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    async def __call__(self, reader_id: str, records: Sequence[Record],
                       received_ms: int) -> Answer:
        if self.broken:
            raise OSError("disk full")
        return await super().__call__(reader_id, records, received_ms)


async def test_a_storage_alarm_stays_beside_a_clock_alarm_until_a_submission_succeeds() -> None:
    transport, sink = ScriptedTransport(), FailingSink()
    settings = SessionSettings(backoff_initial_s=0.02, submit_retry_s=0.05, drift_limit_ms=1000)
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), transport, sink,
                            settings=settings)
    session.start()
    try:
        transport.feed(passing(1))
        await eventually(lambda: "cannot store reads" in (session.health.alarm or ""),
                         what="the storage alarm")
        transport.feed(b"GETTIME;2026-05-10;09:00:00.000\r\n")   # a clock far from now
        await eventually(lambda: session.clock.measured, what="the clock reply")
        alarm = session.health.alarm or ""
        assert "cannot store reads: disk full" in alarm and "reader clock" in alarm
        sink.broken = False
        await eventually(lambda: session.health.reads == 1, what="stored after the repair")
        alarm = session.health.alarm or ""
        assert "cannot store" not in alarm and "reader clock" in alarm
    finally:
        await session.stop()
    assert session.health.alarm is None


class RecordingSink(BlockedSink):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[int, int]] = []     # (records, received_ms) per submission

    async def __call__(self, reader_id: str, records: Sequence[Record],
                       received_ms: int) -> Answer:
        self.received.append((len(records), received_ms))
        return await super().__call__(reader_id, records, received_ms)


async def test_reads_are_journaled_with_their_arrival_time_not_their_submission_time() -> None:
    transport, sink = ScriptedTransport(), RecordingSink()
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), transport, sink,
                            settings=FAST)
    session.start()
    try:
        transport.feed(passing(1))
        await eventually(lambda: len(sink.received) == 1, what="the first submission")
        before = now_ms()
        transport.feed(passing(2))                   # arrives while the journal is stuck
        await eventually(lambda: transport.unread == 0, what="the second passing read")
        after = now_ms()
        await asyncio.sleep(0.3)
        released = now_ms()
        sink.release.set()
        await eventually(lambda: session.health.reads == 2, what="both stored")
    finally:
        await session.stop()
    assert sink.received[-1][0] == 1
    assert before <= sink.received[-1][1] <= after < released


def test_a_backlog_is_submitted_in_steps_of_one_arrival_second_and_max_batch() -> None:
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), ScriptedTransport(),
                            DedupSink(), settings=SessionSettings(max_batch=3))
    session._pending = [Rejected("x", "test", n) for n in range(5)]
    session._arrival_ms = [1000, 1500, 2000, 2001, 2002]
    assert session._batch_size() == 3                 # within 1 s of the first, max_batch 3
    session._arrival_ms = [1000, 2001, 2002, 2003, 2004]
    assert session._batch_size() == 1                 # the next arrived more than 1 s later
    session._arrival_ms = [5000, 10, 20, 30, 40]      # the host clock stepped back
    assert session._batch_size() == 3
