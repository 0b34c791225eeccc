"""Corrections at the desk through the API: hand times that say what happened, an athlete's
passings as the journal holds them, voids and reassigns with a dry run, and all of it the same
after a restart."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running

from .conftest import ADMIN, EXAMPLE, Served

KIDS_GUN = 1778400000000  # 10:00:00 at the event (examples/backwards-mile/event.toml)


async def hand(served: Served, *entries: tuple[str, int]) -> dict[str, Any]:
    answer = await served.client.post("/api/manual", headers=served.admin, json={
        "entries": [{"bib": bib, "time_ms": ms} for bib, ms in entries]})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def athlete(served: Served, bib: str) -> dict[str, Any]:
    return dict((await served.client.get(f"/api/athletes/{bib}")).json())


async def passings(served: Served, bib: str) -> list[dict[str, Any]]:
    answer = await served.client.get(f"/api/athletes/{bib}/passings", headers=served.admin)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def correct(served: Served, route: str, body: dict[str, Any],
                  dry_run: bool = False) -> httpx.Response:
    return await served.client.post(f"/api/{route}", headers=served.admin, json=body,
                                    params={"dry_run": "true"} if dry_run else {})


async def test_a_double_entered_finish_is_voided_with_a_preview(served: Served) -> None:
    answer = await hand(served, ("501", KIDS_GUN + 95_000), ("501", KIDS_GUN + 99_000))
    assert answer["accepted"] == 2 and answer["unknown"] == []
    assert [w["code"] for w in answer["warnings"]] == ["far_from_now", "far_from_now"]
    assert (await athlete(served, "501"))["gun_time"] == "1:35.0"
    listed = await passings(served, "501")
    assert [(p["time_ms"] - KIDS_GUN, p["source"], p["passing"], p["counted"], p["voided"])
            for p in listed] == [(95_000, "manual", 1, True, False),
                                 (99_000, "manual", 1, False, False)]
    assert all(p["by"].startswith("admin:") for p in listed)  # who typed it
    first = listed[0]["seq"]
    seq = (await served.client.get("/api/health")).json()["seq"]
    dry = await correct(served, "void", {"seq": first, "reason": "typed twice"}, dry_run=True)
    assert dry.status_code == 200, dry.text
    [change] = [c for c in dry.json()["changes"] if c["bib"] == "501"]
    assert (change["before"]["time"], change["after"]["time"]) == ("1:35.0", "1:39.0")
    assert (await served.client.get("/api/health")).json()["seq"] == seq  # nothing journaled
    done = await correct(served, "void", {"seq": first, "reason": "typed twice"})
    assert done.status_code == 200, done.text
    assert done.json()["row"]["gun_time"] == "1:39.0"
    after = await passings(served, "501")
    assert [(p["seq"], p["voided"], p["voided_by"], p["counted"]) for p in after] == [
        (first, True, done.json()["seq"], False), (listed[1]["seq"], False, None, True)]
    again = await correct(served, "void", {"seq": first, "reason": "again"})
    assert again.status_code == 409 and "corrected already" in again.json()["detail"]


async def test_an_unknown_bib_is_said_listed_and_given_to_the_right_bib(served: Served
                                                                          ) -> None:
    answer = await hand(served, ("5011", KIDS_GUN + 101_000))
    assert answer["accepted"] == 1 and answer["unknown"] == ["5011"]
    listed = (await served.client.get("/api/unknown-bibs", headers=served.admin)).json()
    [entry] = listed
    assert (entry["bib"], entry["time_ms"], entry["point"]) == ("5011", KIDS_GUN + 101_000,
                                                                "finish")
    body = {"seq": entry["seq"], "bib": "501", "reason": "5011 was 501"}
    dry = await correct(served, "reassign", body, dry_run=True)
    assert dry.status_code == 200, dry.text
    [change] = [c for c in dry.json()["changes"] if c["bib"] == "501"]
    assert change["before"]["status"] == "DNS" and change["after"]["time"] == "1:41.0"
    done = await correct(served, "reassign", body)
    assert done.status_code == 200, done.text
    assert done.json()["row"]["gun_time"] == "1:41.0"
    assert (await served.client.get("/api/unknown-bibs", headers=served.admin)).json() == []
    [given] = await passings(served, "501")
    assert given["seq"] == done.json()["seq"] and given["counted"]
    # The time it gave can be voided in turn, by the reassign's seq.
    voided = await correct(served, "void", {"seq": given["seq"], "reason": "not 501 either"})
    assert voided.status_code == 200, voided.text
    assert (await athlete(served, "501"))["status"] == "DNS"


async def test_corrections_refused_say_why(served: Served) -> None:
    await hand(served, ("501", KIDS_GUN + 95_000), ("502", KIDS_GUN + 97_000))
    [read] = await passings(served, "501")
    status = await served.client.post("/api/athletes/501/status", headers=served.admin,
                                      json={"status": "DQ", "reason": "r"})
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("void", {"seq": 999_999, "reason": "r"}, 404, "no journal entry 999999"),
        ("void", {"seq": status.json()["seq"], "reason": "r"}, 409, "is no read"),
        ("void", {"seq": read["seq"]}, 422, "body.reason"),
        ("void", {"seq": read["seq"], "reason": ""}, 422, "body.reason"),
        ("void", {"seq": "3", "reason": "r"}, 422, "body.seq"),
        ("void", {"seq": 2**64, "reason": "r"}, 422, "body.seq"),  # found by the soak: a 500
        ("reassign", {"seq": read["seq"], "bib": "502", "reason": "r"}, 409,
         "bib 501's read: void it"),
        ("reassign", {"seq": read["seq"], "bib": "77777", "reason": "r"}, 404, "77777"),
    ]
    for route, body, status_code, message in cases:
        for dry_run in (True, False):
            answer = await correct(served, route, body, dry_run=dry_run)
            assert answer.status_code == status_code, (route, body, answer.text)
            assert message in answer.json()["detail"], (route, body, answer.text)
    timekeeper_only = await served.client.post("/api/void", json={"seq": 1, "reason": "r"})
    assert timekeeper_only.status_code == 401
    unknown = await served.client.get("/api/athletes/77777/passings", headers=served.admin)
    assert unknown.status_code == 404


@contextlib.asynccontextmanager
async def serving(url: str) -> AsyncIterator[Served]:
    app = create_app(lambda: running(url, EXAMPLE, Options(frame_interval=0.05)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gambero") as client:
            yield Served(app, client, app.state.runtime)


async def test_corrections_are_the_same_after_a_restart(database_url: str,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    async with serving(database_url) as served:
        await hand(served, ("501", KIDS_GUN + 95_000), ("501", KIDS_GUN + 96_000),
                   ("5022", KIDS_GUN + 97_000))
        first = (await passings(served, "501"))[0]["seq"]
        assert (await correct(served, "void", {"seq": first, "reason": "twice"})).is_success
        [unknown] = (await served.client.get("/api/unknown-bibs", headers=served.admin)).json()
        assert (await correct(served, "reassign", {"seq": unknown["seq"], "bib": "502",
                                                   "reason": "typo"})).is_success
        before = (await served.client.get("/api/races/kids/results.csv")).text
        listed = {bib: await passings(served, bib) for bib in ("501", "502")}
    async with serving(database_url) as served:
        assert (await served.client.get("/api/races/kids/results.csv")).text == before
        assert {bib: await passings(served, bib) for bib in ("501", "502")} == listed
        assert (await served.client.get("/api/unknown-bibs", headers=served.admin)).json() == []
        again = await correct(served, "void", {"seq": first, "reason": "twice"})
        assert again.status_code == 409
