"""Readers over real links (pseudo-terminals opened by pyserial, TCP on 127.0.0.1) into the
real timing core on SQLite: unplug and plug back, dropped connections, and a whole race by
three readers at once whose results equal `gambero score` over the same reads."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from gambero.offline import score_event
from readers.manager import ReaderManager
from readers.session import SessionSettings
from readers.simulators import SimPty, SimTcpServer, SimulatedReader, simulate
from timing.core import TimingCore
from timing.eventfile import load_event
from timing.results import results_csv
from timing.store import Store

from .eventdir import write_event
from .helpers import eventually, small_event

FAST = SessionSettings(backoff_initial_s=0.05, backoff_max_s=0.2, drift_limit_ms=10**9)
SPEED = 120.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gambero.db'}")
    try:
        yield opened
    finally:
        await opened.close()


async def start_core(store: Store, event_toml: Path) -> TimingCore:
    report = await store.import_event(load_event(event_toml), str(event_toml))
    return await TimingCore.start(store, report.event_id)


def distinct_reads(simulator: SimulatedReader) -> int:
    """How many different reads (chip, time as the wire writes it) the reader made."""
    from readers.protocols import make_parser
    from timing.reads import Read

    records = make_parser(simulator.format).feed(simulator.capture())
    return len({(r.chip, r.time) for r in records if isinstance(r, Read)})


async def test_serial_reader_unplugged_mid_race_and_plugged_back(store: Store,
                                                               tmp_path: Path) -> None:
    event, athletes = small_event()
    device = tmp_path / "ttyFINISH"              # a stable name, as /dev/serial/by-id gives
    toml = write_event(tmp_path / "event", athletes, [
        {"id": "finish", "point": "finish", "format": "ipico", "port": str(device)}])
    simulator = simulate(event, athletes, load_event(toml).event.readers[0], speed=SPEED)
    pty = SimPty(simulator, device)
    pty.plug()
    core = await start_core(store, toml)
    manager = ReaderManager.for_event(core.event, core.submit, settings=FAST)
    assert manager.health_of("finish").transport == "serial"
    manager.start_all()
    simulator.start()
    try:
        await eventually(lambda: manager.health_of("finish").reads > 10, what="first reads")
        pty.unplug()                                              # the cable is pulled
        await eventually(lambda: not manager.health_of("finish").connected, what="noticed")
        missed_from = len(simulator.memory)
        # Ten reads missed, or fewer if the race ends first (a busy machine is slow to notice)
        await eventually(lambda: len(simulator.memory) > missed_from + 10
                         or simulator.done.is_set(), what="reads missed")
        assert len(simulator.memory) > missed_from
        pty.plug()                                                # ... and plugged back
        await asyncio.wait_for(simulator.done.wait(), 30)
        want = distinct_reads(simulator)
        await eventually(lambda: manager.health_of("finish").reads == want, what="all reads")
    finally:
        await manager.stop_all()
        await simulator.stop()
        pty.unplug()
        await core.stop()
    health = manager.health_of("finish")
    assert await store.count(core.event_id, "read") == want       # every read, once
    assert health.reconnects >= 1 and health.rewinds >= 1
    assert health.duplicates > 0                                  # the download repeated some


async def test_tcp_reader_drops_the_connection_and_the_rewind_fills_the_gap(
        store: Store, tmp_path: Path) -> None:
    event, athletes = small_event()
    from timing.model import ReaderConfig

    simulator = simulate(event, athletes, ReaderConfig("x", "finish", "ultra"), speed=SPEED)
    server = SimTcpServer(simulator)
    await server.start()
    toml = write_event(tmp_path / "event", athletes, [
        {"id": "finish", "point": "finish", "format": "ultra", "host": server.address}])
    core = await start_core(store, toml)
    manager = ReaderManager.for_event(core.event, core.submit, settings=FAST)
    manager.start_all()
    simulator.start()
    try:
        for drop in (1, 2):
            mark = drop * len(simulator.reads) // 3
            await eventually(lambda: len(simulator.memory) > mark,  # noqa: B023 (awaited now)
                             what=f"drop {drop}")
            server.drop()
        await asyncio.wait_for(simulator.done.wait(), 30)
        want = distinct_reads(simulator)
        await eventually(lambda: manager.health_of("finish").reads == want, what="all reads")
    finally:
        await manager.stop_all()
        await simulator.stop()
        await server.stop()
        await core.stop()
    assert server.connections >= 3
    assert await store.count(core.event_id, "read") == want


async def test_three_readers_with_drops_give_the_results_of_gambero_score(
        store: Store, tmp_path: Path) -> None:
    """The issue's "done means": serial + two TCP readers at once, links failing mid-race;
    the live standings equal `gambero score` over the reads the readers made."""
    event, athletes = small_event(count=24)
    from timing.model import ReaderConfig

    sims = {
        "start-rr": simulate(event, athletes, ReaderConfig("", "start", "raceresult"),
                             speed=SPEED, garble_every=17, seed=11),
        "finish-ipico": simulate(event, athletes, ReaderConfig("", "finish", "ipico"),
                                 speed=SPEED, garble_every=13, seed=12),
        "finish-ultra": simulate(event, athletes, ReaderConfig("", "finish", "ultra"),
                                 speed=SPEED, garble_every=19, seed=13),
    }
    rr_server, ultra_server = SimTcpServer(sims["start-rr"]), SimTcpServer(sims["finish-ultra"])
    await rr_server.start()
    await ultra_server.start()
    pty = SimPty(sims["finish-ipico"], tmp_path / "ttyIPICO")
    pty.plug()
    toml = write_event(tmp_path / "live", athletes, [
        {"id": "start-rr", "point": "start", "format": "raceresult", "host": rr_server.address},
        {"id": "finish-ipico", "point": "finish", "format": "ipico", "port": str(pty.path)},
        {"id": "finish-ultra", "point": "finish", "format": "ultra",
         "host": ultra_server.address}])
    core = await start_core(store, toml)
    manager = ReaderManager.for_event(core.event, core.submit, settings=FAST)
    manager.start_all()
    for simulator in sims.values():
        simulator.start()
    try:
        half = {name: len(sim.reads) // 2 for name, sim in sims.items()}
        await eventually(lambda: len(sims["start-rr"].memory) > half["start-rr"], what="rr")
        rr_server.drop()
        await eventually(lambda: len(sims["finish-ipico"].memory) > half["finish-ipico"],
                         what="ipico half")
        pty.unplug()
        ultra_server.drop()
        await asyncio.sleep(0.3)
        pty.plug()
        await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in sims.values())), 40)
        want = {name: distinct_reads(sim) for name, sim in sims.items()}
        await eventually(lambda: all(manager.health_of(name).reads == count
                                     for name, count in want.items()), what="every read")
        live = results_csv(core.event, core.standings.results())
        health = {item.id: item for item in manager.health()}
    finally:
        await manager.stop_all()
        for simulator in sims.values():
            await simulator.stop()
        await rr_server.stop()
        await ultra_server.stop()
        pty.unplug()
        await core.stop()
    # The same reads, as files, scored offline.
    folder = tmp_path / "offline"
    readers = []
    for name, simulator in sims.items():
        (folder / "reads").mkdir(parents=True, exist_ok=True)
        (folder / "reads" / f"{name}.txt").write_bytes(simulator.capture())
        config = next(r for r in core.event.readers if r.id == name)
        readers.append({"id": name, "point": config.point, "format": config.format,
                        "path": f"reads/{name}.txt"})
    offline = write_event(folder, athletes, readers)
    report = score_event(offline)
    assert report.rejected == 0
    expected = results_csv(report.files.event, report.standings.results())
    assert live == expected
    assert expected.count("\n") == 25 and ",FIN," in expected      # 24 athletes, timed
    for name, simulator in sims.items():
        assert health[name].rejected >= simulator.garbled            # each garbled line
        assert health[name].reconnects >= 1
    assert await store.count(core.event_id, "read") == sum(want.values())


async def test_after_a_restart_of_gambero_the_readers_resume_from_the_journal(
        store: Store, tmp_path: Path) -> None:
    """Gambero stops mid-race (the readers keep reading) and starts again: RACE RESULT and
    Ultra are rewound from the last record numbers in the journal; every read is there once."""
    event, athletes = small_event()
    from timing.model import ReaderConfig

    sims = {"rr": simulate(event, athletes, ReaderConfig("", "finish", "raceresult"),
                           speed=SPEED, seed=21),
            "ultra": simulate(event, athletes, ReaderConfig("", "finish", "ultra"),
                              speed=SPEED, seed=22)}
    commands: dict[str, list[bytes]] = {name: [] for name in sims}
    for name, simulator in sims.items():
        heard = simulator.command

        def command(data: bytes, heard: Callable[[bytes], None] = heard,
                    log: list[bytes] = commands[name]) -> None:
            log.append(data)
            heard(data)

        simulator.command = command  # type: ignore[method-assign]
    servers = {name: SimTcpServer(sim) for name, sim in sims.items()}
    for server in servers.values():
        await server.start()
    toml = write_event(tmp_path / "event", athletes, [
        {"id": "rr", "point": "finish", "format": "raceresult", "host": servers["rr"].address},
        {"id": "ultra", "point": "finish", "format": "ultra",
         "host": servers["ultra"].address}])
    core = await start_core(store, toml)
    manager = ReaderManager.for_event(core.event, core.submit, settings=FAST)
    manager.start_all()
    for simulator in sims.values():
        simulator.start()
    try:
        await eventually(lambda: all(manager.health_of(name).reads > 10 for name in sims),
                         what="first reads")
        await manager.stop_all()                         # Gambero goes down ...
        await core.stop()
        down_at = {name: len(sim.memory) for name, sim in sims.items()}
        await eventually(lambda: all(len(sims[name].memory) > down_at[name] + 5
                                     for name in sims), what="reads while down")
        restart_at = {name: len(commands[name]) for name in sims}
        restarted = await TimingCore.start(store, core.event_id)   # ... and comes back
        last = await store.last_reader_sequences(core.event_id)
        assert set(last) == {"rr", "ultra"}
        again = ReaderManager.for_event(restarted.event, restarted.submit, settings=FAST)
        again.resume(last)
        again.start_all()
        try:
            await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in sims.values())), 30)
            want = {name: distinct_reads(sim) for name, sim in sims.items()}
            await eventually(lambda: all(again.health_of(name).reads
                                         + manager.health_of(name).reads == count
                                         for name, count in want.items()), what="every read")
            # The rewinds started after what the journal had, never at or before it (that
            # would repeat the first run's reads). Counting duplicates would not show this:
            # an Ultra's gap rewinds repeat reads made while Gambero was down.
            firsts = {name: [int(match) for match in re.findall(pattern, b"".join(
                          commands[name][restart_at[name]:]).decode())]
                      for name, pattern in (("rr", r"(\d+):\d+"), ("ultra", r"8(\d+),"))}
            assert firsts["rr"] and min(firsts["rr"]) == last["rr"] + 1
            assert firsts["ultra"] and min(firsts["ultra"]) == last["ultra"] + 1
        finally:
            await again.stop_all()
            await restarted.stop()
    finally:
        for simulator in sims.values():
            await simulator.stop()
        for server in servers.values():
            await server.stop()
    assert await store.count(core.event_id, "read") == sum(want.values())

