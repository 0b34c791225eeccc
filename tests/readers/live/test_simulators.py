"""The simulators: real wire formats (every line they write parses), repeated reads per
crossing, garbling that is always rejected, and a whole simulated event on TCP."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import timedelta

from readers.manager import ReaderManager
from readers.protocols import make_parser
from readers.session import SessionSettings
from readers.simulators import NOISE, SimulatedRace, race_reads
from readers.simulators.vendors import SIMULATORS, UltraSimulator
from timing.model import ReaderConfig
from timing.reads import Read, Rejected

from .helpers import EVENT_DATE, DedupSink, eventually, small_event


def test_scripted_reads_repeat_each_crossing_and_cover_every_athlete() -> None:
    event, athletes = small_event()
    reads = race_reads(event, athletes, "finish", seed=9)
    per_chip = Counter(read.chip for read in reads)
    assert set(per_chip) == {athlete.chips[0] for athlete in athletes}
    assert all(2 <= count <= 5 for count in per_chip.values())
    assert reads == sorted(reads, key=lambda read: (read.time, read.chip))
    assert race_reads(event, athletes, "finish", seed=9) == reads      # scripted: repeatable
    assert all(read.time.date() == EVENT_DATE for read in reads)


def test_every_format_writes_what_its_parser_reads_and_garbles_into_rejections() -> None:
    event, athletes = small_event()
    reads = race_reads(event, athletes, "finish", seed=10)
    for name, simulator_class in SIMULATORS.items():
        simulator = simulator_class(reads)
        simulator.memory = list(reads)
        stream = b"".join((simulator.live_line(n) or simulator.stored_line(n))
                          for n in range(len(reads)))
        records = make_parser(name).feed(stream)
        assert all(isinstance(record, Read) for record in records), name
        assert [record.chip for record in records if isinstance(record, Read)] == \
            [read.chip for read in reads], name
        garbled = simulator.garble(simulator.stored_line(0)) + NOISE
        outcome = make_parser(name).feed(garbled)
        assert len(outcome) == 2 and all(isinstance(r, Rejected) for r in outcome), name


async def test_a_simulated_race_serves_every_configured_reader_on_tcp() -> None:
    configs = (ReaderConfig("start", "start", "raceresult", path="start.txt"),
               ReaderConfig("finish", "finish", "ipico", port="/dev/ttyUSB0"),
               ReaderConfig("hand", "finish", "manual"))
    event, athletes = small_event(configs)
    race = SimulatedRace(event, athletes, speed=300.0)
    await race.start()
    sink = DedupSink()
    live = dataclasses.replace(event, readers=race.readers())
    assert [(r.id, r.host is not None, r.port, r.path) for r in live.readers] == \
        [("start", True, None, None), ("finish", True, None, None)]
    manager = ReaderManager.for_event(live, sink, settings=SessionSettings(drift_limit_ms=10**9))
    manager.start_all()
    try:
        await eventually(lambda: manager.health_of("finish").reads > 5, what="reads")
        race.drop("finish")
        await asyncio.wait_for(race.finished(), 20)
        totals = {}
        for name, simulator in race.simulators.items():  # as the wire wrote them
            records = make_parser(simulator.format).feed(simulator.capture())
            totals[name] = len({(r.chip, r.time) for r in records if isinstance(r, Read)})
        await eventually(lambda: all(manager.health_of(name).reads == total
                                     for name, total in totals.items()), what="all reads")
    finally:
        await manager.stop_all()
        await race.stop()
    assert manager.health_of("finish").reconnects >= 1


def test_the_readers_of_a_simulated_race_share_one_clock() -> None:
    configs = (ReaderConfig("start", "start", "raceresult"),
               ReaderConfig("finish", "finish", "ultra"))
    event, athletes = small_event(configs)
    race = SimulatedRace(event, athletes)
    starts = {simulator.clock_start for simulator in race.simulators.values()}
    assert len(starts) == 1
    first_read = min(sim.reads[0].time for sim in race.simulators.values())
    assert starts == {first_read - timedelta(seconds=1)}


def test_the_ultra_simulator_answers_the_rewind_the_dialect_sends() -> None:
    from readers.dialects import ultra_rewind

    event, athletes = small_event()
    simulator = SIMULATORS["ultra"](race_reads(event, athletes, "finish", seed=12))
    simulator.memory = list(simulator.reads[:10])
    first = UltraSimulator.first_log_id
    for last, want in ((first + 4, [first + 2, first + 3, first + 4]),
                       (None, list(range(first + 7, first + 10)))):
        start = first + 2 if last is not None else first + 7
        answers = simulator.on_command(ultra_rewind(start, last))
        records = make_parser("ultra").feed(b"".join(answers))
        assert [record.sequence for record in records if isinstance(record, Read)] == want


def test_lines_are_split_on_cr_or_lf_and_noise_without_a_line_end_is_dropped() -> None:
    from readers.lines import LineSplitter

    lines = LineSplitter(limit=8)
    assert lines.feed(b"PASS") == []
    assert lines.feed(b"INGS\r\n\r\n  \n12;3\rGET") == ["PASSINGS", "12;3"]
    assert lines.feed(b"x" * 50 + b"\nOK\n") == ["OK"]        # the over-long run is dropped
    assert lines.feed(b"\xe9t\xe9\n") == ["\xe9t\xe9"]          # latin-1, never an error
