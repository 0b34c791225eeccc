"""The guns through the API: each race and wave as it really is (fired, inherits, not fired), a
gun that is set moved only on purpose (`"correct": true`, else 409), the dry run of a gun, and
the typed times a correction takes."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .conftest import Served
from .test_ingest import ingest_example

ROME = ZoneInfo("Europe/Rome")


def local_ms(clock_time: str) -> int:
    """`"09:05:00"` on the example's day (2026-05-10, Europe/Rome) as UTC epoch ms."""
    moment = datetime.fromisoformat(f"2026-05-10T{clock_time}").replace(tzinfo=ROME)
    return round(moment.timestamp() * 1000)


async def guns(served: Served, headers: dict[str, str]) -> dict[tuple[str, str | None], Any]:
    answer = await served.client.get("/api/guns", headers=headers)
    assert answer.status_code == 200, answer.text
    return {(line["race"], line["wave"]): line for line in answer.json()}


async def actions(served: Served) -> list[Any]:
    return [item.entry for item in await served.runtime.store.actions(
        served.runtime.event_id, ["gun"])]


async def views(served: Served) -> dict[str, dict[str, Any]]:
    rows = (await served.client.get("/api/races/mile/results",
                                    params={"limit": 1000})).json()["rows"]
    return {row["bib"]: {"place": row["place"], "gender_place": row["gender_place"],
                         "category_place": row["category_place"], "status": row["status"],
                         "time_ms": row["gun_ms"]} for row in rows}


async def test_each_race_and_wave_as_it_is(served: Served) -> None:
    tk = served.auth(await served.token("timekeeper"))
    lines = await guns(served, tk)
    assert list(lines) == [("mile", None), ("mile", "elite"), ("mile", "open"), ("kids", None)]
    mile = lines["mile", None]
    assert mile["state"] == "fired" and mile["gun_ms"] == local_ms("09:05:00")
    assert mile["local"] == "09:05:00.0" and mile["source"] == "event.toml"
    assert mile["seq"] is None and mile["by"] is None
    assert lines["mile", "elite"]["gun_ms"] == local_ms("09:00:00")
    assert lines["mile", "elite"]["state"] == "fired"
    # The open wave has no gun of its own: it starts with the race's, and says so.
    open_wave = lines["mile", "open"]
    assert open_wave["state"] == "inherits" and open_wave["gun_ms"] == mile["gun_ms"]
    assert open_wave["local"] == "09:05:00.0" and open_wave["source"] == "event.toml"
    # Fired by an action: who, when, why; the wave's line no longer inherits.
    fired = await served.client.post("/api/races/mile/gun", headers=tk, json={
        "wave": "open", "local_time": "09:05:02.3", "reason": "open wave went late"})
    assert fired.status_code == 200, fired.text
    open_wave = (await guns(served, tk))["mile", "open"]
    assert open_wave["state"] == "fired" and open_wave["local"] == "09:05:02.3"
    assert open_wave["source"] == "action" and open_wave["seq"] == fired.json()["seq"]
    assert open_wave["by"] == "timekeeper:timekeeper"
    assert open_wave["reason"] == "open wave went late" and open_wave["at_ms"] > 0
    assert (await guns(served, tk))["mile", None]["source"] == "event.toml"
    assert (await served.client.get("/api/guns")).status_code == 401
    reader = served.auth(await served.token("reader", "finish-main"))
    assert (await served.client.get("/api/guns", headers=reader)).status_code == 403


async def test_a_race_not_fired_and_a_wave_that_then_inherits(served: Served) -> None:
    """The race's gun taken back in the standings (as an old journal may): not fired, and the
    wave without a gun of its own is not fired either; firing the race makes it inherit."""
    core = served.runtime.core
    assert core is not None
    core.standings.set_gun("mile", None)
    served.runtime.state.set_guns("mile", None, [("elite", local_ms("09:00:00")),
                                                  ("open", None)])
    lines = await guns(served, served.admin)
    assert lines["mile", None]["state"] == "not_fired" and lines["mile", None]["local"] is None
    assert lines["mile", "open"]["state"] == "not_fired"
    assert lines["mile", "open"]["gun_ms"] is None and lines["mile", "open"]["source"] is None
    assert lines["mile", "elite"]["state"] == "fired"
    fired = await served.client.post("/api/races/mile/gun", headers=served.admin,
                                     json={"time_ms": local_ms("09:05:00")})
    assert fired.status_code == 200, fired.text
    lines = await guns(served, served.admin)
    assert lines["mile", "open"]["state"] == "inherits"
    assert lines["mile", "open"]["seq"] == fired.json()["seq"]


async def test_a_gun_that_is_set_is_moved_only_on_purpose(served: Served) -> None:
    tk = served.auth(await served.token("timekeeper"))
    # Set in event.toml: a stray press is refused (a press without a time, "now", is out of
    # the example's days: 422 first; the browser test presses one on today's event).
    for body in ({"time_ms": local_ms("10:00:30")}, {"local_time": "10:01:00"}):
        refused = await served.client.post("/api/races/kids/gun", headers=tk, json=body)
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert "10:00:00.0" in detail and "event.toml" in detail and "correct" in detail
    # A dry run of it too: it previews what the request would do, which is nothing.
    dry = await served.client.post("/api/races/kids/gun", params={"dry_run": "true"},
                                   headers=tk, json={"local_time": "10:01:00"})
    assert dry.status_code == 409
    assert await actions(served) == []
    # Set by an earlier action: the 409 says when and by whom.
    first = await served.client.post("/api/races/mile/gun", headers=tk,
                                      json={"wave": "open", "time_ms": local_ms("09:05:01")})
    assert first.status_code == 200
    again = await served.client.post("/api/races/mile/gun", headers=served.admin,
                                     json={"wave": "open", "local_time": "09:05:03"})
    assert again.status_code == 409
    detail = again.json()["detail"]
    assert "wave open of race mile" in detail and "09:05:01.0" in detail
    assert "timekeeper:timekeeper" in detail and f"journal entry {first.json()['seq']}" in detail
    assert len(await actions(served)) == 1
    # On purpose: moved, and the journal says it was a correction.
    moved = await served.client.post("/api/races/kids/gun", headers=tk, json={
        "correct": True, "time_ms": local_ms("10:00:30"), "reason": "the starter was late"})
    assert moved.status_code == 200, moved.text
    entry = (await actions(served))[-1]
    assert entry.payload == {"race": "kids", "wave": None, "time_ms": local_ms("10:00:30"),
                             "correct": True}
    assert entry.reason == "the starter was late"
    # A first firing records no correction, even when the request says correct.
    await served.client.post("/api/races/mile/gun", headers=tk, json={
        "wave": "elite", "correct": True, "local_time": "09:00:00"})
    # (elite is set in event.toml: that one is a correction too)
    assert (await actions(served))[-1].payload["correct"] is True


async def test_two_presses_at_once_fire_the_gun_once(served: Served) -> None:
    """Two desks press at the same moment: one fires the unset gun, the other is refused."""
    async def press(offset: int) -> int:
        answer = await served.client.post("/api/races/mile/gun", headers=served.admin, json={
            "wave": "open", "time_ms": local_ms("09:05:00") + offset})
        return answer.status_code

    assert sorted(await asyncio.gather(press(0), press(700), press(1400))) == [200, 409, 409]
    assert len(await actions(served)) == 1


async def test_the_dry_run_is_what_confirming_then_shows(served: Served) -> None:
    await ingest_example(served)
    tk = served.auth(await served.token("timekeeper"))
    cases: list[dict[str, Any]] = [
        {"wave": "elite", "local_time": "09:00:45"},   # the elite wave 45 s later
        {"local_time": "09:05:30"},                    # the race: the open wave inherits it
        {"wave": "open", "local_time": "09:04:10"},    # the open wave its own gun, earlier
        {"wave": "elite", "local_time": "09:07:00"},   # after elite finishes: DNS for them
    ]
    for body in cases:
        before, results_before = await views(served), await results(served)
        dry = await served.client.post("/api/races/mile/gun", params={"dry_run": "true"},
                                       headers=tk, json={**body, "correct": True})
        assert dry.status_code == 200, dry.text
        assert await views(served) == before  # nothing changed
        done = await served.client.post("/api/races/mile/gun", headers=tk,
                                        json={**body, "correct": True})
        assert done.status_code == 200, done.text
        after = await views(served)
        changed = {bib: (before[bib], after[bib]) for bib in after
                   if {**after[bib], "time_ms": 0} != {**before[bib], "time_ms": 0}}
        assert changed, body
        answer = dry.json()
        seen = {change["bib"]: (change["before"], change["after"]) for change in answer["changes"]}
        assert {bib: ({k: v for k, v in old.items() if k != "time"},
                      {k: v for k, v in new.items() if k != "time"})
                for bib, (old, new) in seen.items()} == changed
        results_after = await results(served)
        assert answer["retimed"] == sum(results_after[bib] != results_before[bib]
                                        for bib in results_after)
        assert [change["bib"] for change in answer["changes"]] == [
            bib for bib in (await views_in_order(served)) if bib in changed]
        texts = [change["after"]["time"] for change in answer["changes"]
                 if change["after"]["time_ms"] is not None]
        assert texts and all(":" in text for text in texts)
    # Every wave has a gun of its own now: the race's gun moves nobody.
    idle = await served.client.post("/api/races/mile/gun", params={"dry_run": "true"},
                                    headers=tk, json={"local_time": "09:03:00", "correct": True})
    assert idle.json() == {"changes": [], "retimed": 0}


async def results(served: Served) -> dict[str, tuple[Any, ...]]:
    """Each athlete's result apart from places: what a gun can retime."""
    rows = (await served.client.get("/api/races/mile/results",
                                    params={"limit": 1000})).json()["rows"]
    return {row["bib"]: (row["status"], row["gun_ms"], row["chip_ms"], row["laps"],
                         row["splits_ms"]) for row in rows}


async def views_in_order(served: Served) -> list[str]:
    rows = (await served.client.get("/api/races/mile/results",
                                    params={"limit": 1000})).json()["rows"]
    return [row["bib"] for row in rows]


async def test_a_time_of_day_and_a_stopwatch(served: Served) -> None:
    tk = served.auth(await served.token("timekeeper"))
    typed = await served.client.post("/api/races/kids/gun", headers=tk, json={
        "correct": True, "local_time": "10:00:30.5"})
    assert typed.status_code == 200, typed.text
    kids = (await guns(served, tk))["kids", None]
    assert kids["gun_ms"] == local_ms("10:00:30.500") and kids["local"] == "10:00:30.5"
    # A stopwatch started at the gun read 4:29.5 at 10:05:00: the gun was at 10:00:30.5.
    watch = await served.client.post("/api/races/kids/gun", headers=tk, json={
        "correct": True, "local_time": "10:05:00", "elapsed": "4:29.5"})
    assert watch.status_code == 200, watch.text
    assert (await guns(served, tk))["kids", None]["gun_ms"] == local_ms("10:00:30.500")
    hours = await served.client.post("/api/races/kids/gun", headers=tk, json={
        "correct": True, "local_time": "11:00:00", "elapsed": "1:00:00"})
    assert hours.status_code == 200
    assert (await guns(served, tk))["kids", None]["gun_ms"] == local_ms("10:00:00")
    assert (await served.client.get("/api/races")).json()[1]["gun_ms"] == local_ms("10:00:00")


async def test_malformed_or_contradictory_times_are_422_naming_the_field(served: Served) -> None:
    tk = served.auth(await served.token("timekeeper"))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"local_time": "25:00:00"}, "body.local_time"),
        ({"local_time": "9:00"}, "body.local_time"),
        ({"local_time": "09:00:00.1234"}, "body.local_time"),
        ({"local_time": "09:00:00", "time_ms": local_ms("09:00:00")}, "body.local_time"),
        ({"elapsed": "4:00"}, "body.elapsed"),
        ({"local_time": "10:05:00", "elapsed": "4:61"}, "body.elapsed"),
        ({"local_time": "10:05:00", "elapsed": "soon"}, "body.elapsed"),
        ({"local_time": "10:05:00", "elapsed": 240}, "body.elapsed"),
        ({"local_time": "x" * 30}, "body.local_time"),
        ({}, "body.correct"),                       # a correction needs its time
        ({"correct": "yes", "time_ms": local_ms("10:00:00")}, "body.correct"),
        ({"time_ms": 1_000}, "body.time_ms"),       # 1970: not the event's days
    ]
    for body, field in cases:
        for dry_run in ("false", "true"):
            answer = await served.client.post("/api/races/kids/gun", headers=tk,
                                              params={"dry_run": dry_run},
                                              json={"correct": True, **body})
            assert answer.status_code == 422, (body, answer.text)
            assert field in answer.json()["detail"], (body, answer.text)
    assert await actions(served) == []
    unknown = await served.client.post("/api/races/mile/gun", headers=tk, params={
        "dry_run": "true"}, json={"wave": "nope", "local_time": "09:00:00"})
    assert unknown.status_code == 409 and "nope" in unknown.json()["detail"]
    assert (await served.client.post("/api/races/nope/gun", headers=tk,
                                     json={"local_time": "09:00:00"})).status_code == 404
