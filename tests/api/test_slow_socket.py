"""A websocket client that stops reading altogether (its socket buffers full) is dropped, its
connection aborted after the close timeout, and the server still stops: it can hold neither
memory nor shutdown for ever. Real uvicorn on 127.0.0.1, a raw socket that never reads."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.runtime import Options
from api.server import ADMIN_ENV

from .conftest import ADMIN, EXAMPLE, reader_file, reader_ids
from .uvicorn_server import serving

AUTH = {"Authorization": f"Bearer {ADMIN}"}
HANDSHAKE = (b"GET /ws/live HTTP/1.1\r\nHost: gambero\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             b"Sec-WebSocket-Version: 13\r\n\r\n")


async def test_a_client_that_never_reads_is_dropped_and_let_go(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    apps: list[Any] = []
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        async with serving(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE,
                           Options(frame_interval=0.02, outbox=4), apps) as base:
            runtime = apps[0].state.runtime
            host, port = base.removeprefix("http://").split(":")
            silent.connect((host, int(port)))
            silent.sendall(HANDSHAKE)
            for _ in range(100):
                if runtime.broadcaster.clients:
                    break
                await asyncio.sleep(0.05)
            client = next(iter(runtime.broadcaster.clients))
            connection = client.connection
            connection.close_timeout = 0.5
            async with httpx.AsyncClient(base_url=base) as http:
                for reader in reader_ids():
                    await http.post(f"/api/readers/{reader}/reads", content=reader_file(reader),
                                    headers={**AUTH, "Content-Type": "text/plain"})
                leader = (await http.get("/api/races/mile/results",
                                         params={"limit": 1})).json()["rows"][0]["bib"]
                for number in range(200):  # changes that shift places: frames for everyone
                    await http.post(f"/api/athletes/{leader}/status", headers=AUTH, json={
                        "status": "DQ" if number % 2 == 0 else None, "reason": "test"})
                    await asyncio.sleep(0.02)
                    if client.dropped:
                        break
            assert client.dropped
            for _ in range(100):
                if connection.disconnected:
                    break
                await asyncio.sleep(0.05)
            assert connection.disconnected  # aborted, though it never read its close frame
        # leaving `serving` stopped the server within its 15 s bound
    finally:
        silent.close()
