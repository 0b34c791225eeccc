"""The async timing core: reads and actions in, durable journal, live standings, published deltas.

One core owns one event's journal and standings. Any number of readers submit concurrently;
a single writer task gathers what they have submitted (group commit: what is ready, and what
keeps coming for a short window at most) and appends it in one transaction. Only after that
commit are the submitters answered ("acknowledged"), the entries applied to the standings and a
delta published. A read that the journal already holds (same reader, chip and reader time: a
reconnect, a rewind, an IPICO repeat) is answered as a duplicate and never stored twice. On
start the core replays the journal, so the standings after a restart are the standings before
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from timing.bus import Bus
from timing.entries import (
    ActionEntry,
    ActionError,
    Applied,
    Entry,
    Journaled,
    ReadEntry,
    RejectedEntry,
    apply,
    apply_all,
    check_action,
    oversized,
    stored_form,
)
from timing.model import Event
from timing.reads import Read, Record, Rejected
from timing.results import ResultRow
from timing.standings import Standings
from timing.store import LoadedEvent, Store
from timing.writer_lock import Release, hold_writer

GC_THRESHOLDS = (50_000, 20, 100)
"""The cyclic garbage collector's thresholds while a core runs (see `tune_gc`)."""

DedupKey = tuple[str, str]
"""(reader id, the journal's `dedup` text): see `timing.entries.dedup_key`."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """The answer to a submission, given once it is durable."""

    accepted: int
    duplicates: int
    rejected: int
    last_seq: int
    """The journal's sequence number after this submission's commit."""


@dataclass(frozen=True, slots=True)
class Delta:
    """Published after each commit: what changed, up to journal sequence number `seq`."""

    seq: int
    rows: tuple[ResultRow, ...]
    """Current result rows of athletes whose result changed (places behind them may shift)."""
    races: tuple[str, ...] = ()
    """Races re-derived as a whole (a gun): reload their results."""
    first_seq: int = 0
    rejected: int = 0
    unknown_reads: int = 0


@dataclass
class _Pending:
    entries: list[Entry]
    keys: list[DedupKey]
    done: asyncio.Future[int]
    duplicates: int = 0
    rejected: int = 0


@dataclass
class CoreStats:
    commits: int = 0
    entries: int = 0
    duplicates: int = 0
    action_errors: list[tuple[int, str]] = field(default_factory=list)


class TimingCore:
    def __init__(self, store: Store, loaded: LoadedEvent, *, bus: Bus[Delta] | None = None,
                 window_s: float = 0.002, max_batch: int = 20_000) -> None:
        self.store = store
        self.event_id = loaded.event_id
        self.standings = Standings(loaded.event, loaded.athletes, loaded.adjustments)
        self.bus: Bus[Delta] = bus or Bus()
        self.window_s = window_s
        self.max_batch = max_batch
        self.seq = 0
        self.stats = CoreStats()
        self._seen: set[DedupKey] = set()
        """Identities of the reads in the journal (committed)."""
        self._in_flight: dict[DedupKey, asyncio.Future[int]] = {}
        """Identities of reads submitted and not yet committed -> their commit's answer."""
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._release_writer: Release | None = None

    @property
    def event(self) -> Event:
        """The event as the journal has it so far (readers added live included)."""
        return self.standings.event

    @classmethod
    async def start(cls, store: Store, event_id: int, **options: object) -> TimingCore:
        """Take the event's writer lock (`WriterBusy` if another core holds it), load the
        event, replay its journal, and start taking submissions."""
        release = await hold_writer(store.engine, event_id)
        try:
            core = cls(store, await store.load(event_id), **options)  # type: ignore[arg-type]
            await core._replay()
        except BaseException:
            await release()
            raise
        core._release_writer = release
        core._writer = asyncio.create_task(core._write_forever(), name="gambero-journal")
        return core

    async def stop(self) -> None:
        """Finish what was submitted, then stop the writer."""
        if self._writer is None:
            return
        try:
            await self._queue.join()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        finally:
            release, self._release_writer = self._release_writer, None
            if release is not None:
                await release()

    # -- submissions ---------------------------------------------------------------------------

    async def submit(self, reader_id: str, records: Sequence[Record],
                     received_ms: int | None = None, actor: str = "") -> Submitted:
        """Journal what a reader sent (reads and rejected records); returns once durable.
        `actor`: who entered them, for manual entries and hand timing."""
        now = received_ms if received_ms is not None else _now_ms()
        pending = _Pending([], [], asyncio.get_running_loop().create_future())
        repeats: list[tuple[asyncio.Future[int], Read]] = []
        known_reader = self.standings.has_reader(reader_id)
        for record in records:
            if isinstance(record, Rejected):
                pending.entries.append(RejectedEntry(reader_id, record.raw, record.reason, now,
                                                     record.line))
                pending.rejected += 1
            elif not known_reader:
                # Kept whole, so that the read can be recovered once the reader is configured.
                shown = record.raw or (f"chip={record.chip} bib={record.bib or ''} "
                                       f"time={record.time.isoformat()}")
                pending.entries.append(RejectedEntry(
                    reader_id, shown, f"unknown reader {reader_id!r}", now, record.line))
                pending.rejected += 1
            elif (too_long := oversized(record)) is not None:
                pending.entries.append(RejectedEntry(reader_id, record.raw or record.chip[:200],
                                                     too_long, now, record.line))
                pending.rejected += 1
            else:
                stored = stored_form(record)
                key = (reader_id, stored[2])
                if key in self._seen:
                    pending.duplicates += 1
                    continue
                in_flight = self._in_flight.get(key)
                if in_flight is not None:
                    # The same read is in a commit not yet finished: answer only once that
                    # commit is, and store this copy if that commit fails.
                    repeats.append((in_flight, record))
                    continue
                self._in_flight[key] = pending.done
                pending.keys.append(key)
                pending.entries.append(ReadEntry(reader_id, record, now, actor, stored))
        last_seq = await self._enqueue(pending) if pending.entries else self.seq
        answer = Submitted(len(pending.entries) - pending.rejected, pending.duplicates,
                           pending.rejected, last_seq)
        return await self._after_repeats(reader_id, repeats, answer, received_ms, actor)

    async def _after_repeats(self, reader_id: str, repeats: list[tuple[asyncio.Future[int], Read]],
                             answer: Submitted, received_ms: int | None,
                             actor: str) -> Submitted:
        """Wait for the commits that held the reads `repeats` repeat; resubmit the reads whose
        commit failed (they are not in the journal, so they are not duplicates)."""
        if not repeats:
            return answer
        lost: list[Read] = []
        last_seq = answer.last_seq
        for commit, read in repeats:
            try:
                last_seq = max(last_seq, await asyncio.shield(commit))
            except Exception:
                lost.append(read)
        duplicates = answer.duplicates + len(repeats) - len(lost)
        if lost:
            again = await self.submit(reader_id, lost, received_ms, actor)
            return Submitted(answer.accepted + again.accepted, duplicates + again.duplicates,
                             answer.rejected, max(last_seq, again.last_seq))
        return Submitted(answer.accepted, duplicates, answer.rejected, last_seq)

    async def act(self, action: ActionEntry) -> int:
        """Journal a timekeeper's action; refused (ActionError) before journaling if it cannot
        apply. Returns its sequence number once durable."""
        check_action(self.standings, action)
        pending = _Pending([action], [], asyncio.get_running_loop().create_future())
        return await self._enqueue(pending)

    # -- the writer ----------------------------------------------------------------------------

    async def _enqueue(self, pending: _Pending) -> int:
        if self._writer is None:
            raise RuntimeError("the core is not running")
        await self._queue.put(pending)
        return await pending.done

    async def _write_forever(self) -> None:
        """Commit batch after batch. Applying a committed batch to the standings, publishing it
        and answering its submitters waits until the next batch (whatever is queued by then)
        has gone to the database: that work then runs while the database commits, instead of
        between commits. Each answer still follows its own commit."""
        committed: tuple[list[_Pending], int, list[Entry]] | None = None
        while True:
            batch = await self._gather(wait=committed is None)
            if not batch:
                assert committed is not None
                self._finish(*committed)
                committed = None
                continue
            entries = [entry for pending in batch for entry in pending.entries]
            first = self.seq + 1
            commit = asyncio.ensure_future(
                self.store.append(self.event_id, first, entries, _now_ms()))
            if committed is not None:
                self._finish(*committed)
                committed = None
            try:
                await commit
            except Exception as error:
                if not await self._landed_after_all(first, len(entries)):
                    self._fail(batch, error)  # nothing was written: let every submitter know
                    continue
            for pending in batch:
                for key in pending.keys:
                    del self._in_flight[key]
                self._seen.update(pending.keys)
            self.seq = first + len(entries) - 1
            committed = (batch, first, entries)

    async def _gather(self, wait: bool) -> list[_Pending]:
        """The next batch: what is queued already, or (`wait`) the first submission and those
        that follow it while they keep coming. The window closes as soon as a turn of the event
        loop brings no new submission (or after `window_s` at most): the submitters that were
        ready have then all submitted, and waiting longer would leave the database idle. With
        one submission in flight per reader, every reader answered by the last commit submits
        again within a turn, so waiting out a fixed window cost each commit that long."""
        queue = self._queue
        batch: list[_Pending] = []
        if wait:
            batch.append(await queue.get())
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.window_s
            ready = -1
            while queue.qsize() != ready and loop.time() < deadline:
                ready = queue.qsize()
                await asyncio.sleep(0)  # one turn for whatever is ready to run
        size = sum(len(pending.entries) for pending in batch)
        while size < self.max_batch and not queue.empty():
            batch.append(queue.get_nowait())
            size += len(batch[-1].entries)
        return batch

    async def _landed_after_all(self, first: int, count: int) -> bool:
        """Whether a batch whose append raised is in the journal all the same: the connection
        lost after its COMMIT, or a writer process that died before answering and could not be
        replaced to tell. This core is the journal's only writer, so the batch landed if and
        only if the journal now reaches its last sequence number (a transaction lands whole).
        Taking it for failed would hand out its sequence numbers again: every later commit
        would then fail."""
        try:
            last = await self.store.last_seq(self.event_id)
        except Exception:  # the database cannot say either: take the error as it came
            return False
        return last >= first + count - 1

    def _finish(self, batch: list[_Pending], first: int, entries: list[Entry]) -> None:
        """A committed batch: apply it, publish it, answer its submitters."""
        last = first + len(entries) - 1
        self.stats.commits += 1
        self.stats.entries += len(entries)
        self._publish(first, entries)
        for pending in batch:
            self.stats.duplicates += pending.duplicates
            if not pending.done.done():
                pending.done.set_result(last)
            self._queue.task_done()

    def _fail(self, batch: list[_Pending], error: Exception) -> None:
        for pending in batch:
            for key in pending.keys:
                del self._in_flight[key]
            if not pending.done.done():
                pending.done.set_exception(error)
            self._queue.task_done()

    def _publish(self, first: int, entries: list[Entry]) -> None:
        bibs: set[str] = set()
        races: set[str] = set()
        rejected = unknown = 0
        add_read = self.standings.add_read
        for offset, entry in enumerate(entries):
            if type(entry) is ReadEntry:
                # The hot path: what `apply` does with a read, without two objects per read.
                outcome = add_read(entry.reader_id, entry.read)
                if outcome.kind != "athlete":
                    unknown += 1
                elif outcome.changed:
                    bibs.add(outcome.key)
                continue
            applied = self._apply(Journaled(first + offset, entry))
            bibs |= applied.bibs
            races |= applied.races
            if isinstance(entry, RejectedEntry):
                rejected += 1
            elif applied.outcome is not None and applied.outcome.kind != "athlete":
                unknown += 1
        rows = tuple(self.standings.result(bib) for bib in sorted(bibs))
        self.bus.publish(Delta(first + len(entries) - 1, rows, tuple(sorted(races)), first,
                               rejected, unknown))

    def _apply(self, item: Journaled) -> Applied:
        try:
            return apply(self.standings, item)
        except ActionError as error:  # checked before journaling: only if the event changed
            self.stats.action_errors.append((item.seq, str(error)))
            return Applied(item.seq)

    async def _replay(self) -> None:
        """Rebuild the standings and the replay identities from the journal. Reads come as bare
        rows and go to the standings in bulk between actions (`timing.entries.apply_all` does
        the same from entries). The garbage collector is paused meanwhile and the millions of
        objects made are then frozen out of its way: scanning them again and again would cost
        more than the rebuild itself."""
        seen = self._seen
        reads: list[tuple[str, int, str, str, str | None]] = []
        gc.disable()
        try:
            async for batch in self.store.replay_for_rebuild(self.event_id):
                for item in batch:
                    if not isinstance(item, Journaled):  # a read, as a row: see `StoredRead`
                        seen.add((item[1], item[6]))
                        reads.append((item[1], item[4], item[5], item[2], item[3]))
                        continue
                    if reads:
                        self.standings.add_stored_reads(reads, settle=False)
                        reads = []
                    self.stats.action_errors.extend(apply_all(self.standings, [item]))
                if reads:
                    self.standings.add_stored_reads(reads, settle=False)
                    reads = []
                last = batch[-1]
                self.seq = last.seq if isinstance(last, Journaled) else int(last[0])
            self.standings.settle()
        finally:
            gc.enable()
            gc.freeze()
            tune_gc()


def tune_gc() -> None:
    """Make the cyclic collector run far less often (never more often than it was set to).
    Ingest allocates several objects per read (the read, its entry, keys, tuples), nearly all
    freed by reference counting: the collector found almost nothing to collect, yet with the
    default thresholds (700, 10, 10) it kept making full passes over the whole heap of a
    running event (hundreds of MB), pauses that every acknowledgement waiting behind them paid
    (at about 30,000 reads/s the p99 went from 50-60 ms to 17-18 ms without them). With these
    thresholds the young generations are still collected often (short-lived cycles:
    exceptions, tasks) and a full pass comes after about a hundred million allocations."""
    current = gc.get_threshold()
    gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(GC_THRESHOLDS, current,
                                                                   strict=True)))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000

