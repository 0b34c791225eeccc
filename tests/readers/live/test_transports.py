"""Transports on real links: pyserial on a pseudo-terminal, a TCP server readers connect to,
file replay pacing; the backoff schedule; the manager adding and stopping readers live."""

from __future__ import annotations

import asyncio
import os
import time
import tty
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from readers.manager import ReaderManager, make_transport
from readers.protocols.ipico import encode_ipico
from readers.session import SessionSettings, backoff_delay
from readers.simulators import SimTransport, race_reads
from readers.simulators.vendors import UltraSimulator
from readers.transports.base import LinkDown
from readers.transports.replay import FileReplay
from readers.transports.serial import SerialPort
from readers.transports.tcp import TcpClient, TcpServer, split_address
from timing.model import ReaderConfig

from .helpers import DedupSink, eventually, small_event

T0 = datetime(2026, 5, 10, 9, 0, 0)


async def test_serial_port_reads_and_writes_a_pseudo_terminal_and_sees_it_vanish() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    port = SerialPort(os.ttyname(slave), 9600)
    assert port.address.endswith("9600 8N1")
    await port.open()
    try:
        os.write(master, b"aa01hello\r\n")
        assert await asyncio.wait_for(port.read(), 5) == b"aa01hello\r\n"
        await port.write(b"ab00000222\r\n")              # a command reaches the reader's side
        assert os.read(master, 100) == b"ab00000222\r\n"
        os.close(master)                                # the adapter is pulled out
        with pytest.raises(LinkDown):
            await asyncio.wait_for(port.read(), 5)
    finally:
        await port.close()
        os.close(slave)


async def test_serial_port_on_a_missing_device_is_a_link_down(tmp_path: Path) -> None:
    with pytest.raises(LinkDown, match="no such device"):
        await SerialPort(str(tmp_path / "ttyUSB9")).open()


async def test_tcp_server_takes_the_reader_that_connects_and_its_reconnection() -> None:
    server = TcpServer("127.0.0.1", 0)
    opening = asyncio.create_task(server.open())
    await eventually(lambda: server.port != 0, what="listening")
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await asyncio.wait_for(opening, 5)
    try:
        writer.write(b"first\n")
        assert await asyncio.wait_for(server.read(), 5) == b"first\n"
        _, again = await asyncio.open_connection("127.0.0.1", server.port)  # reader rebooted
        await asyncio.sleep(0.05)
        with pytest.raises(LinkDown, match="new connection"):
            await server.read()
        await server.close()
        await asyncio.wait_for(server.open(), 5)          # the newer connection is taken
        again.write(b"second\n")
        assert await asyncio.wait_for(server.read(), 5) == b"second\n"
        again.close()
    finally:
        writer.close()
        await server.shutdown()


async def test_tcp_server_switches_to_a_new_connection_while_the_old_one_is_silent() -> None:
    server = TcpServer("127.0.0.1", 0)
    opening = asyncio.create_task(server.open())
    await eventually(lambda: server.port != 0, what="listening")
    _, old = await asyncio.open_connection("127.0.0.1", server.port)
    await asyncio.wait_for(opening, 5)
    try:
        reading = asyncio.create_task(server.read())   # waits on the old connection ...
        await asyncio.sleep(0.05)
        assert not reading.done()
        _, new = await asyncio.open_connection("127.0.0.1", server.port)  # ... which stays open
        with pytest.raises(LinkDown, match="new connection"):
            await asyncio.wait_for(reading, 5)
        await server.close()
        await asyncio.wait_for(server.open(), 5)
        new.write(b"hello\n")
        assert await asyncio.wait_for(server.read(), 5) == b"hello\n"
        new.close()
    finally:
        old.close()
        await server.shutdown()


async def test_tcp_client_to_a_closed_port_is_a_link_down() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(LinkDown, match="cannot connect"):
        await TcpClient("127.0.0.1", port).open()


def test_addresses_and_transports_from_event_toml(tmp_path: Path) -> None:
    assert split_address("10.0.0.5:3601") == ("10.0.0.5", 3601)
    assert split_address("[::1]:23") == ("::1", 23)
    assert split_address("reader.local", 10000) == ("reader.local", 10000)
    with pytest.raises(ValueError):
        split_address("reader.local:http")
    tcp = make_transport(ReaderConfig("a", "finish", "raceresult", host="10.0.0.5"))
    assert tcp is not None and tcp.address == "10.0.0.5:3601"      # the format's usual port
    listening = make_transport(ReaderConfig("b", "finish", "ultra", host="listen:2300"))
    assert isinstance(listening, TcpServer) and listening.address.endswith("0.0.0.0:2300")
    serial = make_transport(ReaderConfig("c", "finish", "ipico", port="/dev/ttyUSB0"))
    assert serial is not None and serial.address == "/dev/ttyUSB0 9600 8N1"
    replay = make_transport(ReaderConfig("d", "finish", "ipico", path="r.txt"), tmp_path)
    assert isinstance(replay, FileReplay) and replay.path == tmp_path / "r.txt"
    assert make_transport(ReaderConfig("e", "finish", "manual")) is None  # ingest endpoint


async def test_file_replay_keeps_the_reads_pace_divided_by_the_speed(tmp_path: Path) -> None:
    lines = [encode_ipico("058000120001", T0 + timedelta(seconds=second)) for second in (0, 1, 2)]
    capture = tmp_path / "finish.txt"
    capture.write_bytes(b"ARM9 Controller banner\r\n" + b"".join(lines))
    for speed, least, most in ((10.0, 0.18, 1.5), (0.0, 0.0, 0.15)):
        replay = FileReplay(capture, "ipico", speed)
        await replay.open()
        began = time.monotonic()
        chunks = [await replay.read() for _ in range(4)]
        elapsed = time.monotonic() - began
        assert chunks[1:] == lines
        assert least <= elapsed <= most, (speed, elapsed)
        with pytest.raises(LinkDown, match="end of"):
            await replay.read()
        assert replay.ended


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_good_link() -> None:
    settings = SessionSettings(backoff_initial_s=0.5, backoff_max_s=10.0)
    assert [backoff_delay(n, settings) for n in range(8)] == \
        [0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


async def test_readers_are_added_started_and_stopped_while_the_event_runs() -> None:
    event, athletes = small_event()
    sink = DedupSink()
    settings = SessionSettings(backoff_initial_s=0.02, drift_limit_ms=10**9)
    manager = ReaderManager(sink, timezone=event.timezone,
                            settings=settings)
    first = UltraSimulator(race_reads(event, athletes, "start", seed=1), speed=300.0)
    second = UltraSimulator(race_reads(event, athletes, "finish", seed=2), speed=300.0)
    manager.add(ReaderConfig("first", "start", "ultra"), SimTransport(first))
    manager.start("first")
    first.start()
    try:
        await eventually(lambda: manager.health_of("first").reads > 5, what="first reads")
        manager.add(ReaderConfig("second", "finish", "ultra"), SimTransport(second))
        with pytest.raises(ValueError, match="already exists"):
            manager.add(ReaderConfig("second", "finish", "ultra"), SimTransport(second))
        manager.start("second")
        second.start()
        await manager.stop("first")
        stopped_at = manager.health_of("first").reads
        assert not manager.health_of("first").running
        await asyncio.wait_for(second.done.wait(), 20)
        await eventually(lambda: manager.health_of("second").reads > 20, what="second")
        await asyncio.wait_for(first.done.wait(), 20)
        assert manager.health_of("first").reads == stopped_at   # a stopped reader reads nothing
        manager.start("first")                                  # ... until started again
        await eventually(lambda: manager.health_of("first").connected, what="restarted")
        await manager.remove("first")
        assert [health.id for health in manager.health()] == ["second"]
        with pytest.raises(KeyError):
            manager.health_of("first")
    finally:
        await manager.stop_all()
        await first.stop()
        await second.stop()


async def test_a_reader_that_connects_to_us_reconnects_and_a_cut_line_is_rejected() -> None:
    event, athletes = small_event()
    lines = [encode_ipico(read.chip, read.time, "01")
             for read in race_reads(event, athletes, "finish", seed=31)]
    sink = DedupSink()
    manager = ReaderManager(sink, timezone=event.timezone,
                            settings=SessionSettings(backoff_initial_s=0.02,
                                                     drift_limit_ms=10**9))
    manager.add(ReaderConfig("box", "finish", "ipico", host="listen:127.0.0.1:0"))
    server = manager.sessions["box"].transport
    assert isinstance(server, TcpServer)
    manager.start_all()
    try:
        await eventually(lambda: server.port != 0, what="listening")
        half = len(lines) // 2
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"".join(lines[:half]) + lines[half][:20])   # the link dies mid-line
        await writer.drain()
        await eventually(lambda: len(sink.reads) == half, what="first half")
        writer.close()
        await eventually(lambda: not manager.health_of("box").connected, what="drop seen")
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"".join(lines[half:]))                      # the reader sends it again
        await writer.drain()
        await eventually(lambda: len(sink.reads) == len(lines), what="every read")
        writer.close()
    finally:
        await manager.stop_all()
    assert [record.reason for _, record in sink.rejected] == \
        ["cut off by a disconnect: bad length 20 (expected 36, or 42 with TTO)"]
    assert manager.health_of("box").reconnects == 1
