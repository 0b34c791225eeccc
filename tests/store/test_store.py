"""Importing an event folder into the store and loading it back, on both databases: the event,
participants and adjustments come back exactly; a re-import syncs participants by bib, replaces
the adjustments, reports what changed and never touches the journal."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from timing.entries import Entry, Journaled, ReadEntry, RejectedEntry, set_status
from timing.eventfile import EventFiles, load_event
from timing.journal import ChipRow, EventRow
from timing.reads import Read
from timing.standings import Standings
from timing.store import Store

from .events import (
    ADDED,
    EDIT_REPORT,
    EXAMPLE,
    EXAMPLE_BIBS,
    EXAMPLE_NAME,
    NEW_CHIP,
    copy_example,
    edit_participants,
    read_rows,
    write_rows,
)

EXAMPLE_TOML = EXAMPLE / "event.toml"


def example() -> EventFiles:
    files = load_event(EXAMPLE_TOML)
    assert files.problems == []
    return files


async def replay_all(store: Store, event_id: int) -> list[Journaled]:
    return [item async for batch in store.replay(event_id) for item in batch]


async def test_import_then_load_gives_the_same_event(store: Store) -> None:
    files = example()
    report = await store.import_event(files, str(EXAMPLE_TOML))
    assert (report.created, report.added, report.changed, report.removed) == (
        True, EXAMPLE_BIBS, {}, [])
    assert (report.adjustments_before, report.adjustments) == (0, 2)
    assert report.summary() == ("event created: 300 participants added, 0 changed, 0 removed; "
                                "2 adjustments (were 0)")
    assert await store.event_ids() == {EXAMPLE_NAME: report.event_id}
    loaded = await store.load(report.event_id)
    assert loaded.event_id == report.event_id
    assert loaded.event == files.event
    assert loaded.athletes == files.athletes
    assert loaded.adjustments == files.adjustments
    assert [a.chips for a in loaded.athletes if a.bib in ("23", "26")] == [
        ("058000120224", "058000120246"), ("05800012028a", "058000120290")]
    assert await store.last_seq(report.event_id) == 0


async def test_reimport_unchanged_reports_nothing(store: Store) -> None:
    files = example()
    first = await store.import_event(files, "first.toml")
    again = await store.import_event(example(), "again.toml")
    assert again.event_id == first.event_id
    assert (again.created, again.added, again.changed, again.removed) == (False, [], {}, [])
    assert (again.adjustments_before, again.adjustments) == (2, 2)
    assert again.summary() == ("event updated: 0 participants added, 0 changed, 0 removed; "
                               "2 adjustments")
    loaded = await store.load(first.event_id)
    assert (loaded.event, loaded.athletes, loaded.adjustments) == (
        files.event, files.athletes, files.adjustments)
    async with store.engine.connect() as connection:
        source = await connection.scalar(select(EventRow.source))
    assert source == "again.toml"


async def test_reimport_of_edited_participants_reports_each_change(
        store: Store, tmp_path: Path) -> None:
    first = await store.import_event(example(), "")
    event_toml = copy_example(tmp_path / "event")
    edit_participants(event_toml)
    edited = load_event(event_toml)
    assert edited.problems == []
    report = await store.import_event(edited, str(event_toml))
    assert report.event_id == first.event_id
    assert (report.created, report.added, report.removed) == (False, ["531"], ["270"])
    assert report.changed == EDIT_REPORT
    assert report.summary() == ("event updated: 1 participants added, 5 changed, 1 removed; "
                                "2 adjustments")
    loaded = await store.load(first.event_id)
    assert len(loaded.athletes) == 300
    assert {a.bib: a for a in loaded.athletes} == {a.bib: a for a in edited.athletes}
    by_bib = {a.bib: a for a in loaded.athletes}
    original = {a.bib: a for a in example().athletes}
    assert by_bib["3"].first_name == "Sofie"
    assert by_bib["41"].wave == "elite"
    assert by_bib["5"].chips == (NEW_CHIP,)
    assert (by_bib["8"].chips, by_bib["9"].chips) == (original["9"].chips, original["8"].chips)
    assert "270" not in by_bib
    assert by_bib["531"].chips == (ADDED["chips"],)
    async with store.engine.connect() as connection:
        chips = (await connection.execute(select(ChipRow.code_key))).scalars().all()
    expected = sorted(chip.lower() for a in edited.athletes for chip in a.chips)
    assert sorted(chips) == expected


async def test_reimport_replaces_the_adjustments(store: Store, tmp_path: Path) -> None:
    first = await store.import_event(example(), "")
    event_toml = copy_example(tmp_path / "event")
    columns, rows = read_rows(event_toml.parent / "adjustments.csv")
    rows = [rows[1], {"bib": "100", "kind": "status", "value": "DNF", "reason": "knee"},
            {"bib": "101", "kind": "penalty", "value": "30", "reason": "cut"}]
    write_rows(event_toml.parent / "adjustments.csv", columns, rows)
    edited = load_event(event_toml)
    assert edited.problems == []
    report = await store.import_event(edited, "")
    assert (report.added, report.changed, report.removed) == ([], {}, [])
    assert (report.adjustments_before, report.adjustments) == (2, 3)
    assert report.summary() == ("event updated: 0 participants added, 0 changed, 0 removed; "
                                "3 adjustments (were 2)")
    loaded = await store.load(first.event_id)
    assert [(a.bib, a.kind, a.status, a.penalty_ms, a.reason) for a in loaded.adjustments] == [
        ("7", "penalty", None, 10_000, "false start: left before the elite gun "
                                       "(starter's report)"),
        ("100", "status", "DNF", 0, "knee"),
        ("101", "penalty", None, 30_000, "cut"),
    ]


async def test_reimport_leaves_the_journal_untouched(store: Store, tmp_path: Path) -> None:
    files = example()
    event_id = (await store.import_event(files, "")).event_id
    by_bib = {a.bib: a for a in files.athletes}
    removed_chip = by_bib["270"].chips[0]
    moment = datetime(2026, 5, 10, 9, 8, 30, 250_000)
    entries: list[Entry] = [
        ReadEntry("finish-main", Read(removed_chip, moment, reader="01", line=1, raw="r1"), 11),
        ReadEntry("finish-main", Read(by_bib["8"].chips[0], moment, line=2, raw="r2"), 12),
        RejectedEntry("finish-main", "garbage", "not an IPICO record", 13, line=3),
        set_status("3", "DNF", actor="desk", at_ms=14, reason="retired"),
    ]
    await store.append(event_id, 1, entries, recorded_ms=99)
    before = await replay_all(store, event_id)
    assert [item.seq for item in before] == [1, 2, 3, 4]

    event_toml = copy_example(tmp_path / "event")
    edit_participants(event_toml)
    edited = load_event(event_toml)
    report = await store.import_event(edited, "")
    assert report.removed == ["270"]

    assert await replay_all(store, event_id) == before
    assert await store.last_seq(event_id) == 4
    counts = [await store.count(event_id, kind) for kind in ("read", "rejected", "action")]
    assert counts == [2, 1, 1]
    # The removed participant's chip is now an unknown chip; the swapped chip is bib 9's.
    loaded = await store.load(event_id)
    standings = Standings(loaded.event, loaded.athletes, loaded.adjustments)
    outcomes = [standings.add_read(e.reader_id, e.read) for e in
                (item.entry for item in before) if isinstance(e, ReadEntry)]
    assert [(o.kind, o.key) for o in outcomes] == [("unknown_chip", removed_chip),
                                                   ("athlete", "9")]


async def test_a_second_event_gets_its_own_id(store: Store, tmp_path: Path) -> None:
    first = await store.import_event(example(), "")
    event_toml = copy_example(tmp_path / "event")
    text = event_toml.read_text(encoding="utf-8")
    event_toml.write_text(text.replace(f'name = "{EXAMPLE_NAME}"', 'name = "Forwards Mile"'),
                          encoding="utf-8")
    second = await store.import_event(load_event(event_toml), "")
    assert second.created is True
    assert second.event_id != first.event_id
    assert await store.event_ids() == {EXAMPLE_NAME: first.event_id,
                                       "Forwards Mile": second.event_id}
    assert (await store.load(second.event_id)).event.name == "Forwards Mile"
    assert len((await store.load(first.event_id)).athletes) == 300


async def test_a_row_with_a_mistake_keeps_the_participant_as_imported(
        store: Store, tmp_path: Path) -> None:
    event_toml = copy_example(tmp_path / "event")
    first = await store.import_event(load_event(event_toml), "")
    path = event_toml.parent / "participants.csv"
    columns, rows = read_rows(path)
    for row in rows:
        if row["bib"] == "5":
            row["gender"] = "Q"            # a typo, not a withdrawal
        if row["bib"] == "6":
            row["race"] = "marathon"
    write_rows(path, columns, rows)
    typo = load_event(event_toml)
    assert typo.skipped_bibs == {"5", "6"}
    report = await store.import_event(typo, "")
    assert (report.removed, sorted(report.kept), report.changed) == ([], ["5", "6"], {})
    assert report.summary().endswith("; 2 kept unchanged because their rows have mistakes")
    loaded = await store.load(first.event_id)
    assert {"5", "6"} <= {a.bib for a in loaded.athletes}


async def test_a_change_in_an_extra_column_is_saved(store: Store, tmp_path: Path) -> None:
    event_toml = copy_example(tmp_path / "event")
    path = event_toml.parent / "participants.csv"
    columns, rows = read_rows(path)
    for row in rows:
        row["shirt"] = "M"
    write_rows(path, [*columns, "shirt"], rows)
    first = await store.import_event(load_event(event_toml), "")
    rows[0]["shirt"] = "XL"
    write_rows(path, [*columns, "shirt"], rows)
    report = await store.import_event(load_event(event_toml), "")
    assert report.changed == {rows[0]["bib"]: ["extra"]}
    loaded = {a.bib: a for a in (await store.load(first.event_id)).athletes}
    assert loaded[rows[0]["bib"]].extra == (("shirt", "XL"),)
