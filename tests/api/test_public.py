"""The public routes: event, races, results (filters, paging), one athlete; no private data."""

from __future__ import annotations

from timing.eventfile import load_event

from .conftest import EXAMPLE, Served
from .test_ingest import ingest_example


async def test_event_races_and_health(served: Served) -> None:
    health = (await served.client.get("/api/health")).json()
    assert health == {"status": "ok", "seq": 0, "event": "Backwards Mile 2026",
                      "web_only": False}
    event = (await served.client.get("/api/event")).json()
    assert (event["name"], event["date"], event["timezone"]) == (
        "Backwards Mile 2026", "2026-05-10", "Europe/Rome")
    races = (await served.client.get("/api/races")).json()
    assert races == event["races"]
    mile, kids = races
    assert (mile["id"], mile["name"], mile["laps"], mile["entrants"]) == (
        "mile", "Backwards Mile", 1, 270)
    assert mile["points"] == ["half", "finish"] and kids["points"] == ["finish"]
    assert mile["waves"] == [{"id": "elite", "gun_ms": 1778396400000},
                             {"id": "open", "gun_ms": None}]
    assert mile["gun_ms"] == 1778396700000 and "F30-39" in mile["categories"]
    assert (mile["record_ms"], kids["record_ms"]) == (365_000, None)
    assert mile["finishers"] == 0
    await ingest_example(served)
    races = (await served.client.get("/api/races")).json()
    assert races[0]["finishers"] > 200 and races[1]["finishers"] > 20


async def test_results_filters_and_paging(served: Served) -> None:
    await ingest_example(served)
    page = (await served.client.get("/api/races/mile/results",
                                    params={"limit": 10, "offset": 5})).json()
    assert (page["race"], page["total"], page["offset"], page["limit"]) == ("mile", 270, 5, 10)
    assert [row["place"] for row in page["rows"]] == list(range(6, 16))
    first = page["rows"][0]
    assert set(first) >= {"race", "place", "bib", "first_name", "last_name", "gender",
                          "gender_place", "category", "category_place", "status", "gun_time",
                          "chip_time", "laps", "split_half", "club", "gun_ms", "chip_ms",
                          "finish_ms", "splits_ms"}
    assert isinstance(first["gun_ms"], int) and first["gun_time"].count(":") == 1
    women = (await served.client.get("/api/races/mile/results",
                                     params={"gender": "F", "limit": 1000})).json()
    assert women["total"] == len(women["rows"]) > 50
    assert {row["gender"] for row in women["rows"]} == {"F"}
    finishers = [row for row in women["rows"] if row["gender_place"] is not None]
    assert [row["gender_place"] for row in finishers] == list(range(1, len(finishers) + 1))
    group = (await served.client.get("/api/races/mile/results",
                                     params={"category": "M40-49"})).json()
    assert group["total"] > 0 and {row["category"] for row in group["rows"]} == {"M40-49"}
    by_bib = (await served.client.get("/api/races/mile/results", params={"q": "12"})).json()
    assert [row["bib"] for row in by_bib["rows"]] == ["12"]
    by_name = (await served.client.get("/api/races/mile/results", params={"q": "ROSS"})).json()
    assert by_name["total"] > 0
    assert all("ross" in (row["first_name"] + row["last_name"]).lower()
               for row in by_name["rows"])
    assert (await served.client.get("/api/races/mile/results",
                                    params={"limit": 0})).status_code == 422
    missing = await served.client.get("/api/races/marathon/results")
    assert missing.status_code == 404 and "marathon" in missing.json()["detail"]
    assert (await served.client.get("/api/races/marathon/results.csv")).status_code == 404


async def test_one_athlete_with_splits_laps_and_pace(served: Served) -> None:
    await ingest_example(served)
    winner = (await served.client.get("/api/races/mile/results",
                                      params={"limit": 1})).json()["rows"][0]
    athlete = (await served.client.get(f"/api/athletes/{winner['bib']}")).json()
    assert athlete["race_name"] == "Backwards Mile" and athlete["place"] == 1
    half, finish = athlete["splits"]
    assert half["point"] == "half" and half["time"] == winner["split_half"]
    assert half["ms"] == winner["splits_ms"]["half"] and 1 <= half["place"] <= 10
    assert finish == {"point": "finish", "ms": winner["gun_ms"], "time": winner["gun_time"],
                      "place": 1}
    # Lap times are the passings' gaps; gun time adds the penalty (bib 7: 10 s, example).
    penalty = 10_000 if winner["bib"] == "7" else 0
    lap_ms = winner["gun_ms"] - penalty
    assert athlete["laps"] == [{"lap": 1, "ms": lap_ms, "time": athlete["laps"][0]["time"]}]
    assert athlete["finish_ms"] == athlete["start_ms"] + lap_ms
    ms_per_km = round(winner["gun_ms"] * 1000 / 1609.344)
    minutes, seconds = divmod(-(-ms_per_km // 1000), 60)  # rounded up, as times are
    assert athlete["pace_per_km"] == f"{minutes}:{seconds:02d}"
    assert athlete["pace_per_mile"] == winner["gun_time"]
    dns = (await served.client.get("/api/athletes/17")).json()
    assert dns["status"] == "DNS" and dns["splits"] == [] and dns["pace_per_km"] is None
    assert (await served.client.get("/api/athletes/9999")).status_code == 404


async def test_no_private_data_in_public_answers(served: Served) -> None:
    await ingest_example(served)
    files = load_event(EXAMPLE)
    chips = {chip.lower() for athlete in files.athletes for chip in athlete.chips}
    births = {athlete.birth_date.isoformat() for athlete in files.athletes
              if athlete.birth_date is not None}
    texts = [(await served.client.get(path)).text.lower() for path in (
        "/api/event", "/api/races", "/api/races/mile/results?limit=1000",
        "/api/races/kids/results?limit=1000", "/api/athletes/1", "/api/athletes/512")]
    for text in texts:
        assert "birth" not in text
        assert not any(chip in text for chip in chips)
        assert not any(birth in text for birth in births)
