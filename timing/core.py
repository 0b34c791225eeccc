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
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from timing.bus import Bus
from timing.checks import check_action
from timing.entries import (
    ActionEntry,
    ActionError,
    Applied,
    Entry,
    Journaled,
    ReadEntry,
    RejectedEntry,
    apply,
    describe_failure,
    invalid_read_message,
    stored_form,
    unstorable,
    voided_seq,
)
from timing.model import Event
from timing.quarantine import Quarantine, Quarantined
from timing.reads import Read, Record, Rejected
from timing.reject_limit import RejectLimit
from timing.replay import DedupKey, rebuild
from timing.results import ResultRow
from timing.standings import Standings
from timing.store import LoadedEvent, Store
from timing.writer_lock import Release, hold_writer

log = logging.getLogger("gambero.core")

ANSWER_TIMEOUT_S = 30.0
"""A submission or action not answered by then is answered with `JournalUnavailable`."""


class JournalUnavailable(RuntimeError):
    """The journal cannot take the submission now (the core stopped, or no commit answered in
    time): nothing was acknowledged. What was sent may still land: a read sent again is then
    answered as a duplicate, but an action would be journaled twice (a penalty adds up), so the
    journal is to be looked at before an action is repeated."""


class CommitFailed(JournalUnavailable):
    """The commit that held the submission failed: nothing of it was journaled (the database's
    own error is the cause)."""


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
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    """Rejected records, journaled or only counted (`timing.reject_limit`)."""


@dataclass
class CoreStats:
    commits: int = 0
    entries: int = 0
    duplicates: int = 0


class TimingCore:
    def __init__(self, store: Store, loaded: LoadedEvent, *, bus: Bus[Delta] | None = None,
                 window_s: float = 0.002, max_batch: int = 20_000,
                 answer_timeout_s: float = ANSWER_TIMEOUT_S) -> None:
        self.store = store
        self.event_id = loaded.event_id
        self.standings = Standings(loaded.event, loaded.athletes, loaded.adjustments)
        self.bus: Bus[Delta] = bus or Bus()
        self.window_s = window_s
        self.max_batch = max_batch
        self.seq = 0
        self.stats = CoreStats()
        self.answer_timeout_s = answer_timeout_s
        self.quarantine = Quarantine()
        """Journal entries that could not be applied (`timing.quarantine`)."""
        self._rejects = RejectLimit()
        self._summaries: asyncio.TimerHandle | None = None
        self._seen: set[DedupKey] = set()
        """Identities of the reads in the journal (committed)."""
        self._in_flight: dict[DedupKey, asyncio.Future[int]] = {}
        """Identities of reads submitted and not yet committed -> their commit's answer."""
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._acting = asyncio.Lock()
        """Held by an action from its check until it is applied: two desks registering the
        same bib at once both passed the check and the second then could not apply."""
        self._alone: deque[_Pending] = deque()
        """Submissions of a batch whose commit failed, each committed on its own next, so that
        one that cannot be stored fails no other."""
        self._in_commit: list[_Pending] = []
        self._committed: tuple[list[_Pending], int, list[Entry]] | None = None
        """Committed, not yet applied, published and answered."""
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
        core._writer.add_done_callback(core._writer_ended)
        return core

    async def stop(self) -> None:
        """Finish what was submitted (for `answer_timeout_s` at most: a journal that does not
        answer cannot keep the server from stopping), then stop the writer. Submissions still
        waiting are answered with `JournalUnavailable`."""
        if self._writer is None:
            return
        try:
            if self._summaries is not None:
                self._summaries.cancel()
            self._flush_summaries(everything=True)
            if not self._writer.done():
                try:
                    await asyncio.wait_for(self._queue.join(), self.answer_timeout_s)
                except TimeoutError:
                    log.error("the journal did not take the last %d submissions within %g s; "
                              "they are answered with an error", self._queue.qsize()
                              + len(self._alone), self.answer_timeout_s)
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
            self._fail_waiting(JournalUnavailable("the timing core stopped"))
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
        refuses_read = self.standings.window.refuses_read
        for record in records:
            if isinstance(record, Rejected):
                self._reject(pending, reader_id, record, now)
            elif not known_reader:
                # Kept whole, so that the read can be recovered once the reader is configured.
                pending.entries.append(RejectedEntry(
                    reader_id, _shown(record), f"unknown reader {reader_id!r}", now,
                    record.line))
                pending.rejected += 1
            elif (problem := unstorable(record) or refuses_read(record)) is not None:
                self._reject(pending, reader_id, Rejected(_shown(record), problem, record.line),
                             now)
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
                pending.accepted += 1
        if pending.rejected and self._rejects.counting():
            pending.entries.extend(self._rejects.summaries(now))
            self._schedule_summaries()
        last_seq = await self._enqueue(pending) if pending.entries else self.seq
        answer = Submitted(pending.accepted, pending.duplicates, pending.rejected, last_seq)
        return await self._after_repeats(reader_id, repeats, answer, received_ms, actor)

    def _reject(self, pending: _Pending, reader_id: str, record: Rejected, now: int) -> None:
        """Count a rejected record; journal it unless this reader has had its share of
        rejected lines this second (`timing.reject_limit`)."""
        pending.rejected += 1
        if "\x00" in record.raw:  # PostgreSQL text holds no NUL (a summary keeps a raw too)
            record = Rejected(record.raw.replace("\x00", "\\0"), record.reason, record.line)
        if self._rejects.admit(reader_id, record, now):
            pending.entries.append(RejectedEntry(reader_id, record.raw, record.reason, now,
                                                 record.line))
        else:
            self._schedule_summaries()

    def _schedule_summaries(self) -> None:
        """Journal the summaries of rejected lines once their second is over, even if the
        reader sends nothing more."""
        if self._summaries is None and self._writer is not None and self._rejects.counting():
            self._summaries = asyncio.get_running_loop().call_later(
                1.0 - (time.time() % 1.0) + 0.01, self._flush_summaries)

    def _flush_summaries(self, everything: bool = False) -> None:
        """Queue the summaries due (nobody waits for their commit: a failure is logged). Put
        straight on the queue, so that a stopping core commits them before it stops."""
        self._summaries = None
        due = self._rejects.summaries(None if everything else _now_ms())
        if due and self._writer is not None and not self._writer.done():
            pending = _Pending(list(due), [], asyncio.get_running_loop().create_future())
            pending.done.add_done_callback(_say_if_lost)
            self._queue.put_nowait(pending)
        self._schedule_summaries()

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
                last_seq = max(last_seq, await self._answer(commit))
            except CommitFailed:
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
        async with self._acting:  # checked against every action before it, applied
            check_action(self.standings, action)
            target = voided_seq(action)
            if target is not None and not self.quarantine.is_open(target):
                raise ActionError(f"void: entry {target} is not set aside as one that could "
                                  "not apply (GET /api/quarantined lists those)")
            pending = _Pending([action], [], asyncio.get_running_loop().create_future())
            return await self._enqueue(pending)

    # -- the writer ----------------------------------------------------------------------------

    async def _enqueue(self, pending: _Pending) -> int:
        if self._writer is None or self._writer.done():
            self._forget(pending)
            raise JournalUnavailable("the timing core is not running")
        await self._queue.put(pending)
        return await self._answer(pending.done)

    async def _answer(self, done: asyncio.Future[int]) -> int:
        """A commit's answer, or `JournalUnavailable` after `answer_timeout_s`: a journal that
        does not answer must not leave a reader or a timekeeper waiting without end. (The
        commit goes on: what it holds may still land.)"""
        try:
            return await asyncio.wait_for(asyncio.shield(done), self.answer_timeout_s)
        except TimeoutError:
            raise JournalUnavailable(f"the journal did not answer within "
                                     f"{self.answer_timeout_s:g} s: nothing is acknowledged, "
                                     "but it may still land: send reads again (a read that "
                                     "landed is a duplicate); look in the journal before "
                                     "repeating an action") from None

    async def _write_forever(self) -> None:
        """Commit batch after batch. Applying a committed batch to the standings, publishing it
        and answering its submitters waits until the next batch (whatever is queued by then)
        has gone to the database: that work then runs while the database commits, instead of
        between commits. Each answer still follows its own commit."""
        while True:
            batch = await self._gather(wait=self._committed is None)
            if not batch:
                self._finish_committed()
                continue
            entries = [entry for pending in batch for entry in pending.entries]
            first = self.seq + 1
            self._in_commit = batch
            commit = asyncio.ensure_future(
                self.store.append(self.event_id, first, entries, _now_ms()))
            self._finish_committed()
            try:
                await commit
            except Exception as error:
                if not await self._landed_after_all(first, len(entries)):
                    self._in_commit = []
                    if len(batch) > 1:  # try each on its own: one bad entry fails no other
                        self._alone.extend(batch)
                    else:  # nothing was written: say so
                        failed = CommitFailed(f"the journal could not store it "
                                              f"({type(error).__name__}: {error}); nothing "
                                              "was journaled: send it again")
                        failed.__cause__ = error
                        self._fail(batch, failed)
                    continue
            self._in_commit = []
            for pending in batch:
                self._forget(pending)
                self._seen.update(pending.keys)
            self.seq = first + len(entries) - 1
            self._committed = (batch, first, entries)

    def _finish_committed(self) -> None:
        if self._committed is not None:
            committed, self._committed = self._committed, None
            self._finish(*committed)

    async def _gather(self, wait: bool) -> list[_Pending]:
        """The next batch: what is queued already, or (`wait`) the first submission and those
        that follow it while they keep coming. The window closes as soon as a turn of the event
        loop brings no new submission (or after `window_s` at most): the submitters that were
        ready have then all submitted, and waiting longer would leave the database idle. With
        one submission in flight per reader, every reader answered by the last commit submits
        again within a turn, so waiting out a fixed window cost each commit that long."""
        if self._alone:
            return [self._alone.popleft()]
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
        """A committed batch: apply it, publish it, answer its submitters (whatever applying
        or publishing does: the batch is durable)."""
        last = first + len(entries) - 1
        self.stats.commits += 1
        self.stats.entries += len(entries)
        try:
            self._publish(first, entries)
        except Exception:  # an error in Gambero: the entries are journaled all the same
            log.exception("entries %d-%d are journaled but the live results may miss them "
                          "until a restart", first, last)
        for pending in batch:
            self.stats.duplicates += pending.duplicates
            if not pending.done.done():
                pending.done.set_result(last)
            self._queue.task_done()

    def _fail(self, batch: list[_Pending], error: BaseException) -> None:
        for pending in batch:
            self._forget(pending)
            if not pending.done.done():
                pending.done.set_exception(error)
                pending.done.exception()  # retrieved: nobody may be waiting any more
            self._queue.task_done()

    def _forget(self, pending: _Pending) -> None:
        """Its reads are no longer in flight (committed, or failed)."""
        for key in pending.keys:
            if self._in_flight.get(key) is pending.done:
                del self._in_flight[key]

    def _fail_waiting(self, error: BaseException) -> None:
        """Answer every submission the writer will not take (it stopped, or it failed)."""
        self._finish_committed()
        waiting = [*self._in_commit, *self._alone]
        self._in_commit, self._alone = [], deque()
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        self._fail(waiting, error)

    def _writer_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        log.critical("the journal writer stopped: %r; every submission is refused until the "
                     "server restarts", error, exc_info=error)
        self._fail_waiting(JournalUnavailable(f"the journal writer stopped: {error!r}"))

    def _publish(self, first: int, entries: list[Entry]) -> None:
        bibs: set[str] = set()
        races: set[str] = set()
        rejected = unknown = 0
        add_read = self.standings.add_read
        for offset, entry in enumerate(entries):
            try:
                if type(entry) is ReadEntry:
                    # The hot path: what `apply` does with a read, without two objects a read.
                    outcome = add_read(entry.reader_id, entry.read)
                    if outcome.kind == "athlete":
                        if outcome.changed:
                            bibs.add(outcome.key)
                    elif outcome.kind == "invalid":
                        self._set_aside(first + offset, entry, invalid_read_message(outcome))
                    else:
                        unknown += 1
                    continue
                if isinstance(entry, RejectedEntry):
                    rejected += entry.lines
                    continue
                applied = self._apply(Journaled(first + offset, entry))
            except Exception as error:  # an error in Gambero itself: never stop the core
                self._set_aside(first + offset, entry, describe_failure(error), error)
                continue
            bibs |= applied.bibs
            races |= applied.races
        rows = tuple(self.standings.result(bib) for bib in sorted(bibs))
        self.bus.publish(Delta(first + len(entries) - 1, rows, tuple(sorted(races)), first,
                               rejected, unknown))

    def _apply(self, item: Journaled) -> Applied:
        """An action (its check passed before it was journaled: it fails only if the event
        changed meanwhile, or in an old journal)."""
        entry = item.entry
        assert isinstance(entry, ActionEntry)
        applied = apply(self.standings, item)
        target = voided_seq(entry)
        if target is not None:
            self.quarantine.void(target, item.seq)
        return applied

    def _set_aside(self, seq: int, entry: Entry, error: str,
                   raised: Exception | None = None) -> Quarantined:
        item = self.quarantine.add(seq, entry, error)
        log.error("journal entry %d (%s) cannot apply and is set aside: %s - see GET "
                  "/api/quarantined and docs/operations.md", seq, item.summary, error,
                  exc_info=None if isinstance(raised, ActionError) else raised)
        return item

    async def _replay(self) -> None:
        """Rebuild the standings, the set-aside entries and the replay identities from the
        journal (`timing.replay`)."""
        self.seq = await rebuild(self.store, self.event_id, self.standings, self.quarantine,
                                 self._seen)
        for aside in self.quarantine.open():
            log.error("journal entry %d (%s) cannot apply and is set aside: %s - see GET "
                      "/api/quarantined, `gambero db check` and docs/operations.md", aside.seq,
                      aside.summary, aside.error)


def _say_if_lost(done: asyncio.Future[int]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("a summary of rejected lines was not journaled: %s", done.exception())


def _shown(read: Read) -> str:
    """A read journaled as a rejected line: its own text, or its fields (a JSON read)."""
    text = read.raw or (f"chip={read.chip} bib={read.bib or ''} time={read.time.isoformat()}")
    return text.replace("\x00", "\\0")  # PostgreSQL text holds no NUL


def _now_ms() -> int:
    return time.time_ns() // 1_000_000

