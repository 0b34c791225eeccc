"""`gambero demo` as a user runs it: a subprocess that serves a live race; finishers appear
through the API within a bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from .processes import free_port, start, stop, wait_up


def test_demo_reaches_finishers_through_the_api(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    demo = start(["demo", "--port", str(port), "--speed", "60", "--athletes", "80",
                  "--dir", str(tmp_path / "event")], {}, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, demo, log)
        deadline = time.monotonic() + 60
        finishers = 0
        while time.monotonic() < deadline and finishers < 5:
            races = httpx.get(f"{base}/api/races", timeout=5).json()
            finishers = races[0]["finishers"]
            time.sleep(0.5)
        assert finishers >= 5, log.read_text()
        rows = httpx.get(f"{base}/api/races/mile/results", params={"limit": 5}).json()["rows"]
        assert [row["place"] for row in rows] == [1, 2, 3, 4, 5]
        assert all(row["gun_time"].startswith(("5:", "6:", "7:", "8:")) for row in rows)
        assert rows[0]["split_half"] != ""
        output = log.read_text()
        assert f"{base}/scoreboard" in output and f"{base}/console" in output
        assert "admin token" in output
        assert races[0]["entrants"] + races[1]["entrants"] == 80
    finally:
        stop(demo)


def test_demo_athletes_beyond_the_generators_300_have_their_own_bibs_and_chips() -> None:
    from gambero.demo_race import athletes, plan

    rows = athletes(2000)
    chips = [chip.lower() for row in rows for chip in row["chips"].split()]
    assert len(rows) == 2000 and len({row["bib"] for row in rows}) == 2000
    assert len(chips) == len(set(chips)) > 2000
    assert sum(1 for row in rows if row["race"] == "kids") == 200
    steps = plan(rows)
    assert [step.gun for step in steps[:1]] == [("mile", "elite")]
    assert {step.reader for step in steps if step.gun is None} == {
        "start-mat", "half-box", "finish-main"}
