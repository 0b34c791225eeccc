"""Clock drift is judged at the reader's own rate: a simulator running the race at 10x shows no
drift (the demo's readers used to show 1,080 s of it after two minutes), a real reader whose
clock runs fast shows it; and a recording replayed to its end is "done", not disconnected."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from readers.clock import ClockWatch
from readers.dialects import ReaderClock
from readers.session import ReaderSession, SessionSettings
from readers.simulators import SimTransport, race_reads
from readers.simulators.vendors import SIMULATORS
from readers.transports.replay import FileReplay
from timing.model import ReaderConfig
from timing.reads import Read

from .helpers import DedupSink, eventually, small_event

HOST_START_MS = 1_778_400_000_000
READER_START_MS = HOST_START_MS - 45_000  # the demo's clocks start behind, then run ahead


def utc(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def replies(watch: ClockWatch, reader_rate: float, seconds: int) -> None:
    """The reader answers a clock query every second of the host's for `seconds`."""
    for second in range(seconds + 1):
        host = HOST_START_MS + second * 1000
        reader = READER_START_MS + reader_rate * second * 1000
        watch.reply(ReaderClock(utc(reader), dated=True), host)


def test_a_simulator_at_10x_shows_no_drift_at_its_rate_and_1080_s_at_the_hosts() -> None:
    at_its_rate = ClockWatch("UTC", rate=10)
    replies(at_its_rate, 10, 120)
    assert at_its_rate.drift_ms is not None and abs(at_its_rate.drift_ms) <= 1
    assert at_its_rate.drift_alarm() is None
    assert at_its_rate.offset_alarm() is None, "a 10x clock has no time of day to compare"
    at_the_hosts = ClockWatch("UTC")
    replies(at_the_hosts, 10, 120)
    assert at_the_hosts.drift_ms == 1_080_000   # what the demo showed before


def test_a_real_reader_whose_clock_runs_fast_shows_its_drift() -> None:
    watch = ClockWatch("UTC", limit_ms=1000)
    replies(watch, 1.001, 3600)   # a second every 1,000: 3.6 s in an hour
    assert watch.drift_ms is not None and 3500 <= watch.drift_ms <= 3700
    alarm = watch.drift_alarm()
    assert alarm is not None and "+3.6" in alarm
    # At 10x, a simulator whose clock runs 1 % fast drifts too: 12 s of race in 2 minutes.
    simulator = ClockWatch("UTC", rate=10)
    replies(simulator, 10.1, 120)
    assert simulator.drift_ms is not None and 11_900 <= simulator.drift_ms <= 12_100
    assert simulator.drift_alarm() is not None and "at its rate of 10x" in \
        (simulator.drift_alarm() or "")


def test_estimates_from_late_reads_at_10x_show_no_drift() -> None:
    """A reader that cannot be asked for its clock: reads arrive 5-80 ms after they are made,
    the first ones (a rewind of stored reads) seconds late."""
    jitter = random.Random(13)
    watch = ClockWatch("UTC", rate=10)
    backlog = [Read("chip", utc(READER_START_MS - 30_000 + n * 100)) for n in range(50)]
    watch.reads(backlog, HOST_START_MS)
    for step in range(1, 1200):
        made = HOST_START_MS + step * 100
        reader = READER_START_MS + 10 * (made - HOST_START_MS)
        read = Read("chip", utc(reader))
        watch.reads([read], made + jitter.randint(5, 80))
    assert watch.drift_ms is not None and abs(watch.drift_ms) < 500
    assert watch.drift_alarm() is None


@pytest.mark.parametrize(("rate", "drifts"), [(10.0, False), (1.0, True)],
                         ids=["at-its-rate", "at-the-hosts-rate"])
async def test_a_live_simulator_at_10x_raises_no_drift_alarm_at_its_rate(
        rate: float, drifts: bool) -> None:
    event, athletes = small_event()
    simulator = SIMULATORS["raceresult"](race_reads(event, athletes, "finish", seed=3),
                                         speed=10.0)
    settings = SessionSettings(backoff_initial_s=0.02, clock_check_s=0.1, drift_limit_ms=1000,
                               clock_rate=rate)
    session = ReaderSession(ReaderConfig("rr", "finish", "raceresult"),
                            SimTransport(simulator), DedupSink(), timezone=event.timezone,
                            settings=settings)
    simulator.start()
    session.start()
    try:
        await eventually(lambda: session.health.drift_ms is not None, what="a drift")
        if drifts:   # judged at the host's rate, 10x is 9 s of drift a second
            await eventually(lambda: "drift" in session.health.causes, what="the alarm")
            assert (session.health.drift_ms or 0) > 1000
        else:
            for _ in range(20):   # two seconds: twenty of the race's
                await asyncio.sleep(0.1)
                assert abs(session.health.drift_ms or 0) < 1000
            assert "drift" not in session.health.causes
    finally:
        await session.stop()
        await simulator.stop()


async def test_a_recording_replayed_to_its_end_is_done_not_disconnected(tmp_path: Path) -> None:
    recording = tmp_path / "finish.csv"
    recording.write_text("bib,time\n1,09:00:01.000\n2,09:00:02.000\n", encoding="utf-8")
    sink = DedupSink()
    session = ReaderSession(ReaderConfig("hand", "finish", "manual", path=str(recording)),
                            FileReplay(recording, "manual"), sink)
    session.start()
    try:
        await eventually(lambda: session.finished.is_set(), what="the end of the file")
        health = session.health.as_api()
        assert health["state"] == "done" and health["connected"] is False
        assert health["alarm"] is None and health["causes"] == {}
        assert session.health.reads == 2
    finally:
        await session.stop()
    assert session.health.as_api()["state"] == "done"
