"""`gambero serve` runs the readers event.toml links: simulated readers on 127.0.0.1 are
connected as real ones would be, their health is on the API, a reader added through the API
connects at once, a stopped one lets go of its link, and the results equal `gambero score`
over what the readers made."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running
from gambero.offline import score_event
from readers.session import SessionSettings
from readers.simulators import SimTcpServer, simulate
from timing.eventfile import load_event
from timing.model import ReaderConfig
from timing.results import results_csv

from ..readers.live.eventdir import write_event
from ..readers.live.helpers import small_event
from ..readers.live.test_live_race import distinct_reads
from .conftest import ADMIN

FAST = SessionSettings(backoff_initial_s=0.05, backoff_max_s=0.2, drift_limit_ms=10**9)
AUTH = {"Authorization": f"Bearer {ADMIN}"}


async def until(check: Callable[[], Awaitable[Any]], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def test_serve_runs_the_readers_event_toml_links(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    start_config = ReaderConfig("start-box", "start", "raceresult")
    finish_config = ReaderConfig("finish-box", "finish", "ultra")
    event, athletes = small_event((start_config, finish_config))
    start_sim = simulate(event, athletes, start_config, speed=120)
    finish_sim = simulate(event, athletes, finish_config, speed=120, garble_every=7)
    links = {name: SimTcpServer(sim) for name, sim in (("start", start_sim),
                                                      ("finish", finish_sim))}
    for link in links.values():
        await link.start()
    toml = write_event(tmp_path / "event", athletes, [
        {"id": "start-box", "point": "start", "format": start_config.format,
         "host": links["start"].address},
        {"id": "desk", "point": "finish", "format": "manual"}])
    url = f"sqlite+aiosqlite:///{tmp_path / 'gambero.db'}"
    app = create_app(lambda: running(url, toml, Options(live_readers=True,
                                                        reader_settings=FAST)))
    try:
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                       base_url="http://gambero")

            async def reader(reader_id: str) -> dict[str, Any]:
                answer = await client.get(f"/api/readers/{reader_id}", headers=AUTH)
                assert answer.status_code == 200, answer.text
                return dict(answer.json())

            start_sim.start()
            assert (await until(lambda: reader("start-box")))["connected"]
            desk = await reader("desk")
            assert (desk["transport"], desk["connected"]) == ("ingest", False)
            added = await client.post("/api/readers", headers=AUTH, json={
                "id": "finish-box", "point": "finish", "format": finish_config.format,
                "host": links["finish"].address})
            assert added.status_code == 201, added.text
            assert added.json()["transport"] == "tcp"
            finish_sim.start()

            async def reading(reader_id: str) -> bool:
                health = await reader(reader_id)
                return bool(health["connected"] and health["reads"] > 0)

            assert await until(lambda: reading("finish-box"))
            links["finish"].drop()  # a link failure mid-race: caught up after the reconnect
            await start_sim.done.wait()
            await finish_sim.done.wait()

            async def caught_up() -> bool:
                start, finish = await reader("start-box"), await reader("finish-box")
                return bool(start["reads"] == distinct_reads(start_sim)
                        and finish["reads"] == distinct_reads(finish_sim)
                        and finish["rejected"] >= 1)

            assert await until(caught_up), await reader("finish-box")
            assert links["finish"].connections >= 2
            stopped = await client.post("/api/readers/finish-box/stop", headers=AUTH)
            assert stopped.json()["connected"] is False and stopped.json()["running"] is False
            assert await until(lambda: _false(finish_sim.attached))  # the link is let go
            refused = await client.post("/api/readers/finish-box/reads", headers=AUTH,
                                        json={"reads": []})
            assert refused.status_code == 409
            outside = await client.post("/api/readers", headers=AUTH, json={
                "id": "sneaky", "point": "finish", "format": "ipico", "path": "../../x.txt"})
            assert outside.status_code == 422 and "event's folder" in outside.json()["detail"]
            token = await client.post("/api/tokens", headers=AUTH, json={
                "role": "reader", "reader": "finish-box", "label": "added live"})
            assert token.status_code == 201, token.text
            served_csv = (await client.get("/api/races/1k/results.csv")).text
            await client.aclose()
    finally:
        for link in links.values():
            await link.simulator.stop()
            await link.stop()
    # The same reads scored offline: each reader's whole memory as a file.
    folder = tmp_path / "offline"
    (folder / "reads").mkdir(parents=True)
    (folder / "reads" / "start.txt").write_bytes(start_sim.capture())
    (folder / "reads" / "finish.txt").write_bytes(finish_sim.capture())
    offline = write_event(folder, athletes, [
        {"id": "start-box", "point": "start", "format": start_config.format,
         "path": "reads/start.txt"},
        {"id": "finish-box", "point": "finish", "format": finish_config.format,
         "path": "reads/finish.txt"}])
    report = score_event(offline)
    assert served_csv == results_csv(report.files.event, report.standings.results())
    assert served_csv.count(",FIN,") == len(athletes)
    assert load_event(toml).event.readers[0].host == links["start"].address


async def _false(value: bool) -> bool:
    return not value
