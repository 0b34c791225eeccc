"""Two processes: one runs the core and publishes through Redis, a web-only one fans the feed
out; a gap in the sequence numbers makes the web-only process reload a snapshot. Needs a Redis
server named by GAMBERO_TEST_REDIS_URL; skipped, saying why, when it is unset or none answers."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.asyncio.client import connect

from api.server import ADMIN_ENV

from .conftest import ADMIN, EXAMPLE
from .processes import free_port, start, stop, wait_up

REDIS_URL = os.environ.get("GAMBERO_TEST_REDIS_URL", "")
"""Set by .ci/run (redis://127.0.0.1:6379/5); these tests write only under a random prefix."""
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def redis_unreachable() -> str | None:
    """Why the Redis tests cannot run, or None."""
    if not REDIS_URL:
        return ("Redis tests need GAMBERO_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/5); "
                "it is not set")
    address = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 6379),
                                      timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            if probe.recv(16).startswith(b"+PONG"):
                return None
    except OSError:
        pass
    return f"no Redis server answers at {address.hostname}:{address.port or 6379}"


pytestmark = pytest.mark.skipif(redis_unreachable() is not None,
                                reason=redis_unreachable() or "")


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    prefix = f"gambero-test-{secrets.token_hex(6)}"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}", "REDIS_URL": REDIS_URL,
           "GAMBERO_REDIS_PREFIX": prefix, ADMIN_ENV: ADMIN}
    core_port, web_port = free_port(), free_port()
    core_log, web_log = tmp_path / "core.log", tmp_path / "web.log"
    core = start(["serve", str(EXAMPLE), "--no-readers", "--port", str(core_port)], env, core_log)
    web = None
    try:
        wait_up(f"http://127.0.0.1:{core_port}", core, core_log)
        web = start(["serve", str(EXAMPLE), "--web-only", "--port", str(web_port)], env,
                    web_log)
        wait_up(f"http://127.0.0.1:{web_port}", web, web_log)
        yield f"http://127.0.0.1:{core_port}", f"http://127.0.0.1:{web_port}", prefix
    finally:
        if web is not None:
            stop(web)
        stop(core)


async def next_of(ws: Any, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return dict(message)
    return await asyncio.wait_for(wait(), timeout)


async def test_a_web_only_process_fans_out_the_core_feed_and_reloads_after_a_gap(
        two_processes: tuple[str, str, str]) -> None:
    core, web, prefix = two_processes
    async with httpx.AsyncClient() as http, \
            connect(web.replace("http", "ws") + "/ws/live") as ws:
        assert (await http.get(f"{web}/api/health")).json()["web_only"] is True
        assert (await next_of(ws, "snapshot"))["seq"] == 0
        gun = (await http.get(f"{core}/api/races")).json()[0]["waves"][0]["gun_ms"]
        answer = await http.post(f"{core}/api/readers/finish-main/reads", headers=AUTH,
                                 json={"reads": [{"chip": "058000120007",
                                                  "time_ms": gun + 400_000}]})
        seq = answer.json()["seq"]
        delta = await next_of(ws, "delta")
        assert delta["seq"] == seq and [row["bib"] for row in delta["rows"]] == ["1"]
        athlete = (await http.get(f"{web}/api/athletes/1")).json()
        assert athlete["gun_time"] == "6:40" and athlete["place"] == 1
        assert (await http.get(f"{web}/api/races/mile/results.csv")).content == (
            await http.get(f"{core}/api/races/mile/results.csv")).content
        assert (await http.get(f"{web}/api/results.csv")).content == (
            await http.get(f"{core}/api/results.csv")).content
        refused = await http.post(f"{web}/api/readers/finish-main/reads", headers=AUTH,
                                  json={"reads": []})
        assert refused.status_code == 503
        # Frames lost: a frame arrives that starts after seqs this process never saw.
        from redis.asyncio import Redis

        redis = Redis.from_url(REDIS_URL)
        try:
            # Bib 2 finishes ahead of bib 1 (delivered as usual); then a frame is published
            # that starts two sequence numbers after the last one the web process saw.
            lost = await http.post(f"{core}/api/readers/finish-main/reads", headers=AUTH,
                                   json={"reads": [{"chip": "05800012002d",
                                                    "time_ms": gun + 390_000}]})
            await next_of(ws, "delta")
            fake = {"kind": "frame", "seq": lost.json()["seq"] + 5,
                    "first_seq": lost.json()["seq"] + 3, "rows": [], "reload": [],
                    "guns": {}, "race_rows": {}}
            await redis.publish(f"{prefix}:event:1:live", json.dumps(fake))
        finally:
            await redis.aclose()
        snapshot = await next_of(ws, "snapshot")
        assert snapshot["seq"] == lost.json()["seq"]  # reloaded from the journal
        rows = {row["bib"]: row for row in snapshot["races"]["mile"]["rows"]}
        assert rows["2"]["place"] == 1 and rows["1"]["place"] == 2
        # And the feed goes on.
        later = await http.post(f"{core}/api/races/kids/gun", headers=AUTH,
                                json={"time_ms": gun, "correct": True})
        delta = await next_of(ws, "delta")
        assert delta["seq"] == later.json()["seq"] and delta["reload"] == ["kids"]
