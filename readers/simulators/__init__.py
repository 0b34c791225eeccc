"""Simulated chip readers speaking the real wire formats, for tests and the demo race.

    reads = race_reads(event, athletes, "finish", seed=7)       # a scripted race at one mat
    simulator = UltraSimulator(reads, speed=20, garble_every=50)
    server = SimTcpServer(simulator); await server.start()      # a reader on 127.0.0.1:port
    simulator.start()                                           # the race runs
    ...; server.drop()                                          # the link fails mid-race
    await simulator.done.wait(); await server.stop()

`SimulatedRace(event, athletes, speed=…)` runs one simulator per configured reader, each on a
TCP port (the demo race). `simulate(event, athletes, reader_config, …)` builds the right
simulator for a configured reader's format. `SimPty` serves a simulator on a pseudo-terminal
behind a stable path, for the serial side; `SimTransport` hands one to a session directly.
"""

from __future__ import annotations

from readers.simulators.base import NOISE, SimulatedReader
from readers.simulators.event import SimulatedRace
from readers.simulators.links import SimPty, SimTcpServer, SimTransport
from readers.simulators.race import ChipRead, race_reads
from readers.simulators.vendors import (
    SIMULATORS,
    IpicoSimulator,
    RaceResultSimulator,
    UltraSimulator,
)
from timing.model import Athlete, Event, ReaderConfig


def simulate(event: Event, athletes: list[Athlete], reader: ReaderConfig, *, speed: float = 1.0,
             garble_every: int = 0, seed: int = 1) -> SimulatedReader:
    """A simulator for `reader` (its format and point) playing the event's scripted race."""
    try:
        simulator_class = SIMULATORS[reader.format]
    except KeyError:
        raise ValueError(f"no simulator for format {reader.format!r} "
                         f"(simulated: {', '.join(SIMULATORS)})") from None
    reads = race_reads(event, athletes, reader.point, seed=seed)
    return simulator_class(reads, speed=speed, garble_every=garble_every)


__all__ = ["NOISE", "SIMULATORS", "ChipRead", "IpicoSimulator", "RaceResultSimulator",
           "SimPty", "SimTcpServer", "SimTransport", "SimulatedRace", "SimulatedReader",
           "UltraSimulator",
           "race_reads", "simulate"]
