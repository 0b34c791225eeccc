"""Alarms a timekeeper can act on (`GET /api/alarms`, `POST /api/alarms/{id}/acknowledge`): a
reader that connects to the server (`listen:`) and drops, a reader whose clock drifts, and
journal entries set aside. An alarm is raised, acknowledged (journaled: who and when), comes
back when worse and not otherwise, clears by itself, and its acknowledgement survives a
restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.app import create_app
from api.runtime import Options, Runtime
from api.server import ADMIN_ENV, running
from readers.session import SessionSettings
from timing.entries import add_reader, gun
from timing.model import ReaderConfig
from timing.store import Store

from ..readers.live.eventdir import write_event
from ..readers.live.helpers import small_event
from .conftest import ADMIN, EXAMPLE
from .processes import free_port

AUTH = {"Authorization": f"Bearer {ADMIN}"}
ACTOR = "admin:GAMBERO_ADMIN_TOKEN"
SETTINGS = SessionSettings(backoff_initial_s=0.05, backoff_max_s=0.2, drift_limit_ms=1000)


@dataclass
class Desk:
    client: httpx.AsyncClient
    runtime: Runtime

    async def alarms(self) -> dict[str, dict[str, Any]]:
        answer = await self.client.get("/api/alarms", headers=AUTH)
        assert answer.status_code == 200, answer.text
        return {alarm["id"]: alarm for alarm in answer.json()}

    async def acknowledge(self, alarm_id: str, status: int = 200, **body: str
                          ) -> dict[str, Any]:
        answer = await self.client.post(f"/api/alarms/{alarm_id}/acknowledge", headers=AUTH,
                                        json=body or None)
        assert answer.status_code == status, answer.text
        return dict(answer.json())

    async def until(self, alarm_id: str, present: bool = True, seconds: float = 15.0
                    ) -> dict[str, Any] | None:
        deadline = time.monotonic() + seconds
        while True:
            alarm = (await self.alarms()).get(alarm_id)
            if (alarm is not None) == present:
                return alarm
            assert time.monotonic() < deadline, f"{alarm_id} {'never' if present else 'still'}"
            await asyncio.sleep(0.05)


@pytest.fixture
def event_toml(tmp_path: Path) -> tuple[Path, int]:
    """A small event with a RACE RESULT decoder that connects to the server (port returned)."""
    port = free_port()
    _, athletes = small_event()
    toml = write_event(tmp_path / "event", athletes, [
        {"id": "gate", "point": "finish", "format": "raceresult",
         "host": f"listen:127.0.0.1:{port}"},
        {"id": "desk", "point": "finish", "format": "manual"}])
    return toml, port


@contextlib.asynccontextmanager
async def desk(url: str, toml: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Desk]:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    options = Options(live_readers=True, reader_settings=SETTINGS, health_interval=0.05)
    app = create_app(lambda: running(url, toml, options))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gambero") as client:
            yield Desk(client, app.state.runtime)


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect as the decoder does (the session may not be listening yet: try again)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the server never listened"
            await asyncio.sleep(0.05)


def clock_line(ahead_s: float) -> bytes:
    """A GETTIME reply: the decoder's clock, `ahead_s` ahead of the host's, in Rome."""
    moment = datetime.now(ZoneInfo("Europe/Rome")) + timedelta(seconds=ahead_s)
    return f"GETTIME;{moment:%Y-%m-%d};{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}\r\n" \
        .encode()


async def test_a_dropped_reader_is_acknowledged_and_back_only_when_it_drops_again(
        tmp_path: Path, event_toml: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    toml, port = event_toml
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    async with desk(url, toml, monkeypatch) as d:
        waiting = await d.until("reader:gate:link")
        assert waiting is not None
        assert (waiting["kind"], waiting["subject"], waiting["cause"]) == (
            "link", "gate", "not connected yet")
        assert waiting["acknowledged"] is None and waiting["since_ms"] is not None
        assert "desk" not in {alarm["subject"] for alarm in (await d.alarms()).values()}, \
            "hand timing has no link to lose"
        _, writer = await connect(port)
        await d.until("reader:gate:link", present=False)
        writer.close()
        dropped = await d.until("reader:gate:link")
        assert dropped is not None
        assert dropped["cause"].startswith("disconnected")
        assert dropped["clear_when"] == "the reader is connected again"
        before = int(time.time() * 1000)
        answer = await d.acknowledge("reader:gate:link", reason="cable checked")
        seen = answer["alarm"]["acknowledged"]
        assert seen["by"] == ACTOR and seen["at_ms"] >= before and seen["measure"] is None
        journal = (await d.client.get("/api/journal", params={"kind": "action"},
                                      headers=AUTH)).json()
        entry = next(item for item in journal if item["seq"] == answer["seq"])
        assert entry["actor"] == ACTOR and entry["at_ms"] == seen["at_ms"]
        assert "reader:gate:link" in entry["summary"]
        # Still down a while later: not worse, so it stays acknowledged (off the bar).
        await asyncio.sleep(0.5)
        still = (await d.alarms())["reader:gate:link"]
        assert still["acknowledged"] == seen
        await d.acknowledge("reader:gate:link", status=409)
        # It reconnects (the alarm clears) and drops again: a new occurrence, back on the bar.
        _, writer = await connect(port)
        await d.until("reader:gate:link", present=False)
        await d.acknowledge("reader:gate:link", status=409)   # known, but not active
        writer.close()
        back = await d.until("reader:gate:link")
        assert back is not None and back["acknowledged"] is None
        for unknown in ("reader:nobody:link", "reader:gate:bogus", "quarantined:999999",
                        "nonsense"):
            detail = (await d.acknowledge(unknown, status=404))["detail"]
            assert unknown in detail


async def test_drift_comes_back_only_clearly_worse(
        tmp_path: Path, event_toml: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    toml, port = event_toml
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    async with desk(url, toml, monkeypatch) as d:
        _, writer = await connect(port)
        await d.until("reader:gate:link", present=False)
        writer.write(clock_line(0))
        session = d.runtime.readers.sessions.sessions["gate"]  # type: ignore[attr-defined]
        while session.clock.first_level_ms is None:
            await asyncio.sleep(0.02)
        writer.write(clock_line(3))
        drift = await d.until("reader:gate:drift")
        assert drift is not None and 2500 <= drift["measure"] <= 3500
        assert drift["clear_when"].startswith("the drift is back under 1 s")
        answer = await d.acknowledge("reader:gate:drift")
        acknowledged = answer["alarm"]["acknowledged"]
        assert acknowledged["measure"] == drift["measure"]
        writer.write(clock_line(4))   # worse, but not clearly: stays acknowledged
        while (await d.alarms())["reader:gate:drift"]["measure"] < 3600:
            await asyncio.sleep(0.02)
        assert (await d.alarms())["reader:gate:drift"]["acknowledged"] == acknowledged
        writer.write(clock_line(5.5))   # 1.5 times and over a second more: back
        while (await d.alarms())["reader:gate:drift"]["measure"] < 5000:
            await asyncio.sleep(0.02)
        assert (await d.alarms())["reader:gate:drift"]["acknowledged"] is None
        writer.write(clock_line(0))   # the clock set right: the alarm clears by itself
        await d.until("reader:gate:drift", present=False)
        writer.close()


async def poison(url: str) -> int:
    """Two entries that cannot apply, appended behind the server's back; the first's seq."""
    store = await Store.open(url)
    try:
        event_id = next(iter((await store.event_ids()).values()))
        first = await store.last_seq(event_id) + 1
        await store.append(event_id, first, [
            add_reader(ReaderConfig("far", "finish", "ipico", clock_offset_ms=10**19)),
            gun("1k", 2**63 - 1)],
            recorded_ms=1_700_000_000_000)
        return first
    finally:
        await store.close()


async def test_set_aside_entries_and_an_acknowledgement_that_survives_a_restart(
        database_url: str, event_toml: tuple[Path, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    toml, _ = event_toml
    async with desk(database_url, toml, monkeypatch):
        pass  # the event is imported
    first = await poison(database_url)
    async with desk(database_url, toml, monkeypatch) as d:
        alarms = await d.alarms()
        aside = alarms[f"quarantined:{first}"]
        assert (aside["kind"], aside["subject"], aside["since_ms"]) == (
            "quarantined", first, 1_700_000_000_000)
        assert aside["details"]["summary"].startswith("reader:")
        assert f"journal entry {first}" in aside["cause"]
        assert f"quarantined:{first + 1}" in alarms
        seen = (await d.acknowledge(f"quarantined:{first}"))["alarm"]["acknowledged"]
    async with desk(database_url, toml, monkeypatch) as d:
        alarms = await d.alarms()
        assert alarms[f"quarantined:{first}"]["acknowledged"] == seen
        assert alarms[f"quarantined:{first + 1}"]["acknowledged"] is None
        await d.acknowledge(f"quarantined:{first}", status=409)


async def test_alarms_need_a_timekeeper(tmp_path: Path, event_toml: tuple[Path, int],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    toml, _ = event_toml
    async with desk(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", toml, monkeypatch) as d:
        assert (await d.client.get("/api/alarms")).status_code == 401
        made = await d.client.post("/api/tokens", headers=AUTH,
                                   json={"role": "reader", "reader": "gate", "label": "r"})
        token = made.json()["token"]
        answer = await d.client.post("/api/alarms/reader:gate:link/acknowledge",
                                     headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403
        long_reason = await d.client.post("/api/alarms/reader:gate:link/acknowledge",
                                          headers=AUTH, json={"reason": "x" * 100_000})
        assert long_reason.status_code == 422 and "reason" in long_reason.json()["detail"]


async def test_a_recording_replayed_to_its_end_is_done_and_raises_no_alarm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's readers are recordings (`path`): served live, each is replayed whole."""
    async with desk(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE, monkeypatch) as d:
        deadline = time.monotonic() + 30
        while True:
            readers = (await d.client.get("/api/readers", headers=AUTH)).json()
            if all(reader["state"] == "done" for reader in readers):
                break
            assert time.monotonic() < deadline, readers
            await asyncio.sleep(0.1)
        assert len(readers) == 5
        for reader in readers:
            assert (reader["transport"], reader["connected"], reader["alarm"]) == (
                "file", False, None)
            assert reader["reads"] > 0 and reader["causes"] == {}
        assert not [alarm for alarm in (await d.alarms()).values()
                    if alarm["kind"] != "quarantined"]


def test_clearly_worse_is_half_as_bad_again_and_a_second_more() -> None:
    from api.alarms import clearly_worse

    assert not clearly_worse(2999, 2000) and clearly_worse(3000, 2000)
    assert not clearly_worse(5999, 4000) and clearly_worse(6000, 4000)
    assert not clearly_worse(1499, 500) and clearly_worse(1500, 500)
    assert not clearly_worse(None, 2000) and not clearly_worse(5000, None)


def test_a_quiet_reader_is_an_alarm_until_it_reads_again_and_back_when_quiet_again() -> None:
    from api.alarms import QUIET_MS, AlarmBoard, reader_alarms
    from api.readers import ReaderHealth

    def health(last_read_ms: int, **extra: Any) -> ReaderHealth:
        fields: dict[str, Any] = {
            "id": "gate", "point": "finish", "format": "ipico", "transport": "tcp",
            "connected": True, "since_ms": 0, "last_read_ms": last_read_ms, "reads_per_s": 0.0,
            "reads": 5, "duplicates": 0, "rejected": 0, "clock_offset_ms": None,
            "drift_ms": None, "alarm": None, "state": "connected", "connected_ms": 0, **extra}
        return ReaderHealth(**fields)

    now = 10 * QUIET_MS
    read_at = now - QUIET_MS - 60_000
    assert [a.id for a in reader_alarms(health(now - QUIET_MS + 1), now)] == []
    quiet = reader_alarms(health(read_at), now)
    assert [(a.id, a.since_ms, a.cause) for a in quiet] == [
        ("reader:gate:quiet", read_at, "no reads for 6 min")]
    assert reader_alarms(health(read_at, format="manual"), now) == [], "hand timing"
    assert reader_alarms(health(read_at, state="done"), now) == []
    down = {"link": {"text": "disconnected: x", "since_ms": 5, "measure": None,
                     "clear_when": "the reader is connected again"}}
    assert [a.kind for a in reader_alarms(health(read_at, causes=down, state="disconnected",
                                                 connected=False), now)] == ["link"]
    board = AlarmBoard()
    board.acknowledge(quiet[0], "admin:desk", now)
    assert board.shown(reader_alarms(health(read_at), now + 60_000))[0].acknowledged is not None
    later = now + 2 * QUIET_MS   # it read again after the acknowledgement, then went quiet again
    back = board.shown(reader_alarms(health(now + 1000), later))
    assert [(a.id, a.acknowledged) for a in back] == [("reader:gate:quiet", None)]
