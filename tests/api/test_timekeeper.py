"""The timekeeper's routes: each is a journal action, refused (409/400/404) before journaling
when it cannot apply; status and penalty previews change nothing."""

from __future__ import annotations

from typing import Any

from .conftest import Served
from .test_ingest import ingest_example

MILE_GUN = 1778396700000


async def places(served: Served) -> dict[str, Any]:
    rows = (await served.client.get("/api/races/mile/results",
                                    params={"limit": 1000})).json()["rows"]
    return {row["bib"]: (row["place"], row["status"]) for row in rows}


async def place_views(served: Served) -> dict[str, dict[str, Any]]:
    rows = (await served.client.get("/api/races/mile/results",
                                    params={"limit": 1000})).json()["rows"]
    # The mile ranks by gun time: a preview's "time" is the gun time.
    return {row["bib"]: {**{key: row[key] for key in ("place", "gender_place", "category_place",
                                                      "status")},
                         "time_ms": row["gun_ms"], "time": row["gun_time"] or None}
            for row in rows}


async def test_each_preview_is_what_applying_it_then_gives(served: Served) -> None:
    """DQ, DNF, DNS and a penalty on finishers of the mile, one after the other: each dry run
    lists exactly the athletes whose places or status applying it then changes."""
    await ingest_example(served)
    first = await place_views(served)
    finishers = sorted((view["place"], bib) for bib, view in first.items() if view["place"])
    assert len(finishers) > 20
    picks: list[tuple[str, str, dict[str, Any]]] = [
        ("status", finishers[2][1], {"status": "DQ"}),
        ("status", finishers[5][1], {"status": "DNF"}),
        ("status", finishers[-1][1], {"status": "DNS"}),
        ("penalty", finishers[0][1], {"ms": 15_000}),
        ("status", finishers[2][1], {"status": None})]
    for kind, bib, body in picks:
        url = f"/api/athletes/{bib}/{kind}"
        before = await place_views(served)
        dry = await served.client.post(url, params={"dry_run": "true"}, headers=served.admin,
                                       json={**body, "reason": "test"})
        assert dry.status_code == 200, dry.text
        assert await place_views(served) == before
        done = await served.client.post(url, headers=served.admin,
                                        json={**body, "reason": "test"})
        assert done.status_code == 200, done.text
        after = await place_views(served)
        changed = {other: (before[other], after[other]) for other in after
                   if after[other] != before[other]}
        assert len(changed) > (0 if body.get("status") == "DNS" else 1), (kind, body)
        assert {change["bib"]: (change["before"], change["after"])
                for change in dry.json()["changes"]} == changed


async def test_gun_and_hand_timing(served: Served) -> None:
    tk = served.auth(await served.token("timekeeper"))
    fired = await served.client.post("/api/races/kids/gun", headers=tk,
                                     json={"time_ms": 1778400030000, "reason": "late",
                                           "correct": True})  # event.toml sets a gun
    assert fired.status_code == 200 and fired.json()["seq"] == 1
    kids = (await served.client.get("/api/races")).json()[1]
    assert kids["gun_ms"] == 1778400030000
    wave = await served.client.post("/api/races/mile/gun", headers=tk,
                                    json={"time_ms": MILE_GUN, "wave": "open"})
    assert wave.status_code == 200
    assert (await served.client.get("/api/races")).json()[0]["waves"][1]["gun_ms"] == MILE_GUN
    bad_wave = await served.client.post("/api/races/mile/gun", headers=tk,
                                        json={"wave": "nope", "time_ms": MILE_GUN})
    assert bad_wave.status_code == 409 and "nope" in bad_wave.json()["detail"]
    assert (await served.client.post("/api/races/x/gun", headers=tk, json={})).status_code == 404
    hand = await served.client.post("/api/manual", headers=tk, json={"entries": [
        {"bib": "501", "time_ms": 1778400030000 + 95_000},
        {"bib": "501", "time_ms": 1778400030000 + 95_000},
        {"bib": "9999", "time_ms": 1778400030000 + 96_000}]})
    answer = hand.json()
    assert {key: answer[key] for key in ("accepted", "duplicates", "rejected", "unknown")} == {
        "accepted": 2, "duplicates": 1, "rejected": 0, "unknown": ["9999"]}
    # The example race is in May: typed times months from now are said, not refused.
    assert [(w["bib"], w["code"]) for w in answer["warnings"]] == [("501", "far_from_now")] * 2
    athlete = (await served.client.get("/api/athletes/501")).json()
    assert athlete["status"] == "FIN" and athlete["gun_time"] == "1:35.0"
    journal = (await served.client.get("/api/journal", headers=tk,
                                       params={"kind": "manual"})).json()
    assert journal[0]["actor"] == "timekeeper:timekeeper"
    assert "finish-hand: bib 9999" in journal[0]["summary"]
    actions = (await served.client.get("/api/journal", headers=tk,
                                       params={"kind": "action"})).json()
    assert actions[-1]["summary"] == "gun: race=kids, time_ms=10:00:30.0, correct=True (late)"
    nowhere = await served.client.post("/api/manual", headers=tk,
                                       json={"entries": [{"bib": "1", "point": "moon"}]})
    assert nowhere.status_code == 400


async def test_status_and_penalty_with_preview(served: Served) -> None:
    await ingest_example(served)
    before = await places(served)
    leader = next(bib for bib, (place, _) in before.items() if place == 1)
    seq = (await served.client.get("/api/health")).json()["seq"]
    preview = await served.client.post(f"/api/athletes/{leader}/status",
                                       params={"dry_run": "true"}, headers=served.admin,
                                       json={"status": "DQ", "reason": "ran forwards"})
    changes = {change["bib"]: change for change in preview.json()["changes"]}
    assert changes[leader]["before"]["place"] == 1
    assert changes[leader]["after"] == {"place": None, "gender_place": None,
                                        "category_place": None, "status": "DQ",
                                        "time_ms": None, "time": None}
    assert changes[leader]["before"]["time"] == (await served.client.get(
        f"/api/athletes/{leader}")).json()["gun_time"]
    second = next(bib for bib, (place, _) in before.items() if place == 2)
    assert changes[second]["after"]["place"] == 1
    assert (await served.client.get("/api/health")).json()["seq"] == seq
    assert await places(served) == before
    done = await served.client.post(f"/api/athletes/{leader}/status", headers=served.admin,
                                    json={"status": "DQ", "reason": "ran forwards"})
    assert done.json()["row"]["status"] == "DQ" and done.json()["seq"] == seq + 1
    after = await places(served)
    assert after[second] == (1, "FIN") and after[leader] == (None, "DQ")
    cleared = await served.client.post(f"/api/athletes/{leader}/status", headers=served.admin,
                                       json={"status": None, "reason": "appeal upheld"})
    assert cleared.json()["row"]["place"] == 1
    penalty = await served.client.post(f"/api/athletes/{second}/penalty",
                                       headers=served.admin, params={"dry_run": "true"},
                                       json={"ms": 3_600_000, "reason": "cut the course"})
    moved = {change["bib"] for change in penalty.json()["changes"]}
    assert second in moved and len(moved) > 100
    negative = await served.client.post(f"/api/athletes/{second}/penalty",
                                        headers=served.admin, json={"ms": -5, "reason": "x"})
    assert negative.status_code == 422
    no_reason = await served.client.post(f"/api/athletes/{second}/status",
                                         headers=served.admin, json={"status": "DQ"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    actions = (await served.client.get("/api/journal", headers=served.admin,
                                       params={"kind": "action"})).json()
    assert [item["summary"].split(":")[0] for item in actions] == ["status", "status"]
    assert "(appeal upheld)" in actions[0]["summary"]


async def test_edit_chips_and_participants_import(served: Served) -> None:
    tk = served.auth(await served.token("timekeeper"))
    edited = await served.client.patch("/api/athletes/1", headers=tk, json={
        "first_name": "Rut", "birth_date": "1990-01-01", "wave": "open"})
    row = edited.json()["row"]
    assert (row["first_name"], row["category"]) == ("Rut", "F30-39")
    assert (await served.client.get("/api/athletes/1")).json()["start_ms"] == MILE_GUN
    bad = await served.client.patch("/api/athletes/1", headers=tk, json={"race": "marathon"})
    assert bad.status_code == 400
    gun = 1778396400000
    await served.client.post("/api/readers/finish-main/reads", headers=tk, json={
        "reads": [{"chip": "0580009fff77", "time_ms": gun + 420_000}]})
    assert (await served.client.get("/api/unknown-chips", headers=tk)).json()[0]["chip"] == (
        "0580009fff77")
    moved = await served.client.post("/api/chips", headers=tk,
                                     json={"chip": "0580009fff77", "bib": "2"})
    assert moved.json()["row"]["status"] == "FIN"
    assert (await served.client.get("/api/unknown-chips", headers=tk)).json() == []
    csv = ("bib,first_name,last_name,gender,birth_date,race,wave,chips,club\n"
           "2,Davide,Rossi,M,1967-09-16,mile,elite,05800012002d 0580009fff77,New Club\n"
           "900,Nuova,Atleta,F,2000-01-01,mile,open,0580009ff900,\n"
           "901,Bad,Row,Q,2000-01-01,mile,open,,\n")
    report = await served.client.post("/api/participants", headers={
        **tk, "Content-Type": "text/csv"}, content=csv.encode())
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["added"] == ["900"] and body["changed"] == {"2": ["club"]}
    assert len(body["problems"]) == 1 and "901" in body["problems"][0]
    assert (await served.client.get("/api/athletes/900")).json()["last_name"] == "Atleta"
    upload = await served.client.post("/api/participants", headers=tk, files={
        "file": ("participants.csv", csv.replace("New Club", "Other Club").encode())})
    assert upload.json()["changed"] == {"2": ["club"]} and upload.json()["added"] == []
    header_only = await served.client.post("/api/participants", headers={
        **tk, "Content-Type": "text/csv"}, content=b"name\nx\n")
    assert header_only.status_code == 400 and "bib" in header_only.json()["detail"]


async def test_readers_health_start_stop(served: Served) -> None:
    tk = served.auth(await served.token("timekeeper"))
    readers = (await served.client.get("/api/readers", headers=tk)).json()
    assert [reader["id"] for reader in readers] == [
        "start-mat", "half-box", "finish-main", "finish-backup", "finish-hand"]
    backup = readers[3]
    assert (backup["clock_offset_ms"], backup["transport"], backup["connected"]) == (
        -1200, "file", False)
    stopped = await served.client.post("/api/readers/finish-main/stop", headers=tk)
    assert stopped.json()["running"] is False and stopped.json()["alarm"] == "stopped"
    refused = await served.client.post("/api/readers/finish-main/reads", headers=tk,
                                       json={"reads": []})
    assert refused.status_code == 409
    started = await served.client.post("/api/readers/finish-main/start", headers=tk)
    assert started.json()["running"] is True
    added = await served.client.post("/api/readers", headers=tk, json={
        "id": "new", "point": "finish", "format": "ipico"})
    assert added.status_code == 201 and added.json()["transport"] == "ingest"
    again = await served.client.post("/api/readers", headers=tk, json={
        "id": "new", "point": "finish", "format": "ipico"})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    linked = await served.client.post("/api/readers", headers=tk, json={
        "id": "box", "point": "finish", "format": "ipico", "host": "10.0.0.9"})
    assert linked.status_code == 501 and "--no-readers" in linked.json()["detail"]
    journal = (await served.client.get("/api/journal", headers=tk,
                                       params={"kind": "action"})).json()
    assert journal[0]["actor"] == "timekeeper:timekeeper" and "new" in journal[0]["summary"]
    posted = await served.client.post("/api/readers/new/reads", headers=tk, json={
        "reads": [{"chip": "058000120007", "time_ms": 1778397100000}]})
    assert posted.json()["accepted"] == 1
    assert [r["id"] for r in (await served.client.get("/api/readers", headers=tk)).json()
            ][-1] == "new"
    assert (await served.client.get("/api/readers/nope", headers=tk)).status_code == 404
