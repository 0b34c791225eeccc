"""GET /api/journal: every action, manual entry, chip read and rejected line in one form, with
typed fields and times in the event's timezone (Europe/Rome, two hours ahead of UTC in May),
filtered by kind, action and athlete, paged back with `before`."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from timing.entries import (
    ActionEntry,
    Entry,
    ReadEntry,
    RejectedEntry,
    acknowledge,
    register,
)
from timing.model import Athlete
from timing.reads import Read

from .conftest import Served

ROME = ZoneInfo("Europe/Rome")
NINE = 1778396400000
"""2026-05-10 09:00:00 in Rome (07:00 UTC): the event's day."""
DESK = "timekeeper:finish desk"
JONAS_CHIP = "058000120162"
"""Bib 12's chip in participants.csv."""


async def journal(served: Served, headers: dict[str, str], **params: Any
                  ) -> list[dict[str, Any]]:
    answer = await served.client.get("/api/journal", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def desk_token(served: Served) -> dict[str, str]:
    answer = await served.client.post("/api/tokens", headers=served.admin,
                                      json={"role": "timekeeper", "label": "finish desk"})
    assert answer.status_code == 201, answer.text
    return served.auth(answer.json()["token"])


async def ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


async def a_day_at_the_desk(served: Served) -> tuple[dict[str, str], dict[str, int]]:
    """One entry of every kind, through the routes where they exist; the seq of each."""
    tk = await desk_token(served)
    post, core = served.client.post, served.runtime.core
    assert core is not None
    seqs: dict[str, int] = {}
    seqs["gun"] = (await ok(await post("/api/races/mile/gun", headers=tk, json={
        "time_ms": NINE + 30_560, "wave": "open", "reason": "missed press",
        "correct": True})))["seq"]
    seqs["gun_next_day"] = (await ok(await post("/api/races/kids/gun", headers=tk, json={
        "time_ms": NINE + 23 * 3_600_000, "correct": True})))["seq"]
    seqs["status"] = (await ok(await post("/api/athletes/12/status", headers=tk, json={
        "status": "DQ", "reason": "ran forwards"})))["seq"]
    seqs["penalty"] = (await ok(await post("/api/athletes/12/penalty", headers=tk, json={
        "ms": 15_000, "reason": "cut the corner"})))["seq"]
    seqs["chip"] = (await ok(await post("/api/chips", headers=tk, json={
        "chip": "JR-SPARE-1", "bib": "12"})))["seq"]
    seqs["edit"] = (await ok(await served.client.patch("/api/athletes/12", headers=tk, json={
        "club": "Gambero Athletic"})))["seq"]
    seqs["manual"] = (await ok(await post("/api/manual", headers=tk, json={"entries": [
        {"bib": "12", "time_ms": NINE + 400_250}]})))["seq"]
    seqs["unknown_bib"] = (await ok(await post("/api/manual", headers=tk, json={"entries": [
        {"bib": "9999", "time_ms": NINE + 401_000}]})))["seq"]
    await ok(await post("/api/readers", headers=tk, json={
        "id": "finish-spare", "point": "finish", "format": "manual", "clock_offset_s": 1.5}))
    now = time.time_ns() // 1_000_000
    seqs["reader"] = core.seq
    seqs["participant"] = await core.act(register(
        Athlete("900", "Ada", "Nuova", "F", "kids"), actor=DESK, at_ms=now))
    seqs["alarm"] = await core.act(acknowledge("reader:finish-main:drift", 1.5, actor=DESK,
                                               at_ms=now))
    # The corrections and a chip read straight into the journal, as their routes and the
    # readers would write them: the journal view is what is tested here, not the corrections.
    hand = {"reader": "finish-hand", "chip": "", "clock": "utc"}
    later: list[Entry] = [
        ReadEntry("finish-backup", Read(JONAS_CHIP, datetime(2026, 5, 10, 9, 6, 41, 700_000),
                                        True), now),  # its box runs 1.2 s fast
        RejectedEntry("finish-main", "aa01zz", "not an IPICO record", now, line=7),
        ActionEntry("void", {**hand, "bib": "12", "time": (NINE + 400_250) * 1000,
                             "seq": seqs["manual"]}, DESK, now, "typed twice"),
        ActionEntry("reassign", {**hand, "bib": "9999", "time": (NINE + 401_000) * 1000,
                                 "seq": seqs["unknown_bib"], "to_bib": "12"}, DESK, now,
                    "bib misread"),
        ActionEntry("void", {"seq": seqs["gun"]}, "admin:admin", now, "set aside")]
    first = core.seq + 1
    await served.runtime.store.append(served.runtime.event_id, first, later, now)
    for offset, name in enumerate(("chip_read", "rejected", "void", "reassign", "void_entry")):
        seqs[name] = first + offset
    return tk, seqs


def local_now_text(at_ms: int) -> str:
    moment = datetime.fromtimestamp(at_ms / 1000, ROME)
    text = f"{moment:%H:%M:%S}.{moment.microsecond // 100_000}"
    return text if moment.date().isoformat() == "2026-05-10" else f"{moment:%Y-%m-%d} {text}"


async def test_every_kind_in_one_form_in_the_events_local_time(served: Served) -> None:
    tk, seqs = await a_day_at_the_desk(served)
    entries = await journal(served, tk)
    assert [entry["seq"] for entry in entries] == sorted(seqs.values(), reverse=True)
    by_seq = {entry["seq"]: entry for entry in entries}
    for entry in entries:
        assert entry["at_local"] == local_now_text(entry["at_ms"])
        assert set(entry) == {"seq", "kind", "action", "at_ms", "at_local", "actor", "reason",
                              "bib", "fields", "summary"}

    def check(name: str, kind: str, bib: str | None, fields: dict[str, Any],
              actor: str = DESK, reason: str = "") -> None:
        entry = by_seq[seqs[name]]
        assert (entry["kind"], entry["bib"], entry["actor"], entry["reason"]) == (
            kind, bib, actor, reason), name
        for key, value in fields.items():
            assert entry["fields"].get(key) == value, (name, key, entry["fields"])

    check("gun", "action", None, {
        "race": "mile", "race_name": "Backwards Mile", "wave": "open", "time_ms": NINE + 30_560,
        "time_local": "09:00:30.5"}, reason="missed press")
    check("gun_next_day", "action", None, {
        "race": "kids", "race_name": "Kids' Backwards 400 m", "wave": None,
        "time_local": "2026-05-11 08:00:00.0"})
    check("status", "action", "12", {"status": "DQ"}, reason="ran forwards")
    check("penalty", "action", "12", {"ms": 15_000}, reason="cut the corner")
    check("chip", "action", "12", {"chip": "JR-SPARE-1", "move": True})
    edited = by_seq[seqs["edit"]]["fields"]
    check("edit", "action", "12", {"first_name": "Jonas", "last_name": "O'Brien",
                                    "club": "Gambero Athletic", "race": "mile",
                                    "race_name": "Backwards Mile", "wave": "elite"})
    assert set(edited["chips"]) == {JONAS_CHIP, "JR-SPARE-1"}
    check("manual", "manual", "12", {"bib": "12", "point": "finish", "reader": "finish-hand",
                                     "time_ms": NINE + 400_250, "time_local": "09:06:40.2"})
    check("reader", "action", None, {"reader": "finish-spare", "point": "finish",
                                     "format": "manual", "clock_offset_ms": 1500})
    check("participant", "action", "900", {"first_name": "Ada", "race": "kids",
                                           "race_name": "Kids' Backwards 400 m"})
    check("alarm", "action", None, {"alarm": "reader:finish-main:drift", "measure": 1.5})
    check("chip_read", "read", "12", {"chip": JONAS_CHIP, "reader": "finish-backup",
                                      "point": "finish", "time_ms": NINE + 400_500,
                                      "time_local": "09:06:40.5"}, actor="")
    check("rejected", "rejected", None, {"reader": "finish-main", "line": 7, "raw": "aa01zz"},
          actor="", reason="not an IPICO record")
    check("void", "action", "12", {"seq": seqs["manual"], "voided": "manual", "bib": "12",
                                   "point": "finish", "time_local": "09:06:40.2"},
          reason="typed twice")
    check("reassign", "action", "12", {"seq": seqs["unknown_bib"], "bib": "9999",
                                       "to_bib": "12", "point": "finish",
                                       "time_ms": NINE + 401_000, "time_local": "09:06:41.0"},
          reason="bib misread")
    check("void_entry", "action", None, {"seq": seqs["gun"], "voided": "entry"},
          actor="admin:admin", reason="set aside")
    # The English line scripts read is still there, as it was.
    assert by_seq[seqs["gun"]]["summary"] == (
        "gun: race=mile, wave=open, time_ms=09:00:30.5, correct=True (missed press)"
        if "correct=" in by_seq[seqs["gun"]]["summary"]
        else "gun: race=mile, wave=open, time_ms=09:00:30.5 (missed press)")
    assert by_seq[seqs["manual"]]["summary"].startswith("finish-hand: bib 12 at 2026-05-10T07:06")


async def test_filters_by_kind_action_and_athlete(served: Served) -> None:
    tk, seqs = await a_day_at_the_desk(served)

    async def seqs_of(**params: Any) -> set[int]:
        return {entry["seq"] for entry in await journal(served, tk, **params)}

    def named(*names: str) -> set[int]:
        return {seqs[name] for name in names}

    actions = named("gun", "gun_next_day", "status", "penalty", "chip", "edit", "reader",
                    "participant", "alarm", "void", "reassign", "void_entry")
    assert await seqs_of(kind="action") == actions
    assert await seqs_of(kind="manual") == named("manual", "unknown_bib")
    assert await seqs_of(kind="read") == named("chip_read")
    assert await seqs_of(kind="rejected") == named("rejected")
    both = named("manual", "unknown_bib", "rejected")
    assert await seqs_of(kind="manual,rejected") == both
    assert await seqs_of(kind=["manual", "rejected"]) == both
    assert await seqs_of(action="gun") == named("gun", "gun_next_day")
    assert await seqs_of(action="status,penalty", kind="action") == named("status", "penalty")
    assert await seqs_of(action=["void", "reassign"]) == named("void", "reassign", "void_entry")
    twelve = named("status", "penalty", "chip", "edit", "manual", "void", "reassign")
    assert await seqs_of(bib="12") == twelve
    assert await seqs_of(bib="12", chips="true") == twelve | named("chip_read")
    assert await seqs_of(bib="12", kind="manual") == named("manual")
    assert await seqs_of(bib="12", action="status") == named("status")
    assert await seqs_of(bib="9999") == named("unknown_bib", "reassign")
    assert await seqs_of(bib="1") == set()


async def test_paging_back_with_before(served: Served) -> None:
    tk, _ = await a_day_at_the_desk(served)
    everything = await journal(served, tk)
    pages: list[list[dict[str, Any]]] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 4} if before is None else {"limit": 4,
                                                                     "before": before}
        page = await journal(served, tk, **params)
        if not page:
            break
        assert len(page) <= 4
        pages.append(page)
        before = page[-1]["seq"]
    assert [entry for page in pages for entry in page] == everything
    assert len(pages) == -(-len(everything) // 4)
    manual = await journal(served, tk, kind="manual", limit=1)
    older = await journal(served, tk, kind="manual", before=manual[0]["seq"])
    assert len(manual) == len(older) == 1 and older[0]["seq"] < manual[0]["seq"]


async def test_bad_filters_are_422_naming_the_field(served: Served) -> None:
    tk = await desk_token(served)
    for params, field in (({"kind": "chips"}, "kind"), ({"kind": "action,nope"}, "kind"),
                          ({"action": "fire"}, "action"),
                          ({"kind": "manual", "action": "gun"}, "action"),
                          ({"chips": "true"}, "chips"), ({"chips": "maybe"}, "chips"),
                          ({"before": "0"}, "before"), ({"before": "x"}, "before"),
                          ({"limit": "0"}, "limit"), ({"bib": ""}, "bib"),
                          ({"bib": "x" * 33}, "bib"), ({"bib": "1\x00"}, "bib")):
        answer = await served.client.get("/api/journal", headers=tk, params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert re.search(rf"\bquery\.{field}\b", answer.json()["detail"]), answer.text
    assert (await served.client.get("/api/journal")).status_code == 401


def test_times_no_date_can_show_are_null() -> None:
    """An old journal may hold a gun at 2**63 - 1 ms: its local time is null, not an error."""
    from api.journal_view import JournalView
    from timing.entries import Journaled
    from timing.eventfile import load_event

    from .conftest import EXAMPLE

    view = JournalView(load_event(EXAMPLE).event, {})
    far = ActionEntry("gun", {"race": "mile", "wave": None, "time_ms": 2**63 - 1}, "", 0)
    item = view.item(Journaled(1, far))
    assert item["fields"]["time_ms"] == 2**63 - 1 and item["fields"]["time_local"] is None
    assert item["at_local"] == "1970-01-01 01:00:00.0"
    assert view.local(NINE - 86_400_000 + 100) == "2026-05-09 09:00:00.1"
    assert view.local(datetime(2026, 5, 10, 22, 30, tzinfo=UTC).timestamp() * 1000) is None
    assert view.local(int((datetime(2026, 5, 10, 21, 59, tzinfo=UTC) - datetime(
        1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))) == "23:59:00.0"
