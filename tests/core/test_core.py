"""The async timing core on SQLite and PostgreSQL: acknowledgement after commit, group commit,
replay de-duplication, bad input journaled, actions, the bus, and recovery after a restart."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gambero.offline import score_event
from readers.protocols import make_parser
from timing.bus import Lagged
from timing.core import CommitFailed, Delta, TimingCore
from timing.entries import (
    ActionError,
    Entry,
    add_reader,
    assign_chip,
    gun,
    penalty,
    register,
    set_status,
)
from timing.eventfile import load_event
from timing.model import Athlete, ReaderConfig
from timing.reads import Read, Rejected
from timing.replay import GC_THRESHOLDS
from timing.results import results_csv
from timing.store import Store
from timing.writer_lock import WriterBusy, hold_writer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "backwards-mile"
START = datetime(2026, 5, 10, 9, 7, 0)


async def imported(store: Store) -> int:
    report = await store.import_event(load_event(EXAMPLE / "event.toml"), "example")
    return report.event_id


def finish_reads(count: int, first: int = 0, chip: str | None = None) -> list[Read]:
    """Distinct IPICO-style reads of the example's first chips, 100 ms apart."""
    files = load_event(EXAMPLE / "event.toml")
    chips = [a.chips[0] for a in files.athletes]
    return [Read(chip or chips[n % len(chips)], START + timedelta(milliseconds=100 * n))
            for n in range(first, first + count)]


class GatedStore(Store):
    """A store whose commits wait for a gate, to see what happens before a commit ends."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner.engine)
        self.gate = asyncio.Event()
        self.appends = 0
        self.fail_next = False
        self.lose_answer_next = False

    async def append(self, event_id: int, first_seq: int, entries: Sequence[Entry],
                     recorded_ms: int) -> None:
        await self.gate.wait()
        self.appends += 1
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        await super().append(event_id, first_seq, entries, recorded_ms)
        if self.lose_answer_next:  # committed, but the answer is lost on the way
            self.lose_answer_next = False
            raise ConnectionResetError("connection lost after COMMIT")


async def test_a_read_is_acknowledged_only_after_its_commit(store: Store) -> None:
    gated = GatedStore(store)
    core = await TimingCore.start(gated, await imported(store))
    try:
        submitting = asyncio.create_task(core.submit("finish-main", finish_reads(3)))
        await asyncio.sleep(0.05)
        assert not submitting.done()          # not durable yet: no answer
        assert await store.count(core.event_id, "read") == 0
        gated.gate.set()
        answer = await submitting
        assert (answer.accepted, answer.duplicates, answer.rejected, answer.last_seq) == \
            (3, 0, 0, 3)
        assert await store.count(core.event_id, "read") == 3   # another connection sees them
    finally:
        gated.gate.set()
        await core.stop()


async def test_concurrent_readers_share_group_commits_and_get_contiguous_seqs(
        store: Store) -> None:
    gated = GatedStore(store)
    core = await TimingCore.start(gated, await imported(store), window_s=0.02)
    gated.gate.set()
    try:
        readers = ["finish-main", "finish-backup", "start-mat", "half-box"]
        answers = await asyncio.gather(*(
            core.submit(reader, finish_reads(5, first=100 * n))
            for n, reader in enumerate(readers) for _ in range(1)))
        assert sum(a.accepted for a in answers) == 20
        assert gated.appends < len(readers)   # several submitters in one transaction
        seqs = [item.seq async for batch in store.replay(core.event_id) for item in batch]
        assert seqs == list(range(1, 21))
    finally:
        await core.stop()


async def test_a_commit_does_not_wait_out_the_window_once_the_ready_submitters_submitted(
        store: Store) -> None:
    """Readers answered by one commit submit again within a turn of the loop: the next commit
    takes them all at once and goes, rather than wait for more until the window ends."""
    gated = GatedStore(store)
    core = await TimingCore.start(gated, await imported(store), window_s=5.0)
    gated.gate.set()
    try:
        readers = ["finish-main", "finish-backup", "start-mat"]
        started = asyncio.get_running_loop().time()
        answers = await asyncio.wait_for(asyncio.gather(*(
            core.submit(reader, finish_reads(3, first=100 * n))
            for n, reader in enumerate(readers))), 2.0)
        assert asyncio.get_running_loop().time() - started < 2.0
        assert sum(a.accepted for a in answers) == 9
        assert gated.appends == 1  # still one commit for all three
    finally:
        await core.stop()


async def test_a_running_core_makes_the_cyclic_collector_run_rarely(store: Store) -> None:
    """Full collections over a big heap were the p99 of acknowledgement: a started core raises
    the collector's thresholds, and never lowers thresholds someone set higher."""
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        core = await TimingCore.start(store, await imported(store))
        await core.stop()
        assert gc.get_threshold() == GC_THRESHOLDS
        gc.set_threshold(10**6, 5, 10**4)
        core = await TimingCore.start(store, core.event_id)
        await core.stop()
        assert gc.get_threshold() == (10**6, GC_THRESHOLDS[1], 10**4)
    finally:
        gc.set_threshold(*before)


async def test_replayed_reads_are_never_stored_twice_even_after_a_restart(store: Store) -> None:
    event_id = await imported(store)
    reads = finish_reads(10)
    core = await TimingCore.start(store, event_id)
    first = await core.submit("finish-main", reads)
    again = await core.submit("finish-main", [*reads[5:], *finish_reads(2, first=10)])
    await core.stop()
    assert (first.accepted, again.accepted, again.duplicates) == (10, 2, 5)
    restarted = await TimingCore.start(store, event_id)
    try:
        # A reader rewinding after a reconnect sends everything again, with new sequence
        # numbers but the same chips and times.
        rewound = [Read(r.chip.upper(), r.time, sequence=1000 + n) for n, r in enumerate(reads)]
        answer = await restarted.submit("finish-main", rewound)
        assert (answer.accepted, answer.duplicates) == (0, 10)
        other_line = await restarted.submit("finish-backup", reads[:3])  # another reader
        assert other_line.accepted == 3
        assert await store.count(event_id, "read") == 15
    finally:
        await restarted.stop()


async def test_bad_input_is_journaled_and_visible(store: Store) -> None:
    core = await TimingCore.start(store, await imported(store))
    try:
        answer = await core.submit("finish-main", [
            Rejected("aa01zz", "non-hex characters 'z'", 4), *finish_reads(1),
            Read("0580009fffff", START)])
        assert (answer.accepted, answer.rejected) == (2, 1)
        stranger = await core.submit("no-such-reader", finish_reads(2))
        assert (stranger.accepted, stranger.rejected) == (0, 2)
        assert await store.count(core.event_id, "rejected") == 3
        assert core.standings.unknown_chips() == {"0580009fffff": 1}
        reasons = [item.entry for batch in [b async for b in store.replay(core.event_id)]
                   for item in batch if item.entry.__class__.__name__ == "RejectedEntry"]
        assert [getattr(entry, "reason", "") for entry in reasons] == [
            "non-hex characters 'z'", "unknown reader 'no-such-reader'",
            "unknown reader 'no-such-reader'"]
    finally:
        await core.stop()


async def test_a_read_too_long_for_the_journal_is_rejected_not_a_failed_commit(
        store: Store) -> None:
    core = await TimingCore.start(store, await imported(store))
    try:
        good = finish_reads(1)[0]
        answer = await core.submit("finish-main", [
            Read("ab" * 50, START, raw="#P;1;" + "ab" * 50), good,
            Read("", START, bib="9" * 40), Read("058000120007", START, reader="x" * 65)])
        assert (answer.accepted, answer.rejected) == (1, 3)
        reasons = [getattr(item.entry, "reason", "") for batch in
                   [b async for b in store.replay(core.event_id)] for item in batch]
        assert sorted(reason for reason in reasons if reason) == [
            "bib is longer than 32 characters (40)",
            "chip code is longer than 64 characters (100)",
            "device id is longer than 64 characters (65)"]
    finally:
        await core.stop()


async def test_a_failed_commit_answers_with_the_error_and_keeps_nothing(store: Store) -> None:
    gated = GatedStore(store)
    gated.gate.set()
    core = await TimingCore.start(gated, await imported(store))
    try:
        gated.fail_next = True
        with pytest.raises(CommitFailed, match="OSError: disk full") as failed:
            await core.submit("finish-main", finish_reads(4))
        assert isinstance(failed.value.__cause__, OSError)
        # Not acknowledged, so the reader sends them again: they are new, not duplicates.
        retry = await core.submit("finish-main", finish_reads(4))
        assert (retry.accepted, retry.duplicates, retry.last_seq) == (4, 0, 4)
    finally:
        await core.stop()


async def test_a_commit_whose_answer_was_lost_is_acknowledged_not_failed(store: Store) -> None:
    """The append raised after its COMMIT (a connection lost, a writer process that died and
    could not be replaced): the reads are journaled, so they are acknowledged and applied, and
    the next commit takes the sequence numbers after them instead of failing on them."""
    gated = GatedStore(store)
    gated.gate.set()
    core = await TimingCore.start(gated, await imported(store))
    try:
        gated.lose_answer_next = True
        first = await core.submit("finish-main", finish_reads(4))
        assert (first.accepted, first.last_seq) == (4, 4)
        again = await core.submit("finish-main", finish_reads(4))
        assert (again.accepted, again.duplicates) == (0, 4)   # known reads, not new ones
        more = await core.submit("finish-main", finish_reads(3, first=4))
        assert (more.accepted, more.last_seq) == (3, 7)
        assert await store.count(core.event_id, "read") == 7
        assert core.stats.entries == 7   # every journaled read was applied to the standings
    finally:
        await core.stop()


async def test_actions_are_checked_journaled_applied_and_published(store: Store) -> None:
    event_id = await imported(store)
    core = await TimingCore.start(store, event_id)
    deltas = core.bus.subscribe()
    try:
        bib = "13"
        seq = await core.act(penalty(bib, 20, actor="referee", reason="obstruction"))
        delta = await deltas.get()
        assert isinstance(delta, Delta) and delta.seq == seq
        assert [row.bib for row in delta.rows] == [bib]
        await core.act(gun("mile", core.standings.race("mile").gun_ms, wave="open"))
        assert (await deltas.get()).races == ("mile",)   # type: ignore[union-attr]
        await core.act(set_status("7", "DQ", actor="referee", reason="false start x2"))
        late = Athlete(bib="999", first_name="Late", last_name="Entry", gender="F",
                       race="mile", wave="open", chips=("0580009fff01",))
        await core.act(register(late, actor="desk"))
        for action, message in ((penalty("404", 5), "no participant has bib '404'"),
                                (gun("marathon", 0), "no race 'marathon'"),
                                (assign_chip(bib, "0580009fff01"), "already belongs to bib 999"),
                                (register(late), "already registered")):
            with pytest.raises(ActionError, match=message):
                await core.act(action)
        assert await store.count(event_id, "action") == 4
        before = results_csv(core.event, core.standings.results())
    finally:
        await core.stop()
    restarted = await TimingCore.start(store, event_id)
    try:
        assert results_csv(restarted.event, restarted.standings.results()) == before
        assert restarted.standings.result("7").status == "DQ"
        assert restarted.standings.chip_owner("0580009FFF01") == "999"
    finally:
        await restarted.stop()


async def test_a_subscriber_that_falls_behind_is_told_to_resync(store: Store) -> None:
    core = await TimingCore.start(store, await imported(store))
    slow = core.bus.subscribe(queue_size=2)
    fast = core.bus.subscribe()
    try:
        for n in range(5):
            await core.submit("finish-main", finish_reads(1, first=n))
        first, second, third = [await slow.get() for _ in range(3)]
        assert isinstance(first, Delta) and isinstance(second, Delta)
        assert third == Lagged(3)
        seqs = []
        while fast.pending():
            message = await fast.get()
            assert isinstance(message, Delta)
            seqs.append(message.seq)
        assert seqs == [1, 2, 3, 4, 5]
    finally:
        await core.stop()


async def test_live_core_and_restart_equal_gambero_score(store: Store) -> None:
    """The example race fed live by its five readers at once, in chunks as a TCP link gives
    them: the standings, and those rebuilt after a restart, equal `gambero score`."""
    files = load_event(EXAMPLE / "event.toml")
    event_id = (await store.import_event(files, "example")).event_id
    core = await TimingCore.start(store, event_id)

    async def play(reader_id: str, fmt: str, path: str) -> None:
        parser = make_parser(fmt)
        data = (EXAMPLE / path).read_bytes()
        for start in range(0, len(data), 700):
            records = parser.feed(data[start:start + 700])
            if records:
                await core.submit(reader_id, records)
        await core.submit(reader_id, parser.close())

    expected = results_csv(files.event, score_event(EXAMPLE / "event.toml").standings.results())
    try:
        await asyncio.gather(*(play(r.id, r.format, str(r.path)) for r in files.event.readers))
        assert results_csv(files.event, core.standings.results()) == expected
        seq = core.seq
    finally:
        await core.stop()
    restarted = await TimingCore.start(store, event_id)
    try:
        assert restarted.seq == seq
        assert results_csv(files.event, restarted.standings.results()) == expected
    finally:
        await restarted.stop()


async def test_a_reader_added_live_counts_from_then_on_and_after_a_restart(store: Store) -> None:
    event_id = await imported(store)
    core = await TimingCore.start(store, event_id)
    read = finish_reads(1)[0]
    try:
        before = await core.submit("box-2", [read])
        assert (before.accepted, before.rejected) == (0, 1)  # unknown reader: kept as rejected
        with pytest.raises(ActionError, match="no point"):
            await core.act(add_reader(ReaderConfig("box-2", "moon", "ipico")))
        await core.act(add_reader(ReaderConfig("box-2", "finish", "ipico", host="10.0.0.9"),
                                  actor="desk"))
        with pytest.raises(ActionError, match="already exists"):
            await core.act(add_reader(ReaderConfig("box-2", "finish", "ipico")))
        after = await core.submit("box-2", [read])
        assert (after.accepted, after.rejected) == (1, 0)
        assert core.event.readers[-1].host == "10.0.0.9"
        owner = core.standings.chip_owner(read.chip)
        assert owner is not None
        live = core.standings.result(owner)
    finally:
        await core.stop()
    restarted = await TimingCore.start(store, event_id)
    try:
        assert restarted.standings.has_reader("box-2")
        assert restarted.standings.result(owner) == live
        again = await restarted.submit("box-2", [read])
        assert (again.accepted, again.duplicates) == (0, 1)
    finally:
        await restarted.stop()


async def test_one_core_writes_an_event_journal_at_a_time(store: Store) -> None:
    event_id = await imported(store)
    first = await TimingCore.start(store, event_id)
    try:
        with pytest.raises(WriterBusy, match="another Gambero process"):
            await hold_writer(store.engine, event_id, wait_s=0.2)
    finally:
        await first.stop()
    release = await hold_writer(store.engine, event_id, wait_s=0.2)  # free again once stopped
    await release()
    second = await TimingCore.start(store, event_id)
    await second.stop()
