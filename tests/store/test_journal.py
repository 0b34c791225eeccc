"""The journal in the store, on both databases: every kind of entry comes back exactly as it was
appended, in sequence order; a replayed read or a taken sequence number writes nothing; replay
resumes after a sequence number and comes in batches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from timing.entries import (
    ActionEntry,
    Entry,
    Journaled,
    ReadEntry,
    RejectedEntry,
    assign_chip,
    gun,
    penalty,
    register,
    set_status,
    stored_form,
)
from timing.eventfile import load_event
from timing.journal import JournalRow
from timing.model import Athlete
from timing.reads import Read, undated_time
from timing.store import Store

from .events import EXAMPLE

RECORDED_MS = 1_778_396_000_000
MOMENT = datetime(2026, 5, 10, 9, 6, 1, 123_456)
_JOURNAL: Table = JournalRow.__table__  # type: ignore[assignment]


@pytest.fixture
async def event_id(store: Store) -> int:
    return (await store.import_event(load_event(EXAMPLE / "event.toml"), "")).event_id


async def replay_all(store: Store, event_id: int, after: int = 0) -> list[Journaled]:
    return [item async for batch in store.replay(event_id, after) for item in batch]


def every_kind() -> list[Entry]:
    late = Athlete(bib="600", first_name="Late", last_name="Comer", gender="X", race="mile",
                   birth_date=date(1990, 1, 2), wave="open", chips=("aa01", "AA02"),
                   club="Desk", category="X30-39")
    return [
        # A dated local read with every optional field set.
        ReadEntry("finish-main", Read("058000120007", MOMENT, reader="0a", antenna=2,
                                      rssi=-61.37, sequence=17, line=4,
                                      raw="aa0058000120007..."), 1_778_396_761_200),
        # An absolute (UTC) read, as a P3 decoder gives.
        ReadEntry("finish-p3", Read("FF1234", datetime(2026, 5, 10, 7, 6, 2, 500_001, tzinfo=UTC),
                                    reader="decoder-1", sequence=2**40, line=1, raw="8e02"),
                  1_778_396_762_000),
        # An undated read on the reader's day 2.
        ReadEntry("start-mat", Read("058000120093",
                                    undated_time(2, timedelta(hours=9, seconds=3.25)),
                                    dated=False, reader="box", sequence=9, line=7, raw="9;..."),
                  1_778_396_763_000),
        # A manual entry by bib (no chip), every optional field left out.
        ReadEntry("finish-hand", Read("", datetime(2026, 5, 10, 9, 10), bib="42"), 0),
        # A hand-timed entry keeps who typed it.
        ReadEntry("finish-hand", Read("", datetime(2026, 5, 10, 9, 11), bib="43"), 0,
                  actor="timekeeper-2"),
        # A chip read with nothing optional.
        ReadEntry("finish-backup", Read("05800012011A", MOMENT + timedelta(seconds=1)),
                  1_778_396_764_000),
        RejectedEntry("finish-main", "garbage\x01line", "not an IPICO record",
                      1_778_396_765_000, line=12),
        RejectedEntry("half-box", "", "empty record", 1_778_396_766_000),
        gun("mile", 1_778_396_400_000, wave="elite", actor="starter", at_ms=1_778_396_400_100,
            reason="horn"),
        gun("kids", None, actor="starter", at_ms=1_778_396_401_000),
        set_status("42", "DQ", actor="referee", at_ms=1_778_396_402_000, reason="report 3"),
        set_status("42", None, actor="referee", at_ms=1_778_396_403_000),
        penalty("7", 10.5, actor="referee", at_ms=1_778_396_404_000, reason="false start"),
        assign_chip("12", "0580001299aa", actor="desk", at_ms=1_778_396_405_000),
        register(late, actor="desk", at_ms=1_778_396_406_000),
        ActionEntry("participant", {"bib": "601", "nested": {"list": [1, 2.5, "x", None]},
                                    "flag": True}, "", 1_778_396_407_000),
    ]


async def test_every_entry_kind_round_trips_in_sequence_order(store: Store,
                                                              event_id: int) -> None:
    entries = every_kind()
    await store.append(event_id, 1, entries[:4], RECORDED_MS)
    await store.append(event_id, 5, entries[4:], RECORDED_MS)
    replayed = await replay_all(store, event_id)
    assert [item.seq for item in replayed] == list(range(1, len(entries) + 1))
    for item, entry in zip(replayed, entries, strict=True):
        assert item.entry == entry, item.seq
    assert await store.last_seq(event_id) == len(entries)
    assert [await store.count(event_id, kind) for kind in ("read", "rejected", "action")] == [
        6, 2, 8]


async def test_read_fields_survive_exactly(store: Store, event_id: int) -> None:
    entries = every_kind()
    await store.append(event_id, 1, entries, RECORDED_MS)
    reads = [item.entry for item in await replay_all(store, event_id)
             if isinstance(item.entry, ReadEntry)]
    first, utc, undated, manual, typed, bare = (entry.read for entry in reads)
    assert (first.time, first.dated, first.rssi, first.antenna) == (MOMENT, True, -61.37, 2)
    assert utc.time.tzinfo == UTC and utc.time.microsecond == 500_001
    assert utc.sequence == 2**40
    assert (undated.dated, undated.day_offset, undated.time.time().isoformat()) == (
        False, 2, "09:00:03.250000")
    assert (manual.chip, manual.bib, manual.line, manual.raw) == ("", "42", 0, "")
    assert (typed.bib, reads[4].actor, reads[3].actor) == ("43", "timekeeper-2", "")
    assert (bare.reader, bare.antenna, bare.rssi, bare.sequence, bare.bib) == (
        None, None, None, None, None)
    assert bare.chip == "05800012011A"


async def test_an_action_without_a_time_takes_the_append_time(store: Store,
                                                              event_id: int) -> None:
    await store.append(event_id, 1, [set_status("9", "DNS")], recorded_ms=RECORDED_MS)
    [item] = await replay_all(store, event_id)
    assert item.entry == ActionEntry("status", {"bib": "9", "status": "DNS"}, "", RECORDED_MS)


async def test_a_replayed_read_raises_and_writes_nothing(store: Store, event_id: int) -> None:
    original = ReadEntry("finish-main", Read("058000120007", MOMENT, sequence=5, line=1,
                                             raw="first"), 10)
    await store.append(event_id, 1, [original], RECORDED_MS)
    # Same reader, chip (in another case) and time: the same read sent again after a rewind.
    again = ReadEntry("finish-main", Read("058000120007".upper(), MOMENT, sequence=6, line=9,
                                          raw="again"), 20)
    fresh = ReadEntry("finish-main", Read("05800012002d", MOMENT), 20)
    with pytest.raises(IntegrityError):
        await store.append(event_id, 2, [fresh, again], RECORDED_MS)
    assert await store.last_seq(event_id) == 1
    assert await store.count(event_id, "read") == 1
    assert [item.entry for item in await replay_all(store, event_id)] == [original]
    # The same chip and time at another reader, or a microsecond later, is a different read.
    other_reader = ReadEntry("finish-backup", original.read, 30)
    later = ReadEntry("finish-main", Read("058000120007", MOMENT + timedelta(microseconds=1)), 30)
    await store.append(event_id, 2, [fresh, other_reader, later], RECORDED_MS)
    assert await store.count(event_id, "read") == 4


async def test_rejected_lines_are_never_deduplicated(store: Store, event_id: int) -> None:
    line = RejectedEntry("finish-main", "junk", "not a record", 5, line=3)
    await store.append(event_id, 1, [line, line], RECORDED_MS)
    await store.append(event_id, 3, [line], RECORDED_MS)
    assert await store.count(event_id, "rejected") == 3
    assert [item.seq for item in await replay_all(store, event_id)] == [1, 2, 3]


async def test_a_taken_sequence_number_raises_and_writes_nothing(store: Store,
                                                                 event_id: int) -> None:
    entries = every_kind()
    await store.append(event_id, 1, entries[:3], RECORDED_MS)
    with pytest.raises(IntegrityError):
        await store.append(event_id, 3, entries[3:6], RECORDED_MS)
    assert await store.last_seq(event_id) == 3
    assert [item.entry for item in await replay_all(store, event_id)] == entries[:3]


async def test_replay_resumes_after_a_sequence_number(store: Store, event_id: int) -> None:
    entries = every_kind()
    await store.append(event_id, 1, entries, RECORDED_MS)
    assert [(item.seq, item.entry) for item in await replay_all(store, event_id, after=4)] == [
        (seq, entry) for seq, entry in enumerate(entries[4:], start=5)]
    assert await replay_all(store, event_id, after=len(entries)) == []
    assert await replay_all(store, event_id, after=len(entries) + 10) == []


async def test_replay_comes_in_batches_in_order(store: Store, event_id: int) -> None:
    entries = every_kind()
    await store.append(event_id, 1, entries[:10], RECORDED_MS)
    batches = [batch async for batch in store.replay(event_id, after=0, batch=3)]
    assert [[item.seq for item in batch] for batch in batches] == [
        [1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]
    resumed = [batch async for batch in store.replay(event_id, after=6, batch=2)]
    assert [[item.seq for item in batch] for batch in resumed] == [[7, 8], [9, 10]]


async def test_a_replay_brings_what_is_appended_while_it_runs(store: Store,
                                                              event_id: int) -> None:
    entries = every_kind()
    await store.append(event_id, 1, entries[:4], RECORDED_MS)
    seen: list[int] = []
    async for batch in store.replay(event_id, after=0, batch=2):
        seen.extend(item.seq for item in batch)
        if seen == [1, 2]:  # a commit lands during the replay
            await store.append(event_id, 5, entries[4:7], RECORDED_MS)
    assert seen == [1, 2, 3, 4, 5, 6, 7]


async def test_each_event_has_its_own_journal(store: Store, event_id: int) -> None:
    other = load_event(EXAMPLE / "event.toml")
    other.event = replace(other.event, name="Other")
    other_id = (await store.import_event(other, "")).event_id
    entries = every_kind()
    await store.append(event_id, 1, entries[:2], RECORDED_MS)
    # The same read again, in another event: not a replay there.
    await store.append(other_id, 1, entries[:1], RECORDED_MS)
    assert (await store.last_seq(event_id), await store.last_seq(other_id)) == (2, 1)
    assert [item.entry for item in await replay_all(store, other_id)] == entries[:1]
    assert [item.entry for item in await replay_all(store, event_id)] == entries[:2]


async def test_the_last_record_number_of_each_reader_is_where_a_restart_resumes(
        store: Store, event_id: int) -> None:
    assert await store.last_reader_sequences(event_id) == {}
    entries: list[Entry] = [
        ReadEntry("half-box", Read("A", MOMENT, sequence=119), RECORDED_MS),
        ReadEntry("half-box", Read("B", MOMENT + timedelta(seconds=1), sequence=121), RECORDED_MS),
        ReadEntry("half-box", Read("C", MOMENT + timedelta(seconds=2), sequence=120), RECORDED_MS),
        ReadEntry("finish-main", Read("D", MOMENT), RECORDED_MS),          # IPICO: no number
        ReadEntry("start-mat", Read("E", MOMENT, sequence=7), RECORDED_MS),
        RejectedEntry("start-mat", "99;x", "bad", RECORDED_MS, 3),
    ]
    await store.append(event_id, 1, entries, RECORDED_MS)
    assert await store.last_reader_sequences(event_id) == {"half-box": 121, "start-mat": 7}


async def test_a_read_carrying_its_stored_form_is_stored_as_one_without(
        store: Store, event_id: int) -> None:
    """The core hands the store each read's (time, clock, dedup) as it computed them to
    de-duplicate (`ReadEntry.stored`); the rows must be the very rows the store makes itself."""
    reads = [entry for entry in every_kind() if isinstance(entry, ReadEntry)]
    carried = [replace(entry, stored=stored_form(entry.read)) for entry in reads]
    assert carried == reads  # `stored` is a cache, not part of what the entry is
    await store.append(event_id, 1, reads, RECORDED_MS)
    other = await other_event(store)
    await store.append(other, 1, carried, RECORDED_MS)
    assert await journal_rows(store, event_id) == await journal_rows(store, other)
    # ... and a carried dedup text is what makes a replay a duplicate, as a computed one does.
    with pytest.raises(IntegrityError):
        await store.append(other, len(reads) + 1, reads[:1], RECORDED_MS)


async def other_event(store: Store) -> int:
    files = load_event(EXAMPLE / "event.toml")
    renamed = replace(files, event=replace(files.event, name=files.event.name + " (copy)"))
    return (await store.import_event(renamed, "")).event_id


async def journal_rows(store: Store, event_id: int) -> list[tuple[object, ...]]:
    async with store.engine.connect() as connection:
        result = await connection.execute(
            select(_JOURNAL).where(_JOURNAL.c.event_id == event_id).order_by(_JOURNAL.c.seq))
        return [tuple(value for key, value in row._mapping.items() if key != "event_id")
                for row in result]
