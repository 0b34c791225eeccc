"""What a client builds from the feed (snapshot, then deltas, re-fetching reloaded races) equals
the standings, after reads, corrections and a gun arrive interleaved with requests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from api.view import RowMaker

from .conftest import Served, reader_file, reader_ids


def chunks(data: bytes, count: int) -> list[bytes]:
    lines = data.splitlines(keepends=True)
    size = max(1, len(lines) // count)
    return [b"".join(lines[index:index + size]) for index in range(0, len(lines), size)]


async def test_the_feed_and_the_answers_agree_with_the_standings(served: Served) -> None:
    runtime = served.runtime
    client = runtime.broadcaster.connect(None, None)
    rows: dict[str, dict[str, Any]] = {}
    last_seq = 0

    async def follow() -> None:
        nonlocal last_seq
        while True:
            text = await client.outbox.get()
            assert text is not None
            message = json.loads(text)
            if message["type"] == "snapshot":
                rows.clear()
                for race in message["races"].values():
                    rows.update((row["bib"], row) for row in race["rows"])
            elif message["type"] == "delta":
                assert message["first_seq"] == last_seq + 1, "a gap in the deltas"
                rows.update((row["bib"], row) for row in message["rows"])
                for race_id in message["reload"]:
                    page = await served.client.get(f"/api/races/{race_id}/results",
                                                   params={"limit": 1000})
                    rows.update((row["bib"], row) for row in page.json()["rows"])
            last_seq = message["seq"]

    follower = asyncio.create_task(follow())
    try:
        pieces = {reader_id: chunks(reader_file(reader_id), 15) for reader_id in reader_ids()}
        for round_number in range(15):
            for reader_id, parts in pieces.items():
                if round_number < len(parts):
                    await served.client.post(
                        f"/api/readers/{reader_id}/reads", content=parts[round_number],
                        headers={**served.admin, "Content-Type": "text/plain"})
            # Requests in between bring the rows up to date early (their frame waits).
            await served.client.get("/api/races/mile/results", params={"limit": 3})
            if round_number == 5:
                await served.client.post("/api/races/mile/gun", headers=served.admin,
                                         json={"time_ms": 1778396700500, "correct": True})
            if round_number in (8, 9):
                leader = (await served.client.get("/api/races/mile/results", params={
                    "limit": 1})).json()["rows"][0]["bib"]
                await served.client.post(f"/api/athletes/{leader}/penalty",
                                         headers=served.admin,
                                         json={"ms": 30_000, "reason": "test"})
            await asyncio.sleep(0.01)
        final = (await served.client.get("/api/health")).json()["seq"]
        for _ in range(200):
            if last_seq >= final:
                break
            await asyncio.sleep(0.05)
        assert last_seq == final
    finally:
        follower.cancel()
    assert runtime.core is not None
    maker = RowMaker(runtime.core.standings)
    expected = {bib: maker.row(bib) for bib in runtime.core.standings.athlete_bibs()}
    assert rows == expected
    answered: dict[str, dict[str, Any]] = {}
    for race_id in ("mile", "kids"):
        page = await served.client.get(f"/api/races/{race_id}/results", params={"limit": 1000})
        answered.update((row["bib"], row) for row in page.json()["rows"])
    assert answered == expected
    assert sum(1 for row in expected.values() if row["status"] == "FIN") > 200
