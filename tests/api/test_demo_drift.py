"""The demo's simulated readers run the race at 10x: their clocks are judged at that rate, so
they show no drift and raise no clock alarm (they used to show 1,080 s of drift after two
minutes). The demo's race and settings, in-process, with the clocks asked often."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import time
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running
from gambero.demo import TIMEZONE, reader_settings, write_event_toml, write_participants
from gambero.demo_race import SimulatedDemoRace, plan

from .conftest import ADMIN

AUTH = {"Authorization": f"Bearer {ADMIN}"}
SPEED = 10.0


async def test_the_demos_readers_show_no_drift_at_10x(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    write_participants(tmp_path, 30)
    with (tmp_path / "participants.csv").open(encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    race = SimulatedDemoRace(plan(rows), SPEED, TIMEZONE, delay_s=1.0)
    settings = dataclasses.replace(reader_settings(SPEED), clock_check_s=0.2)
    assert settings.clock_rate == SPEED and settings.drift_limit_ms == 1000
    event = write_event_toml(tmp_path, await race.open())
    url = f"sqlite+aiosqlite:///{tmp_path / 'gambero.db'}"
    app = create_app(lambda: running(url, event, Options(live_readers=True,
                                                         reader_settings=settings)))
    try:
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                       base_url="http://gambero")
            runner = asyncio.create_task(race.run(app.state.runtime))
            simulated = {"start-mat", "half-box", "finish-main"}
            deadline = time.monotonic() + 4.0   # 40 s of race: 36 s of drift at the host's rate
            measured: dict[str, int] = {}
            while time.monotonic() < deadline:
                readers = (await client.get("/api/readers", headers=AUTH)).json()
                for reader in readers:
                    if reader["id"] in simulated and reader["drift_ms"] is not None:
                        measured[reader["id"]] = reader["drift_ms"]
                        assert abs(reader["drift_ms"]) < 1000, reader
                alarms = (await client.get("/api/alarms", headers=AUTH)).json()
                assert not [alarm for alarm in alarms if alarm["kind"] in ("clock", "drift")]
                await asyncio.sleep(0.2)
            assert set(measured) == simulated
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await client.aclose()
    finally:
        await race.close()
