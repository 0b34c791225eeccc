"""The soak of issue 12: for half a minute a scripted race goes on while random valid and
invalid requests of every role and a reader sending garbage hit a running `gambero serve`.
Afterwards no request was answered with a 5xx, every acknowledged read is in the results and
the journal exactly once, Ctrl-C stops the server cleanly, it starts again with the same
results, and those equal a rebuild from the journal. (`bench/soak.py` runs it for longer.)"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.api.processes import free_port, start, stop, wait_up
from tests.soak import FINISH_READER, GARBAGE_READER, Athlete, Soak
from tests.store.events import copy_example
from timing.entries import ReadEntry, apply_all
from timing.eventfile import load_event
from timing.results import results_csv
from timing.standings import Standings
from timing.store import Store

ADMIN = "gmb_soak-admin-token-0123456789"
SECONDS = float(os.environ.get("GAMBERO_SOAK_SECONDS", "30"))
FINISH_FROM_MS = 1778397000000  # 2026-05-10 09:10 in Rome, after both mile guns


def tokens(base: str) -> dict[str, str]:
    made = {"admin": ADMIN}
    for name, role, reader in (("timekeeper", "timekeeper", None),
                               ("reader", "reader", GARBAGE_READER),
                               ("finish", "reader", FINISH_READER)):
        answer = httpx.post(f"{base}/api/tokens", json={"role": role, "reader": reader,
                                                        "label": f"soak {name}"},
                            headers={"authorization": f"Bearer {ADMIN}"}, timeout=10)
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["token"]
    return made


def race_csvs(base: str) -> dict[str, str]:
    return {race: httpx.get(f"{base}/api/races/{race}/results.csv", timeout=30).text
            for race in ("mile", "kids")}


async def journal_and_rebuild(database: Path) -> tuple[Counter[tuple[str, str, int]], str]:
    """(how often each read is in the journal, the results CSV of a rebuild from it)."""
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    try:
        event_id = next(iter((await store.event_ids()).values()))
        loaded = await store.load(event_id)
        standings = Standings(loaded.event, loaded.athletes, loaded.adjustments)
        reads: Counter[tuple[str, str, int]] = Counter()
        async for batch in store.replay(event_id):
            apply_all(standings, batch, settle=False)
            for item in batch:
                if isinstance(item.entry, ReadEntry):
                    read = item.entry.read
                    reads[(item.entry.reader_id, read.chip, int(read.time.timestamp() * 1000))
                          ] += 1
        standings.settle()
        return reads, results_csv(standings.event, standings.results())
    finally:
        await store.close()


def test_soak(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    files = load_event(event)
    athletes = [Athlete(a.bib, a.chips[0]) for a in files.athletes if a.race == "mile"]
    others = [a.bib for a in files.athletes if a.race == "kids"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    command = ["serve", str(event), "--no-readers", "--port", str(port)]
    env = {"GAMBERO_ADMIN_TOKEN": ADMIN}
    process = start(command, env, log)
    try:
        wait_up(base, process, log)
        soak = Soak(base, tokens(base), athletes, others, FINISH_FROM_MS)
        report = asyncio.run(soak.run(SECONDS))
        print(report.summary())
        assert report.failures == [], "\n".join(report.failures[:20])
        assert len(report.acknowledged) > 50 and report.requests > 300
        assert report.garbage_rejected > 0
        rows = {row["bib"]: row for row in httpx.get(
            f"{base}/api/races/mile/results", params={"limit": 1000}, timeout=30).json()["rows"]}
        for bib, moment in report.acknowledged.items():
            assert rows[bib]["passings_ms"] == [moment], (bib, rows[bib])
        admin = {"authorization": f"Bearer {ADMIN}"}
        assert httpx.get(f"{base}/api/quarantined", headers=admin, timeout=10).json() == []
        before = race_csvs(base)
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(45) == 0, log.read_text()[-3000:]
        assert time.monotonic() - stopping < 40
    finally:
        stop(process)
    reads, rebuilt = asyncio.run(journal_and_rebuild(event.parent / "gambero.db"))
    for bib, moment in report.acknowledged.items():
        chip = next(athlete.chip for athlete in athletes if athlete.bib == bib)
        assert reads[(FINISH_READER, chip, moment)] == 1, bib
    header = before["mile"].splitlines(keepends=True)[0]
    assert rebuilt == header + "".join(text.split("\n", 1)[1] for text in before.values())
    process = start(command, env, log)
    try:
        wait_up(base, process, log)
        assert race_csvs(base) == before
        assert httpx.get(f"{base}/api/quarantined", headers=admin, timeout=10).json() == []
    finally:
        stop(process)
