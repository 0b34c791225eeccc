"""No entry can stop the core: an entry that cannot apply is set aside (quarantined) live and on
replay alike, a commit that fails fails no other submission, a journal that does not answer
is answered with an error in bounded time, and the core always stops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from timing.core import CommitFailed, JournalUnavailable, TimingCore
from timing.entries import (
    ActionEntry,
    ActionError,
    Entry,
    ReadEntry,
    RejectedEntry,
    add_reader,
    gun,
    register,
    void_entry,
)
from timing.model import Athlete, ReaderConfig
from timing.reads import Read, Rejected
from timing.results import results_csv
from timing.store import Store

from .test_core import START, finish_reads, imported

MILE_GUN = 1778396700000
POISONS = (-253402300800000, 10**30, 2**63 - 1)


async def poison(store: Store, event_id: int, entries: list[Entry]) -> int:
    """Entries an older version let into the journal, appended behind the core's back."""
    first = await store.last_seq(event_id) + 1
    await store.append(event_id, first, entries, recorded_ms=0)
    return first


async def rejected_entries(store: Store, event_id: int) -> list[RejectedEntry]:
    entries = [item.entry for item in await store.latest(event_id, "rejected", 10_000)]
    assert all(isinstance(entry, RejectedEntry) for entry in entries)
    return entries  # type: ignore[return-value]


def results(core: TimingCore) -> str:
    return results_csv(core.event, core.standings.results())


async def test_a_poisoned_journal_starts_and_sets_the_poison_aside(store: Store) -> None:
    """A gun no date can show and a reader whose clock offset is 1e16 s (what issue 12's
    attacker journaled) used to make the restart fail with OverflowError: now the core starts,
    sets both aside, scores everything else, and `void_entry` sets them aside for good."""
    event_id = await imported(store)
    core = await TimingCore.start(store, event_id)
    await core.submit("finish-main", finish_reads(20))
    await core.stop()
    first = await poison(store, event_id, [
        *(gun("mile", moment, actor="old") for moment in POISONS),
        add_reader(ReaderConfig("far", "finish", "ipico", clock_offset_ms=10**19)),
        ReadEntry("far", Read("058000120007", START), 0),
        ReadEntry("finish-main", Read("05800012002d", START), 0)])
    core = await TimingCore.start(store, event_id)
    try:
        aside = core.quarantine.open()
        assert [item.seq for item in aside] == [first, first + 1, first + 2, first + 3]
        assert all("not within the event's days" in item.error for item in aside[:3])
        assert "more than a day" in aside[3].error and aside[3].kind == "reader"
        assert "70883528" not in results(core)
        # The reader was refused: its read is one of an unknown reader, the next one counts.
        assert not core.standings.has_reader("far")
        assert core.seq == first + 5
        with pytest.raises(ActionError, match="not set aside"):
            await core.act(void_entry(first + 5, reason="not quarantined"))
        for item in aside:
            await core.act(void_entry(item.seq, actor="desk", reason="poison from 0.1"))
        assert core.quarantine.open() == []
        assert [item.voided_by for item in core.quarantine.everything()] == \
            [first + 6, first + 7, first + 8, first + 9]
        live = results(core)
    finally:
        await core.stop()
    core = await TimingCore.start(store, event_id)  # and a rebuild agrees
    try:
        assert core.quarantine.open() == []
        assert len(core.quarantine.everything()) == 4
        assert results(core) == live
    finally:
        await core.stop()


async def test_an_entry_that_raises_is_set_aside_and_the_core_goes_on(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever applying an entry raises (here a bug simulated in the standings), its
    submitter is answered, the entry is set aside, and every later write is taken."""
    core = await TimingCore.start(store, await imported(store))
    try:
        real = core.standings.add_read

        def broken(reader_id: str, read: Read) -> object:
            if read.chip == "BOOM":
                raise OverflowError("int too big to convert")
            return real(reader_id, read)

        monkeypatch.setattr(core.standings, "add_read", broken)
        answer = await asyncio.wait_for(core.submit("finish-main", [Read("BOOM", START)]), 5)
        assert answer.accepted == 1
        [item] = core.quarantine.open()
        assert item.seq == answer.last_seq and item.kind == "read"
        assert item.error == "OverflowError: int too big to convert"
        more = await asyncio.wait_for(core.submit("finish-main", finish_reads(5)), 5)
        assert more.accepted == 5
        assert await asyncio.wait_for(core.act(gun("kids", MILE_GUN + 3_600_000)), 5) > 0
    finally:
        await asyncio.wait_for(core.stop(), 10)


async def test_reads_outside_the_event_days_are_journaled_as_rejected(store: Store) -> None:
    core = await TimingCore.start(store, await imported(store))
    try:
        far = [Read("058000120007", START.replace(year=2025)),       # a clock a year off
               Read("058000120007", START.replace(year=2000)),       # a clock never set
               Read("058000120007", START)]                          # fine
        answer = await core.submit("finish-main", far)
        assert (answer.accepted, answer.rejected) == (1, 2)
        assert len(await rejected_entries(store, core.event_id)) == 2
        assert all("not within the event's days (2026-05-03 to 2026-05-17)"
                   in entry.reason for entry in await rejected_entries(store, core.event_id))
    finally:
        await core.stop()


class FailingStore(Store):
    """Commits fail whenever a batch holds a chip the database 'cannot store'."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner.engine)
        self.gate = asyncio.Event()
        self.gate.set()

    async def append(self, event_id: int, first_seq: int, entries: Sequence[Entry],
                     recorded_ms: int) -> None:
        await self.gate.wait()
        if any(isinstance(entry, ReadEntry) and entry.read.chip == "POISON"
               for entry in entries):
            raise ValueError("the database refused a value")
        await super().append(event_id, first_seq, entries, recorded_ms)


async def test_a_submission_that_cannot_be_stored_fails_no_other(store: Store) -> None:
    """Group commit puts several readers' reads in one transaction: one that the database
    refuses must not fail the others (each is then committed on its own)."""
    failing = FailingStore(store)
    core = await TimingCore.start(failing, await imported(store))
    try:
        failing.gate.clear()
        good = [asyncio.create_task(core.submit("finish-main", finish_reads(3, first=10 * n)))
                for n in range(3)]
        bad = asyncio.create_task(core.submit("finish-backup", [Read("POISON", START)]))
        await asyncio.sleep(0.05)
        failing.gate.set()
        answers = await asyncio.wait_for(asyncio.gather(*good), 10)
        assert [answer.accepted for answer in answers] == [3, 3, 3]
        with pytest.raises(CommitFailed, match="refused"):
            await asyncio.wait_for(bad, 10)
        assert await store.count(core.event_id, "read") == 9
    finally:
        await core.stop()


class HangingStore(Store):
    """A journal that stops answering (a disk that hangs, a database lock never released)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner.engine)
        self.hang = False

    async def append(self, event_id: int, first_seq: int, entries: Sequence[Entry],
                     recorded_ms: int) -> None:
        if self.hang:
            await asyncio.Event().wait()
        await super().append(event_id, first_seq, entries, recorded_ms)


async def test_a_journal_that_hangs_is_answered_in_bounded_time_and_the_core_stops(
        store: Store) -> None:
    hanging = HangingStore(store)
    core = await TimingCore.start(hanging, await imported(store), answer_timeout_s=0.5)
    assert (await core.submit("finish-main", finish_reads(2))).accepted == 2
    hanging.hang = True
    started = time.monotonic()
    with pytest.raises(JournalUnavailable, match=r"did not answer within 0\.5 s"):
        await core.submit("finish-main", finish_reads(2, first=5))
    with pytest.raises(JournalUnavailable):
        await core.act(gun("kids", MILE_GUN + 3_600_000))
    waiting = asyncio.create_task(core.submit("finish-main", finish_reads(1, first=9)))
    await asyncio.sleep(0.1)
    await asyncio.wait_for(core.stop(), 5)   # Ctrl-C: the server must stop all the same
    with pytest.raises(JournalUnavailable):
        await waiting
    assert time.monotonic() - started < 4


async def test_a_dead_writer_refuses_at_once(store: Store) -> None:
    core = await TimingCore.start(store, await imported(store))
    assert core._writer is not None
    core._writer.cancel()
    await asyncio.sleep(0)
    with pytest.raises(JournalUnavailable, match="not running"):
        await asyncio.wait_for(core.submit("finish-main", finish_reads(1)), 2)
    await asyncio.wait_for(core.stop(), 5)


async def test_garbage_is_counted_exactly_and_journaled_within_bounds(store: Store) -> None:
    """A reader sending nothing but garbage: every line is counted, only a bounded number a
    second is journaled one by one, the rest in a summary saying how many; the counts a
    restart loads from the journal are exact too."""
    core = await TimingCore.start(store, await imported(store))
    try:
        sent = 0
        for burst in range(3):
            lines = [Rejected(f"garbage {burst}-{n}", f"bad checksum {n % 7}", n)
                     for n in range(1000)]
            answer = await core.submit("finish-main", lines, received_ms=1_778_396_800_000
                                       + 1000 * burst)
            assert answer.rejected == 1000
            sent += 1000
        await core.stop()
        rows = await rejected_entries(store, core.event_id)
        assert len(rows) <= 3 * 21
        assert sum(entry.lines for entry in rows) == sent
        summaries = [entry for entry in rows if entry.lines > 1]
        assert len(summaries) == 3
        assert all("not journaled one by one" in entry.reason for entry in summaries)
        counts = await store.reader_counts(core.event_id)
        assert counts["finish-main"][1] == sent
    finally:
        await core.stop()


async def test_a_summary_is_journaled_when_the_garbage_stops(store: Store) -> None:
    core = await TimingCore.start(store, await imported(store))
    try:
        await core.submit("finish-main", [Rejected(f"x{n}", "noise", n) for n in range(100)])
        for _ in range(40):  # the summary comes once its second is over (about a second)
            await asyncio.sleep(0.1)
            rows = await rejected_entries(store, core.event_id)
            if sum(entry.lines for entry in rows) == 100:
                break
        assert sum(entry.lines for entry in rows) == 100
        assert len(rows) == 6  # five with the same reason, then the summary of 95
    finally:
        await core.stop()


def test_void_entry_names_its_target() -> None:
    action = void_entry(12, reason="r")
    assert isinstance(action, ActionEntry) and action.payload == {"seq": 12}


async def test_actions_at_once_are_checked_one_after_the_other(store: Store) -> None:
    """Found by the soak test: two imports registering the same new bib at once both passed
    the check, and the second was journaled and then could not apply (set aside)."""
    core = await TimingCore.start(store, await imported(store))
    try:
        newcomer = Athlete("950", "Nuova", "Iscritta", "F", "kids")
        results = await asyncio.gather(*(core.act(register(newcomer)) for _ in range(5)),
                                       return_exceptions=True)
        assert sum(isinstance(result, int) for result in results) == 1
        assert all("already registered" in str(result) for result in results
                   if not isinstance(result, int))
        assert core.quarantine.open() == []
    finally:
        await core.stop()
