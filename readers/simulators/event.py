"""A whole simulated event: one simulated reader per configured reader whose format has a
simulator, each on its own TCP port of 127.0.0.1, all playing the same scripted race. This is
what `gambero demo` and the tests start instead of real readers:

    race = SimulatedRace(event, athletes, speed=10)
    await race.start()
    manager = ReaderManager.for_event(replace(event, readers=race.readers()), core.submit)
    ...
    race.drop("finish-main")        # a link fails
    await race.finished()           # every scripted read made
    await race.stop()
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from readers.simulators.base import SimulatedReader
from readers.simulators.links import SimTcpServer
from readers.simulators.race import race_reads
from readers.simulators.vendors import SIMULATORS
from timing.model import Athlete, Event, ReaderConfig


class SimulatedRace:
    def __init__(self, event: Event, athletes: list[Athlete], *, speed: float = 1.0,
                 garble_every: int = 0, seed: int = 1) -> None:
        self.simulators: dict[str, SimulatedReader] = {}
        self.servers: dict[str, SimTcpServer] = {}
        self._configs: dict[str, ReaderConfig] = {}
        simulated = [config for config in event.readers if config.format in SIMULATORS]
        scripts = {config.id: race_reads(event, athletes, config.point, seed=seed)
                   for config in simulated}
        firsts = [reads[0].time for reads in scripts.values() if reads]
        # One clock for all the readers, as at a real event: it starts a second before the
        # first read anywhere. (Formats without a simulator, manual, P3, LLRP, are left out.)
        clock_start = min(firsts) - timedelta(seconds=1) if firsts else None
        for config in simulated:
            simulator = SIMULATORS[config.format](scripts[config.id], speed=speed,
                                                  garble_every=garble_every,
                                                  clock_start=clock_start)
            self.simulators[config.id] = simulator
            self.servers[config.id] = SimTcpServer(simulator)
            self._configs[config.id] = config

    async def start(self) -> None:
        for server in self.servers.values():
            await server.start()
        for simulator in self.simulators.values():
            simulator.start()

    def readers(self) -> tuple[ReaderConfig, ...]:
        """The simulated readers as event.toml would declare them: `host` = their address."""
        return tuple(dataclasses.replace(config, path=None, port=None, baud=None,
                                         host=self.servers[reader_id].address)
                     for reader_id, config in self._configs.items())

    def drop(self, reader_id: str) -> None:
        self.servers[reader_id].drop()

    async def finished(self) -> None:
        await asyncio.gather(*(simulator.done.wait() for simulator in self.simulators.values()))

    async def stop(self) -> None:
        for simulator in self.simulators.values():
            await simulator.stop()
        for server in self.servers.values():
            await server.stop()


__all__ = ["SimulatedRace"]
