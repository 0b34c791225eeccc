"""Issue 12's findings, each as it was reproduced: no request can wedge or brick an event, and
bad input gets a clear 4xx naming the field (or a rejected line), never a 500."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest

from timing.entries import gun

from .conftest import Served

MILE_GUN = 1778396700000
POISONS = (-253402300800000, 1e30, 2**63 - 1)


def json_body(served: Served, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or served.admin), "content-type": "application/json"}


async def test_1_an_absurd_clock_offset_is_refused_and_nothing_wedges(served: Served) -> None:
    """The attack: a reader with clock_offset_s 1e16, then one read for it. The read was never
    answered and every later write hung. Now the reader is refused, naming the field."""
    client = served.client
    added = await client.post("/api/readers", headers=served.admin, json={
        "id": "far", "point": "finish", "format": "ipico", "clock_offset_s": 1e16})
    assert added.status_code == 422, added.text
    assert "clock_offset_s" in added.json()["detail"]
    near = await client.post("/api/readers", headers=served.admin, json={
        "id": "near", "point": "finish", "format": "ipico", "clock_offset_s": 86_400})
    assert near.status_code == 201, near.text
    answer = await asyncio.wait_for(client.post(
        "/api/readers/near/reads", headers=json_body(served),
        content=json.dumps({"reads": [{"chip": "058000120007", "time_ms": MILE_GUN}]})), 10)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    manual = await asyncio.wait_for(client.post("/api/manual", headers=served.admin, json={
        "entries": [{"bib": "1", "time_ms": MILE_GUN + 400_000}]}), 10)
    assert manual.status_code == 200, manual.text


@pytest.mark.parametrize("offset", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_3_non_finite_clock_offsets_are_422(served: Served, offset: str) -> None:
    body = '{"id": "x", "point": "finish", "format": "ipico", "clock_offset_s": ' + offset + "}"
    answer = await served.client.post("/api/readers", headers=json_body(served),
                                      content=body.encode())
    assert answer.status_code == 422, answer.text
    assert "clock_offset_s" in answer.json()["detail"]


@pytest.mark.parametrize("moment", POISONS)
async def test_2_a_gun_outside_the_event_days_is_refused(served: Served, moment: float) -> None:
    answer = await served.client.post("/api/races/mile/gun", headers=served.admin,
                                      json={"time_ms": moment})
    assert answer.status_code == 422, answer.text
    assert "time_ms" in answer.json()["detail"]
    assert (await served.client.get("/api/journal", headers=served.admin)).json() == []


async def test_2_a_poisoned_gun_in_the_journal_is_set_aside_and_the_journal_shows(
        served: Served) -> None:
    """What an older version journaled: the journal view answers (it gave 500), the results
    show no absurd time, and the console's list names the entry."""
    core = served.runtime.core
    assert core is not None
    first = core.seq + 1
    await core.store.append(core.event_id, first, [gun("mile", 2**63 - 1)], recorded_ms=0)
    await core.stop()
    served.runtime.core = None
    journal = await served.client.get("/api/journal", headers=served.admin)
    assert journal.status_code == 200, journal.text
    assert str(2**63 - 1) in journal.json()[0]["summary"]


async def test_3_hand_times_no_date_can_show_are_422_naming_the_entry(served: Served) -> None:
    answer = await served.client.post("/api/manual", headers=served.admin, json={"entries": [
        {"bib": "1", "time_ms": MILE_GUN + 400_000}, {"bib": "2", "time_ms": 1e18}]})
    assert answer.status_code == 422, answer.text
    assert "entries.1.time_ms" in answer.json()["detail"]
    assert (await served.client.get("/api/journal", headers=served.admin)).json() == []


async def test_3_posted_reads_no_date_can_show_are_rejected_lines(served: Served) -> None:
    """A reader token is enough to post: such reads are journaled as rejected lines (as a
    corrupt line is), the good ones in the same post are taken."""
    reader = await served.token("reader", "finish-main")
    body = {"reads": [{"chip": "058000120007", "time_ms": 10**18},
                      {"chip": "058000120007", "time_ms": MILE_GUN - 400 * 86_400_000},
                      {"chip": "05800012002d", "time_ms": MILE_GUN + 400_000}]}
    answer = await served.client.post("/api/readers/finish-main/reads",
                                      headers=json_body(served, served.auth(reader)),
                                      content=json.dumps(body))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["accepted"], answer.json()["rejected"]) == (1, 2)
    rejected = (await served.client.get("/api/rejected", headers=served.admin)).json()
    reasons = sorted(line["reason"] for line in rejected)
    assert "no date can show it" in reasons[1] or "no date can show it" in reasons[0]
    assert any("not within the event's days" in reason for reason in reasons)


@pytest.mark.parametrize("path", ["/api/manual", "/api/readers/finish-main/reads",
                                  "/api/races/mile/gun", "/api/readers", "/api/tokens"])
async def test_3_a_body_nested_100000_deep_is_a_4xx(served: Served, path: str) -> None:
    answer = await served.client.post(path, headers=json_body(served),
                                      content=b"[" * 100_000)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.json()["detail"]


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|'/C calc'!A0", "@SUM(1+1)",
            "-2+3", "=1+1", "Tabbed"]


async def test_4_results_csv_neutralises_formula_cells(served: Served) -> None:
    out = io.StringIO()
    table = csv.writer(out, lineterminator="\n")
    table.writerow(["bib", "first_name", "last_name", "gender", "race"])
    table.writerows([700 + n, name, "Rossi", "F", "mile"]
                    for n, name in enumerate(FORMULAS))
    imported = await served.client.post("/api/participants", headers={
        **served.admin, "content-type": "text/csv"}, content=out.getvalue().encode())
    assert imported.status_code == 200, imported.text
    assert len(imported.json()["added"]) == len(FORMULAS), imported.json()
    athlete = (await served.client.get("/api/athletes/700")).json()
    assert athlete["first_name"] == FORMULAS[0]  # the data is kept as it is
    text = (await served.client.get("/api/races/mile/results.csv")).text
    cells = {row["bib"]: row for row in csv.DictReader(io.StringIO(text))}
    for n, name in enumerate(FORMULAS):
        kept = name.strip()  # participants.csv cells are stripped
        row = cells[str(700 + n)]
        assert row["first_name"] == (kept if kept[0] not in "=+-@" else "'" + kept)


async def test_5_hostile_participant_rows_are_located_problems(served: Served) -> None:
    rows = ("bib,first_name,last_name,gender,race\n"
            f"801,{'A' * 5000},Rossi,F,mile\n"
            f"{'9' * 5000},Anna,Rossi,F,mile\n"
            "80\x002,Anna,Rossi,F,mile\n"
            "803,\u202eevil,Rossi,F,mile\n"
            "804,Ó Súilleabháin,D\u2019Angelo,F,mile\n")
    answer = await served.client.post("/api/participants", headers={
        **served.admin, "content-type": "text/csv"}, content=rows.encode())
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert sorted(report["added"]) == ["803", "804"], report
    problems = " ".join(report["problems"])
    assert "participants.csv:2" in problems and "first_name" in problems
    assert "participants.csv:3" in problems and "participants.csv:4" in problems
    evil = (await served.client.get("/api/athletes/803")).json()
    assert evil["first_name"] == "\u202eevil\u202c"  # the override is closed where it ends
    kind = (await served.client.get("/api/athletes/804")).json()
    assert (kind["first_name"], kind["last_name"]) == ("Ó Súilleabháin", "D\u2019Angelo")


async def test_edits_and_chips_refuse_what_their_columns_cannot_hold(served: Served) -> None:
    client, admin = served.client, served.admin
    for body, field in (({"first_name": "A" * 201}, "first_name"),
                        ({"last_name": "Ros\x00si"}, "last_name"),
                        ({"club": "x\ny"}, "club"), ({"reason": "r" * 501}, "reason")):
        answer = await client.patch("/api/athletes/1", headers=admin, json=body)
        assert answer.status_code == 422 and field in answer.json()["detail"], answer.text
    for body, field in (({"chip": "a b\x00", "bib": "1"}, "chip"),
                        ({"chip": "c" * 65, "bib": "1"}, "chip"),
                        ({"chip": "abc", "bib": "1" * 33}, "bib")):
        answer = await client.post("/api/chips", headers=admin, json=body)
        assert answer.status_code == 422 and field in answer.json()["detail"], answer.text
    born = await client.patch("/api/athletes/1", headers=admin, json={"birth_date": "1066-10-14"})
    assert born.status_code == 400 and "birth_date" in born.json()["detail"]
    revoke = await client.delete(f"/api/tokens/{2**63}", headers=admin)
    assert revoke.status_code == 422


async def test_quarantined_entries_are_listed_for_timekeepers(served: Served) -> None:
    client = served.client
    assert (await client.get("/api/quarantined")).status_code == 401
    assert (await client.get("/api/quarantined", headers=served.admin)).json() == []


async def test_9_a_reader_sending_garbage_cannot_grow_the_journal_without_bound(
        served: Served) -> None:
    """About 14,000 garbage lines a minute used to be 14,000 journal rows: now every line is
    counted (answers, reader health, and after a restart), a bounded number a second is
    journaled one by one, and the rest as summaries saying how many."""
    reader = served.auth(await served.token("reader", "finish-main"))
    garbage = b"".join(b"\x07\x00not an ipico line %d\n" % n for n in range(7000))
    sent = 0
    for _ in range(2):
        answer = await served.client.post("/api/readers/finish-main/reads", content=garbage,
                                          headers={**reader, "content-type": "text/plain"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["rejected"] == 7000
        sent += 7000
    core = served.runtime.core
    assert core is not None
    await core.stop()  # journals the summaries still counting
    health = (await served.client.get("/api/readers/finish-main", headers=served.admin)).json()
    assert health["rejected"] == sent
    lines = (await served.client.get("/api/rejected", headers=served.admin,
                                     params={"limit": 10_000})).json()
    assert len(lines) < 100
    assert sum(line["lines"] for line in lines) == sent
    counts = await core.store.reader_counts(core.event_id)
    assert counts["finish-main"][1] == sent


async def test_booleans_are_no_numbers(served: Served) -> None:
    """JSON `true` is not 1 ms: pydantic's lax mode took it for one."""
    penalty = await served.client.post("/api/athletes/1/penalty", headers=served.admin,
                                       json={"ms": True, "reason": "x"})
    assert penalty.status_code == 422 and "ms" in penalty.json()["detail"]
    gun_at = await served.client.post("/api/races/mile/gun", headers=served.admin,
                                      json={"time_ms": True})
    assert gun_at.status_code == 422


async def test_a_database_that_does_not_answer_is_a_503(served: Served,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    async def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT", None, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(served.runtime.store, "journal_page", down)
    answer = await served.client.get("/api/journal", headers=served.admin)
    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"] == "the database did not answer: connection refused"


async def test_search_terms_are_bounded(served: Served) -> None:
    long = await served.client.get("/api/races/mile/results", params={"q": "x" * 201})
    assert long.status_code == 422 and "q" in long.json()["detail"]
    fine = await served.client.get("/api/races/mile/results", params={"q": "Ó Súill"})
    assert fine.status_code == 200
