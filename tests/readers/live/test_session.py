"""Reader sessions against in-process simulators: start-up, rewind after a drop for each
vendor, garbage, clock, backoff, a stuck reader beside a live one, and the manager."""

from __future__ import annotations

import asyncio

import pytest

from readers.manager import ReaderManager
from readers.session import ReaderSession, SessionSettings
from readers.simulators import ChipRead, SimTransport, race_reads
from readers.simulators.vendors import SIMULATORS
from readers.transports.base import LinkDown, TransportKind
from timing.entries import dedup_key
from timing.model import ReaderConfig
from timing.reads import Read

from .helpers import BlockedSink, DedupSink, eventually, small_event

FAST = SessionSettings(backoff_initial_s=0.02, backoff_max_s=0.1, clock_check_s=0.2,
                       drift_limit_ms=10**9)


def expected_keys(reader_id: str, simulator_format: str,
                  reads: list[ChipRead]) -> set[tuple[str, str]]:
    """The dedup keys of every read the simulator made, parsed from its full capture."""
    from readers.protocols import make_parser

    simulator = SIMULATORS[simulator_format](reads)
    simulator.memory = list(reads)
    records = make_parser(simulator_format).feed(simulator.capture())
    return {dedup_key(reader_id, record) for record in records if isinstance(record, Read)}


@pytest.mark.parametrize(("reader_format", "options"), [
    ("ipico", {}), ("ultra", {}), ("raceresult", {}),
    # a passing pushed between SETPUSHPASSINGS and the PASSINGS count reply
    ("raceresult", {"push_before_count": True})],
    ids=["ipico", "ultra", "raceresult", "raceresult-push-before-count"])
async def test_a_dropped_link_is_rewound_and_every_read_arrives_once(
        reader_format: str, options: dict[str, bool]) -> None:
    event, athletes = small_event()
    reads = race_reads(event, athletes, "finish", seed=3)
    simulator = SIMULATORS[reader_format](reads, speed=400.0, **options)  # type: ignore[arg-type]
    transport = SimTransport(simulator)
    sink = DedupSink()
    config = ReaderConfig("finish-1", "finish", reader_format)
    session = ReaderSession(config, transport, sink, timezone=event.timezone,
                            settings=FAST)
    session.start()
    simulator.start()
    try:
        await eventually(lambda: len(simulator.memory) > len(reads) // 3, what="a third")
        transport.reachable = False
        transport.drop()                       # the link fails mid-race ...
        await eventually(lambda: not session.health.connected, what="the drop noticed")
        await eventually(lambda: len(simulator.memory) > 2 * len(reads) // 3, what="more")
        transport.reachable = True             # ... and comes back after reads were missed
        await eventually(lambda: session.health.connected, what="the reconnect")
        await asyncio.wait_for(simulator.done.wait(), 20)
        want = expected_keys("finish-1", reader_format, reads)
        assert len(want) > 20
        await eventually(lambda: sink.keys("finish-1") == want, what="every read")
        await session.drained()
    finally:
        await session.stop()
        await simulator.stop()
    assert sink.keys("finish-1") == want       # nothing lost, and (a dict) nothing twice
    health = session.health
    assert health.reads == len(want)
    assert health.reconnects >= 1 and health.rewinds >= 1
    assert health.rejected == len(sink.rejected)


async def test_garbage_never_stops_a_session_and_each_bad_record_is_rejected() -> None:
    event, athletes = small_event()
    reads = race_reads(event, athletes, "finish", seed=4)
    simulator = SIMULATORS["ipico"](reads, speed=500.0, garble_every=5)
    transport = SimTransport(simulator)
    sink = DedupSink()
    session = ReaderSession(ReaderConfig("f", "finish", "ipico"), transport, sink,
                            timezone=event.timezone, settings=FAST)
    session.start()
    await transport_ready(session)
    # Before the race: garbage of every kind, straight into the link.
    junk = [b"\x00\x01\x02\xff" * 10 + b"\n", b"aa0102", b"03\r\n",          # partial line
            b"x" * 10_000 + b"\n", bytes(range(256)) + b"\r\n", b"\r\n\r\n", b"aa" + b"z" * 34
            + b"\r\n"]
    for chunk in junk:
        transport._inbox.put_nowait(chunk)
    simulator.start()
    try:
        await asyncio.wait_for(simulator.done.wait(), 20)
        want = expected_keys("f", "ipico", reads)
        await eventually(lambda: sink.keys("f") == want, what="every read")
        await session.drained()
    finally:
        await session.stop()
        await simulator.stop()
    assert session.running is False
    reasons = [record.reason for _, record in sink.rejected]
    assert any("longer than" in reason for reason in reasons)
    assert any("not valid text" in reason for reason in reasons)
    assert sum("LRC" in reason for reason in reasons) == (simulator.garbled + 1) // 2
    # 6 junk records (bytes 0-255 hold a LF and a CR: two bad lines and a blank one) + the
    # garbled lines; nothing else rejected, nothing lost
    assert len(sink.rejected) == 6 + simulator.garbled
    assert session.health.rejected == len(sink.rejected)


async def transport_ready(session: ReaderSession) -> None:
    await eventually(lambda: session.health.connected, what="connected")


class StuckTransport:
    """A reader that accepts the connection, then never says anything, never takes commands."""

    kind: TransportKind = "tcp"
    address = "stuck"

    async def open(self) -> None:
        await asyncio.sleep(0)

    async def read(self) -> bytes:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def write(self, data: bytes) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


class RefusingTransport(StuckTransport):
    opens = 0

    async def open(self) -> None:
        self.opens += 1
        raise LinkDown("connection refused")


async def test_a_stuck_or_absent_reader_does_not_block_the_others() -> None:
    event, athletes = small_event()
    reads = race_reads(event, athletes, "finish", seed=5)
    simulator = SIMULATORS["ultra"](reads, speed=500.0)
    sink = DedupSink()
    manager = ReaderManager(sink, timezone=event.timezone, settings=FAST)
    refusing = RefusingTransport()
    manager.add(ReaderConfig("stuck", "finish", "raceresult"), StuckTransport())
    manager.add(ReaderConfig("absent", "start", "ipico"), refusing)
    manager.add(ReaderConfig("live", "finish", "ultra"), SimTransport(simulator))
    manager.start_all()
    simulator.start()
    try:
        await asyncio.wait_for(simulator.done.wait(), 20)
        want = expected_keys("live", "ultra", reads)
        await eventually(lambda: sink.keys("live") == want, what="the live reader's reads")
        health = {item.id: item for item in manager.health()}
        assert health["stuck"].connected and health["stuck"].reads == 0
        assert not health["absent"].connected
        assert health["absent"].alarm is not None and "refused" in health["absent"].alarm
        assert refusing.opens >= 3                      # retried, with a capped backoff
        assert health["live"].reads == len(want)
    finally:
        await asyncio.wait_for(manager.stop_all(), 15)  # a stuck link still stops
        await simulator.stop()
    assert all(not item.running for item in manager.health())


async def test_a_stuck_journal_stalls_neither_the_link_it_serves_nor_another_reader() -> None:
    event, athletes = small_event()
    fast_reads = race_reads(event, athletes, "finish", seed=6)
    slow_sink, fast_sink = BlockedSink(), DedupSink()
    slow_sim = SIMULATORS["ipico"](race_reads(event, athletes, "start", seed=6), speed=500.0)
    fast_sim = SIMULATORS["ipico"](fast_reads, speed=500.0)
    slow_link = SimTransport(slow_sim)
    slow = ReaderSession(ReaderConfig("slow", "start", "ipico"), slow_link,
                         slow_sink, timezone=event.timezone, settings=FAST)
    fast = ReaderSession(ReaderConfig("fast", "finish", "ipico"), SimTransport(fast_sim),
                         fast_sink, timezone=event.timezone, settings=FAST)
    for item in (slow, fast, slow_sim, fast_sim):
        item.start()
    try:
        await asyncio.wait_for(asyncio.gather(fast_sim.done.wait(), slow_sim.done.wait()), 20)
        want = expected_keys("fast", "ipico", fast_reads)
        await eventually(lambda: fast_sink.keys("fast") == want, timeout_s=5, what="fast")
        # The slow reader's journal has not answered its first submission, yet its link was
        # read to the end meanwhile: nothing waits in the link, every read waits for the journal.
        await eventually(lambda: slow_link._inbox.empty(), timeout_s=5, what="slow link read")
        assert slow_sink.calls == 0 and slow.health.reads == 0
        slow_sink.release.set()
        slow_want = expected_keys("slow", "ipico", slow_sim.reads)
        await eventually(lambda: slow_sink.keys("slow") == slow_want, timeout_s=5, what="slow")
    finally:
        slow_sink.release.set()
        for item in (slow, fast, slow_sim, fast_sim):
            await item.stop()


async def test_clock_offset_is_measured_at_connect_and_drift_raises_an_alarm() -> None:
    event, athletes = small_event()
    reads = race_reads(event, athletes, "finish", seed=7)
    simulator = SIMULATORS["raceresult"](reads, speed=1.0)
    transport = SimTransport(simulator)
    settings = SessionSettings(backoff_initial_s=0.02, clock_check_s=0.1, drift_limit_ms=500)
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"), transport, DedupSink(),
                            timezone=event.timezone, settings=settings)
    simulator.start()
    session.start()
    try:
        await eventually(lambda: session.health.clock_offset_ms is not None, what="offset")
        first = session.health.clock_offset_ms
        assert first is not None
        # The simulated reader's clock shows race day, 2026-05-10 about 09:00: far from now.
        assert abs(first) > 3600_000
        assert session.health.alarm is not None and "reader clock" in session.health.alarm
        simulator.speed = 50.0  # the reader's clock starts running fast
        await eventually(lambda: (session.health.drift_ms or 0) > 500, what="drift")
        assert session.clock.measured
    finally:
        await session.stop()
        await simulator.stop()


def test_clock_differences_are_shown_in_units_people_read() -> None:
    from readers.clock import shown_offset

    assert shown_offset(1250) == "+1.250 s"
    assert shown_offset(-(2 * 3600_000 + 5 * 60_000 + 3100)) == "-2 h 05 min 03.100 s"
    assert shown_offset(-(199 * 86_400_000 + 7 * 3600_000 + 27 * 60_000 + 36_893)) == \
        "-199 d 07 h 27 min"
