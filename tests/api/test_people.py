"""Participants at the desk (issue 13, point 5): the participants file's problems, a participant
added or edited with the checks of an import, a chip assigned; reader tokens only for the
event's readers (API and CLI)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running
from gambero.cli import main
from timing.entries import add_reader
from timing.model import ReaderConfig
from timing.store import Store

from . import processes
from .conftest import ADMIN, EXAMPLE, Served

BAD_ROWS = ("901,Bad,Gender,Q,2000-01-01,mile,open,,\n"
            "902,No,Wave,F,2000-01-01,mile,fast,0580009ff902,\n"
            "1,Twice,Given,F,2000-01-01,mile,open,,\n")


def event_with_problems(folder: Path) -> Path:
    """The example event, three rows with mistakes added at the end of participants.csv."""
    shutil.copytree(EXAMPLE.parent, folder)
    participants = folder / "participants.csv"
    text = participants.read_text(encoding="utf-8")
    participants.write_text(text + BAD_ROWS, encoding="utf-8")
    return folder / "event.toml"


@pytest.fixture
async def desk(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> AsyncIterator[Served]:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    event = event_with_problems(tmp_path / "race")
    app = create_app(lambda: running(database_url, event, Options(frame_interval=0.05)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gambero") as client:
            yield Served(app, client, app.state.runtime)


async def actions(served: Served) -> list[dict[str, Any]]:
    answer = await served.client.get("/api/journal", headers=served.admin,
                                     params={"kind": "action"})
    result: list[dict[str, Any]] = answer.json()
    return result


async def test_the_files_problems_at_start_are_listed_for_timekeepers(desk: Served) -> None:
    client = desk.client
    assert (await client.get("/api/participants/problems")).status_code == 401
    reader = desk.auth(await desk.token("reader", "finish-main"))
    assert (await client.get("/api/participants/problems", headers=reader)).status_code == 403
    tk = desk.auth(await desk.token("timekeeper"))
    found = (await client.get("/api/participants/problems", headers=tk)).json()
    assert found["source"].endswith("event.toml") and found["checked_ms"] > 0
    lines = len((Path(found["source"]).parent / "participants.csv").read_text().splitlines())
    by_bib = {problem["bib"]: problem for problem in found["problems"]}
    assert by_bib["901"]["line"] == lines - 2 and "gender" in by_bib["901"]["problem"]
    assert by_bib["902"]["line"] == lines - 1 and "wave" in by_bib["902"]["problem"]
    assert by_bib["1"]["line"] == lines and "appears twice" in by_bib["1"]["problem"]
    assert {problem["file"] for problem in found["problems"]} == {"participants.csv"}
    # An import through the API replaces the participants file's problems with its own.
    csv = ("bib,first_name,last_name,gender,birth_date,race,wave,chips,club\n"
           "903,Late,Entry,F,2000-01-01,kids,,,\n"
           "904,Bad,Race,F,2000-01-01,marathon,,,\n")
    report = await client.post("/api/participants", headers={**tk, "Content-Type": "text/csv"},
                               content=csv.encode())
    assert report.json()["added"] == ["903"]
    after = (await client.get("/api/participants/problems", headers=tk)).json()
    assert after["source"] == "POST /api/participants"
    assert [(p["bib"], p["line"]) for p in after["problems"]] == [("904", 3)]
    assert "marathon" in after["problems"][0]["problem"]


async def test_served_from_the_database_alone_no_file_was_checked(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    event = event_with_problems(tmp_path / "race")
    said: list[str] = []
    async with running(database_url, event, Options(), announce=said.append) as runtime:
        assert runtime.file_problems is not None and len(runtime.file_problems.problems) == 3
    assert [line for line in said if line.startswith("warning: ")] == [
        f"warning: {problem}" for problem in runtime.file_problems.problems]
    assert said[-1].startswith("3 problems in the event's files")
    app = create_app(lambda: running(database_url, None, Options()))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://g") as client:
            answer = await client.get("/api/participants/problems",
                                      headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.json() == {"source": None, "checked_ms": None, "problems": []}


NEW = {"bib": "950", "first_name": "Nuova", "last_name": "Iscritta", "gender": "f",
       "birth_date": "1990-05-01", "race": "mile", "wave": "open", "chips": ["E0950"],
       "club": "Gambero Athletic"}


async def test_a_participant_added_at_the_desk(served: Served) -> None:
    client = served.client
    tk = served.auth(await served.token("timekeeper"))
    assert (await client.post("/api/athletes", json=NEW)).status_code == 401
    reader = served.auth(await served.token("reader", "finish-main"))
    assert (await client.post("/api/athletes", headers=reader, json=NEW)).status_code == 403
    # A chip read before anyone wears it becomes the new participant's finish.
    finish = 1778396400000 + 420_000
    await client.post("/api/readers/finish-main/reads", headers=tk,
                      json={"reads": [{"chip": "E0951", "time_ms": finish}]})
    added = await client.post("/api/athletes", headers=tk, json=NEW)
    assert added.status_code == 201, added.text
    row = added.json()["row"]
    assert (row["bib"], row["gender"], row["category"], row["club"]) == (
        "950", "F", "F30-39", "Gambero Athletic")
    late = await client.post("/api/athletes", headers=tk, json={
        **NEW, "bib": "951", "chips": ["E0951"], "wave": "", "birth_date": "", "gender": "X"})
    assert late.status_code == 201, late.text
    assert late.json()["row"]["status"] == "FIN" and late.json()["row"]["category"] == ""
    shown = (await client.get("/api/athletes/950/registration", headers=tk)).json()
    assert shown == {"bib": "950", "first_name": "Nuova", "last_name": "Iscritta",
                     "gender": "F", "birth_date": "1990-05-01", "club": "Gambero Athletic",
                     "race": "mile", "wave": "open", "category": "F30-39", "chips": ["E0950"]}
    assert (await client.get("/api/athletes/999/registration", headers=tk)).status_code == 404
    journaled = await actions(served)
    assert [item["summary"].split(":")[0] for item in journaled][:2] == [
        "participant", "participant"]


async def test_an_addition_is_refused_with_the_field_named(served: Served) -> None:
    client = served.client
    tk = served.auth(await served.token("timekeeper"))
    before = len(await actions(served))
    cases: list[tuple[dict[str, Any], int, list[str]]] = [
        ({"bib": "1"}, 409, ["bib 1", "already registered"]),
        ({"chips": ["058000120007"]}, 409, ["chips", "058000120007", "bib 1"]),
        ({"gender": "Q"}, 400, ["gender", "'Q'"]),
        ({"birth_date": "1850-01-01"}, 400, ["birth_date", "1900-01-01"]),
        ({"birth_date": "2030-01-01"}, 400, ["birth_date", "event date"]),
        ({"birth_date": "10/05/1990"}, 400, ["birth_date", "YYYY-MM-DD"]),
        ({"race": "marathon"}, 400, ["race", "marathon", "mile, kids"]),
        ({"wave": "fast"}, 400, ["wave", "fast", "elite, open"]),
        ({"race": "kids", "wave": "open"}, 400, ["wave", "kids has no wave"]),
        ({"chips": ["a b"]}, 400, ["chips", "space"]),
        ({"chips": ["E1", "e1"]}, 400, ["chips", "twice"]),
        ({"first_name": "A" * 201}, 422, ["first_name"]),
        ({"club": "x\ny"}, 422, ["club"]),
        ({"bib": ""}, 422, ["bib"]),
        ({"bib": "1" * 33}, 422, ["bib"]),
        ({"chips": ["c" * 65]}, 422, ["chips"]),
        ({"gender": None}, 422, ["gender"]),
    ]
    for change, status, words in cases:
        answer = await client.post("/api/athletes", headers=tk, json={**NEW, **change})
        assert answer.status_code == status, (change, answer.text)
        detail = answer.json()["detail"]
        assert all(word in detail for word in words), (change, detail)
    missing = await client.post("/api/athletes", headers=tk, json={"bib": "960"})
    assert missing.status_code == 422
    assert "gender" in missing.json()["detail"] and "race" in missing.json()["detail"]
    assert len(await actions(served)) == before  # nothing refused was journaled


async def test_an_edit_is_checked_as_an_addition(served: Served) -> None:
    client = served.client
    tk = served.auth(await served.token("timekeeper"))
    before = (await client.get("/api/athletes/1/registration", headers=tk)).json()
    assert (before["race"], before["wave"]) == ("mile", "elite")
    for change, words in (({"wave": "fast"}, ["wave", "fast"]),
                          ({"race": "kids"}, ["wave", "kids has no wave 'elite'"]),
                          ({"gender": "Q"}, ["gender"]), ({}, ["nothing to change"]),
                          ({"race": "marathon"}, ["race", "marathon"])):
        answer = await client.patch("/api/athletes/1", headers=tk, json=change)
        assert answer.status_code == 400, answer.text
        assert all(word in answer.json()["detail"] for word in words), answer.text
    assert (await client.patch("/api/athletes/999", headers=tk,
                               json={"club": "x"})).status_code == 404
    moved = await client.patch("/api/athletes/1", headers=tk, json={
        "race": "kids", "wave": "", "club": "  New Club ", "reason": "wrong race"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["row"]["race"], moved.json()["row"]["club"]) == ("kids", "New Club")
    after = (await client.get("/api/athletes/1/registration", headers=tk)).json()
    assert (after["race"], after["wave"], after["chips"]) == ("kids", None, before["chips"])
    typed = await client.patch("/api/athletes/1", headers=tk, json={"category": "Veterans"})
    assert typed.json()["row"]["category"] == "Veterans"
    computed = await client.patch("/api/athletes/1", headers=tk, json={"category": ""})
    assert computed.json()["row"]["category"] == before["category"]


async def test_a_chip_assigned_to_a_new_participant(served: Served) -> None:
    client = served.client
    tk = served.auth(await served.token("timekeeper"))
    assert (await client.post("/api/athletes", headers=tk,
                              json={**NEW, "chips": []})).status_code == 201
    given = await client.post("/api/chips", headers=tk, json={"chip": "E0950", "bib": "950"})
    assert given.status_code == 200, given.text
    shown = (await client.get("/api/athletes/950/registration", headers=tk)).json()
    assert shown["chips"] == ["E0950"]
    # A chip someone wears is refused at registration, but can be moved with POST /api/chips.
    taken = await client.post("/api/athletes", headers=tk,
                              json={**NEW, "bib": "952", "chips": ["E0950"]})
    assert taken.status_code == 409 and "bib 950" in taken.json()["detail"]


async def test_reader_tokens_only_for_the_events_readers(served: Served) -> None:
    client, admin = served.client, served.admin
    refused = await client.post("/api/tokens", headers=admin,
                                json={"role": "reader", "reader": "finish-9", "label": "x"})
    assert refused.status_code == 400
    detail = refused.json()["detail"]
    assert "reader" in detail and "'finish-9'" in detail and "finish-main" in detail
    added = await client.post("/api/readers", headers=admin,
                              json={"id": "finish-9", "point": "finish", "format": "ipico"})
    assert added.status_code == 201, added.text
    made = await client.post("/api/tokens", headers=admin,
                             json={"role": "reader", "reader": "finish-9", "label": "x"})
    assert made.status_code == 201, made.text
    other = await client.post("/api/tokens", headers=admin,
                              json={"role": "timekeeper", "reader": "finish-9", "label": "x"})
    assert other.status_code == 400 and "reader" in other.json()["detail"]


def test_token_create_refuses_a_reader_the_event_does_not_have(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    event = tmp_path / "race" / "event.toml"
    shutil.copytree(EXAMPLE.parent, event.parent)
    # Not imported yet: event.toml's readers are the event's.
    assert main(["token", "create", str(event), "--role", "reader", "--reader", "nope"]) == 2
    error = capsys.readouterr().err
    assert "no reader 'nope' in the event 'Backwards Mile 2026'" in error
    assert "finish-main" in error
    assert main(["token", "create", str(event), "--role", "reader",
                 "--reader", "finish-main"]) == 0
    assert capsys.readouterr().out.startswith("gmb_")
    assert main(["token", "create", str(tmp_path / "missing.toml"), "--role", "reader",
                 "--reader", "finish-main"]) == 2
    assert "no such file" in capsys.readouterr().err
    # No EVENT.toml: the events of the database (DATABASE_URL, or gambero.db here).
    monkeypatch.chdir(tmp_path)
    assert main(["token", "create", "--role", "reader", "--reader", "finish-main"]) == 2
    assert "holds no event" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{event.parent / 'gambero.db'}")
    assert main(["import", str(event)]) == 0
    capsys.readouterr()
    assert main(["token", "create", "--role", "reader", "--reader", "nope"]) == 2
    assert "no reader 'nope'" in capsys.readouterr().err
    assert main(["token", "create", "--role", "reader", "--reader", "half-box"]) == 0
    # A reader added while the event runs (journaled) is the event's too.
    asyncio.run(journal_reader(os.environ["DATABASE_URL"], "late-box"))
    assert main(["token", "create", "--role", "reader", "--reader", "late-box"]) == 0


async def journal_reader(url: str, reader: str) -> None:
    store = await Store.open(url)
    try:
        event_id = next(iter((await store.event_ids()).values()))
        await store.append(event_id, await store.last_seq(event_id) + 1,
                           [add_reader(ReaderConfig(reader, "finish", "ipico"))], recorded_ms=0)
    finally:
        await store.close()


def test_serve_prints_the_files_problems_at_start(tmp_path: Path) -> None:
    event = event_with_problems(tmp_path / "race")
    port = processes.free_port()
    log = tmp_path / "serve.log"
    server = processes.start(["serve", str(event), "--port", str(port), "--no-readers"],
                             {"GAMBERO_ADMIN_TOKEN": ADMIN, "DATABASE_URL": ""}, log)
    try:
        processes.wait_up(f"http://127.0.0.1:{port}", server, log)
        printed = log.read_text()
    finally:
        processes.stop(server)
    participants = event.parent / "participants.csv"
    lines = len(participants.read_text().splitlines())
    assert (f"warning: {participants}:{lines - 2}: bib 901 skipped: gender must be F, M or X, "
            "not 'Q'") in printed
    assert f"warning: {participants}:{lines}: row skipped: bib 1 appears twice" in printed
    assert "3 problems in the event's files" in printed
