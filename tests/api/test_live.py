"""WS /ws/live over a real connection: snapshot, deltas, `since=` resume, race filters, health
for timekeepers, coalescing, and a client that does not read never slowing the others;
connections detached from the app under `gambero serve`'s protocol, served through ASGI
under another."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.runtime import Options
from api.server import ADMIN_ENV
from api.subscribers import Client, DirectClient

from .conftest import ADMIN, EXAMPLE, reader_file, reader_ids
from .uvicorn_server import serving

AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
async def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    options = Options(frame_interval=0.1, health_interval=0.2, outbox=8)
    async with serving(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE, options) as url:
        yield url


async def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert isinstance(message, dict)
    return message


async def receive_type(ws: ClientConnection, kind: str, timeout: float = 5.0
                       ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = await receive(ws, max(0.01, deadline - time.monotonic()))
        if message["type"] == kind:
            return message


async def finish_reads(http: httpx.AsyncClient, chips_and_offsets: list[tuple[str, int]]
                       ) -> dict[str, int]:
    gun = (await http.get("/api/races")).json()[0]["waves"][0]["gun_ms"]
    body = {"reads": [{"chip": chip, "time_ms": gun + offset}
                      for chip, offset in chips_and_offsets]}
    answer = await http.post("/api/readers/finish-main/reads", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    result: dict[str, int] = answer.json()
    return result


def ws_url(base: str, query: str = "") -> str:
    return base.replace("http://", "ws://") + "/ws/live" + (f"?{query}" if query else "")


async def test_snapshot_then_deltas_then_resume(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http, connect(ws_url(base)) as ws:
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 0
        assert set(snapshot["races"]) == {"mile", "kids"}
        assert len(snapshot["races"]["mile"]["rows"]) == 270
        assert snapshot["races"]["mile"]["gun_ms"] is not None
        # Bib 1 (chip 058000120007, elite) finishes; then bib 2 finishes ahead of her.
        first = await finish_reads(http, [("058000120007", 400_000)])
        delta = await receive_type(ws, "delta")
        assert delta["seq"] == first["seq"] and delta["first_seq"] == 1
        assert [(row["bib"], row["place"], row["gun_time"]) for row in delta["rows"]] == [
            ("1", 1, "6:40")]
        second = await finish_reads(http, [("05800012002d", 390_000)])
        delta = await receive_type(ws, "delta")
        assert delta["first_seq"] == first["seq"] + 1 and delta["seq"] == second["seq"]
        places = {row["bib"]: row["place"] for row in delta["rows"]}
        assert places == {"2": 1, "1": 2}  # bib 1 moved back a place: sent as well
    # Reconnect having seen only the first delta: what was missed, as one delta.
    async with connect(ws_url(base, f"since={first['seq']}")) as ws:
        resumed = await receive(ws)
        assert resumed["type"] == "delta" and resumed["first_seq"] == first["seq"] + 1
        assert {row["bib"]: row["place"] for row in resumed["rows"]} == {"2": 1, "1": 2}
    async with connect(ws_url(base, f"since={second['seq']}")) as ws:
        assert (await receive(ws)) == {"type": "delta", "seq": second["seq"],
                                       "first_seq": second["seq"] + 1, "rows": [],
                                       "reload": []}
    async with connect(ws_url(base, "since=999999")) as ws:
        assert (await receive(ws))["type"] == "snapshot"


async def test_race_filter_gun_reload_and_health(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        token = (await http.post("/api/tokens", headers=AUTH,
                                 json={"role": "timekeeper", "label": "t"})).json()["token"]
        async with connect(ws_url(base, f"race=kids&token={token}")) as ws, \
                connect(ws_url(base, "race=nope")) as bad:
            snapshot = await receive(ws)
            assert set(snapshot["races"]) == {"kids"}
            health = await receive_type(ws, "health")
            assert {reader["id"] for reader in health["readers"]} >= {"finish-main"}
            await finish_reads(http, [("058000120007", 400_000)])  # a mile runner
            answer = await http.post("/api/races/kids/gun", headers=AUTH,
                                     json={"time_ms": 1778400060000, "correct": True})
            assert answer.status_code == 200, answer.text
            delta = await receive_type(ws, "delta")
            while delta["seq"] < answer.json()["seq"]:
                assert delta["rows"] == [] and delta["reload"] == []  # the mile is filtered
                delta = await receive_type(ws, "delta")
            assert delta["reload"] == ["kids"]
            with pytest.raises(Exception, match="unknown race nope"):
                await receive(bad)


async def test_bursts_are_coalesced(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http, connect(ws_url(base)) as ws:
        await receive(ws)
        started = time.monotonic()
        answers = await asyncio.gather(*(
            finish_reads(http, [("058000120007", 400_000 + index * 10)]) for index in range(60)))
        elapsed = time.monotonic() - started
        last = max(answer["seq"] for answer in answers)
        frames = 0
        seq = 0
        while seq < last:
            message = await receive_type(ws, "delta")
            seq = message["seq"]
            frames += 1
        # 60 commits; at most one frame per 0.1 s interval (+1 for the first, +1 at the end).
        assert frames <= elapsed / 0.1 + 3
        assert frames < 60


async def test_a_client_that_does_not_read_never_slows_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    apps: list[Any] = []
    options = Options(frame_interval=0.02, outbox=4)
    async with serving(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE, options,
                       apps) as base:
        runtime = apps[0].state.runtime
        host, port = base.removeprefix("http://").split(":")
        stalled = socket.socket()  # a websocket client that never reads
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect((host, int(port)))
        stalled.sendall(b"GET /ws/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        b"Sec-WebSocket-Version: 13\r\n\r\n")
        try:
            async with httpx.AsyncClient(base_url=base) as http, connect(ws_url(base)) as ws:
                await receive(ws)
                for reader_id in reader_ids():
                    await http.post(f"/api/readers/{reader_id}/reads",
                                    content=reader_file(reader_id),
                                    headers={**AUTH, "Content-Type": "text/plain"})
                started = time.monotonic()
                last = 0
                leader = (await http.get("/api/races/mile/results",
                                         params={"limit": 1})).json()["rows"][0]["bib"]
                for round_number in range(60):
                    # The leader is disqualified, then not: every finisher's place moves, so
                    # each frame is large (~100 KB) and the stalled client's buffers fill.
                    status = "DQ" if round_number % 2 == 0 else None
                    answer = await http.post(f"/api/athletes/{leader}/status", headers=AUTH,
                                             json={"status": status, "reason": "test"})
                    last = answer.json()["seq"]
                    await asyncio.sleep(0.04)  # one frame each (coalesced, they would cancel)
                seq = 0
                while seq < last:
                    seq = (await receive_type(ws, "delta", timeout=5))["seq"]
                assert time.monotonic() - started < 30
                broadcaster = runtime.broadcaster
                assert broadcaster.resyncs + broadcaster.drops >= 1
                assert len(broadcaster.clients) >= 1
        finally:
            stalled.close()


async def test_ping_is_answered_and_a_bad_token_refused(base: str) -> None:
    async with connect(ws_url(base)) as ws:
        assert (await receive(ws))["type"] == "snapshot"
        await ws.send('{"type":"ping"}')
        await ws.send("not json")  # ignored
        assert (await receive_type(ws, "pong")) == {"type": "pong"}
    async with connect(ws_url(base, "token=gmb_wrong")) as ws:
        with pytest.raises(Exception, match="invalid or revoked token"):
            await receive(ws)
    async with connect(ws_url(base, f"token={ADMIN}")) as ws:  # admin: health messages too
        assert (await receive(ws))["type"] == "snapshot"
        health = await receive_type(ws, "health")
        assert health["seq"] == 0 and len(health["readers"]) == 5


async def test_gambero_serve_detaches_connections_and_compresses_each_frame_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    apps: list[Any] = []
    options = Options(frame_interval=0.05)
    async with serving(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE, options,
                       apps) as base:
        broadcaster = apps[0].state.runtime.broadcaster
        async with httpx.AsyncClient(base_url=base) as http, \
                connect(ws_url(base)) as deflate, \
                connect(ws_url(base), compression=None) as plain:
            assert deflate.response is not None and plain.response is not None
            offer = deflate.response.headers["Sec-WebSocket-Extensions"]
            assert "permessage-deflate" in offer
            assert "server_no_context_takeover" in offer
            assert "client_no_context_takeover" in offer
            assert "Sec-WebSocket-Extensions" not in plain.response.headers
            assert (await receive(deflate))["type"] == (await receive(plain))["type"] == "snapshot"
            assert len(broadcaster.clients) == 2
            assert all(isinstance(client, DirectClient) for client in broadcaster.clients)
            assert sorted(client.connection.deflate for client in broadcaster.clients) == [
                False, True]
            first = await finish_reads(http, [("058000120007", 400_000)])
            for ws in (deflate, plain):
                delta = await receive_type(ws, "delta")
                assert delta["seq"] == first["seq"] and delta["rows"][0]["bib"] == "1"
            await deflate.send('{"type":"ping"}')
            assert (await receive_type(deflate, "pong")) == {"type": "pong"}
        for _ in range(200):  # both closed: the feed forgets them (bounded wait)
            if not broadcaster.clients:
                break
            await asyncio.sleep(0.025)
        assert not broadcaster.clients


async def test_the_feed_without_detaching_under_another_websocket_protocol(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under uvicorn's own protocol (as under any ASGI server) /ws/live serves the same feed
    through ASGI, with a sender task per client."""
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    apps: list[Any] = []
    options = Options(frame_interval=0.05)
    async with serving(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE, options, apps,
                       websockets={"ws": "websockets-sansio"}) as base:
        broadcaster = apps[0].state.runtime.broadcaster
        async with httpx.AsyncClient(base_url=base) as http, connect(ws_url(base)) as ws:
            assert (await receive(ws))["type"] == "snapshot"
            assert [type(client) for client in broadcaster.clients] == [Client]
            first = await finish_reads(http, [("058000120007", 400_000)])
            delta = await receive_type(ws, "delta")
            assert delta["seq"] == first["seq"] and delta["rows"][0]["bib"] == "1"
            await ws.send('{"type":"ping"}')
            assert (await receive_type(ws, "pong")) == {"type": "pong"}
        async with connect(ws_url(base, f"since={first['seq']}")) as ws:
            assert (await receive(ws)) == {"type": "delta", "seq": first["seq"],
                                           "first_seq": first["seq"] + 1, "rows": [],
                                           "reload": []}
