"""The live feed: the core's deltas coalesced into frames (fanned out by `api.broadcast`).

`FrameSource` (in the process that runs the core) gathers the core's deltas for a short
interval (ten frames a second at most, fewer when working them out takes long), works out every
row that changed, including the places behind a finisher who moved, and hands one `Frame` on
to its sink (`api.broadcast.Broadcaster.publish`, and Redis with `REDIS_URL`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.rows import Row
from api.view import LiveState, RowMaker
from timing.bus import Lagged
from timing.core import Delta, TimingCore

RaceFilter = frozenset[str] | None


@dataclass
class Frame:
    seq: int
    first_seq: int
    rows: list[Row]
    """Changed rows, outside the reloaded races."""
    reload: list[str] = field(default_factory=list)
    guns: dict[str, dict[str, Any]] = field(default_factory=dict)
    """For each reloaded race: {"gun_ms", "waves": [{"id", "gun_ms"}]}."""
    race_rows: dict[str, list[Row]] = field(default_factory=dict)
    """Every row of each reloaded race (for web-only processes; clients re-fetch instead)."""

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "first_seq": self.first_seq, "rows": self.rows,
                "reload": self.reload, "guns": self.guns, "race_rows": self.race_rows}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frame:
        return cls(int(data["seq"]), int(data["first_seq"]), list(data["rows"]),
                   list(data["reload"]), dict(data["guns"]), dict(data["race_rows"]))


def guns_json(state: LiveState, race_id: str) -> dict[str, Any]:
    race = state.race(race_id)
    return {"gun_ms": race.gun_ms,
            "waves": [{"id": wave.id, "gun_ms": wave.gun_ms} for wave in race.waves]}


def apply_frame(state: LiveState, frame: Frame) -> None:
    """What a frame changes in a `LiveState` (a web-only process's copy)."""
    for race_id in frame.reload:
        guns = frame.guns[race_id]
        state.set_guns(race_id, guns["gun_ms"],
                       [(wave["id"], wave["gun_ms"]) for wave in guns["waves"]])
        state.replace_race(race_id, frame.race_rows.get(race_id, []))
    state.put(frame.rows)
    state.advance(frame.seq)


class FrameSource:
    """Turns the core's deltas into frames, at most one per `interval` seconds (fewer when
    working them out takes long: `next_frame_due`), and more often only when the fan-out asks
    in the middle of a long pass (`refresh`).

    A consumer task gathers the deltas as they are published (cheap: the bibs and races they
    name). The rows are worked out when a frame is due, or earlier when a request needs the
    state to be current (`sync`): then the frame computed waits for its tick, merged with
    whatever follows."""

    def __init__(self, core: TimingCore, state: LiveState, sink: Callable[[Frame], None],
                 interval: float = 0.25) -> None:
        self.core = core
        self.state = state
        self.sink = sink
        self.interval = interval
        self.maker = RowMaker(core.standings)
        self.frames = 0
        self._subscription = core.bus.subscribe(queue_size=10_000)
        self._pending = _Pending()
        self._unsent: Frame | None = None
        self._dirty = asyncio.Event()
        self._due = float("-inf")
        self._refresh_due = float("-inf")

    def load(self) -> None:
        """Fill the state from the standings as they are (before the first frame)."""
        standings = self.core.standings
        self.state.clear()
        for race in standings.event.races:
            current = standings.race(race.id)
            self.state.set_guns(race.id, current.gun_ms,
                                [(wave.id, wave.gun_ms) for wave in current.waves])
            self.state.put(self.maker.race_rows(race.id))
        self.state.advance(self.core.seq)

    async def run(self) -> None:
        consumer = asyncio.create_task(self._consume(), name="gambero-frames-consume")
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._dirty.wait()
                wait = self._due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue  # a refresh may have cut the frame meanwhile
                self._cut()
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            self._subscription.close()

    def refresh(self) -> None:
        """Cut a frame now if anything was committed since the last one and that one is at
        least a quarter of `interval` old (and older than working it out took). The fan-out
        calls this between the chunks of a pass: with 10,000 clients a pass takes longer than
        `interval`, and the clients late in it then get what was committed since it began
        rather than waiting for the next pass. Clients still get at most one message per
        pass, and passes are `interval` apart at least (`Broadcaster.run`)."""
        if self._dirty.is_set() and time.monotonic() >= self._refresh_due:
            self._cut(on_time=False)

    def _cut(self, on_time: bool = True) -> None:
        """Work out the frame and publish it. A refresh leaves the source's own ticks where
        they were: moved, they would make the clients early in a short pass (who get the
        refreshed frame only with the next pass) wait longer than an interval."""
        started = time.monotonic()
        self._dirty.clear()
        self._sync_now()
        frame, self._unsent = self._unsent, None
        if frame is None:
            return  # nothing new after all: the next frame may go as soon as there is
        self.frames += 1
        self.sink(frame)
        ended = time.monotonic()
        if on_time:
            self._due = next_frame_due(started, ended, self.interval)
        self._refresh_due = next_frame_due(started, ended, self.interval / 4)

    async def _consume(self) -> None:
        while True:
            message = await self._subscription.get()
            # Only now look up the pending set: `sync` may have replaced it meanwhile.
            self._pending.absorb(message)
            self._dirty.set()

    async def sync(self) -> None:
        """Bring the state up to the core's last commit (for a request that needs it current);
        the frame it makes waits for its tick."""
        self._sync_now()

    def _sync_now(self) -> None:
        """`sync`: the deltas waiting are taken without waiting, and the standings are exactly
        as of the last of them."""
        subscription = self._subscription
        while subscription.pending():
            self._pending.absorb(subscription.get_nowait())
        if self.core.seq <= self.state.seq and not self._pending.everything:
            return
        pending, self._pending = self._pending, _Pending()
        frame = self.frame(pending)
        if frame is not None:
            self._unsent = frame if self._unsent is None else merge(self._unsent, frame)
            self._dirty.set()

    def frame(self, pending: _Pending) -> Frame | None:
        """The frame for what `pending` gathered; updates the state."""
        state, maker = self.state, self.maker
        seq = self.core.seq
        if seq <= state.seq:
            return None
        frame = Frame(seq, state.seq + 1, [])
        standings = self.core.standings
        for race_id in sorted(pending.races):
            current = standings.race(race_id)
            state.set_guns(race_id, current.gun_ms,
                           [(wave.id, wave.gun_ms) for wave in current.waves])
            rows = maker.race_rows(race_id)
            state.replace_race(race_id, rows)
            frame.reload.append(race_id)
            frame.guns[race_id] = guns_json(state, race_id)
            frame.race_rows[race_id] = rows
        bibs = pending.bibs
        if pending.everything:
            bibs = set(standings.athlete_bibs())
        changed: dict[str, Row] = {}
        thresholds: dict[str, int] = {}
        for bib in sorted(bibs):
            new = maker.row(bib)
            if new["race"] in pending.races:
                continue
            old = state.row(bib)
            if new == old:
                continue
            changed[bib] = new
            for row in (old, new):
                if row is not None and row["place"] is not None:
                    race = row["race"]
                    thresholds[race] = min(thresholds.get(race, row["place"]), row["place"])
        for race_id, threshold in thresholds.items():
            # A finisher who arrived, left or moved shifts the places of those behind.
            for bib in state.bibs(race_id):
                old = state.row(bib)
                if (bib in changed or old is None or old["place"] is None
                        or old["place"] < threshold):
                    continue
                new = maker.row(bib)
                if new != old:
                    changed[bib] = new
        frame.rows = list(changed.values())
        state.put(frame.rows)
        state.advance(seq)
        return frame


def next_frame_due(started: float, ended: float, interval: float) -> float:
    """When the next frame may go, the last one having been worked out and published between
    `started` and `ended`: `interval` after it started, and no sooner after it ended than it
    took. Publishing is cheap (the fan-out runs on its own, `Broadcaster.run`); working out a
    frame is not always (a gun reloads a whole race, the places behind a finisher shift):
    frames then come further apart, and the feed never takes more than about half of the
    server's time for them."""
    return max(started + interval, ended + (ended - started))


def merge(earlier: Frame, later: Frame) -> Frame:
    """One frame saying what two consecutive frames say."""
    rows = {row["bib"]: row for row in earlier.rows if row["race"] not in later.reload}
    rows.update((row["bib"], row) for row in later.rows)
    reload = [*earlier.reload, *(race for race in later.reload if race not in earlier.reload)]
    return Frame(later.seq, earlier.first_seq, list(rows.values()), reload,
                 {**earlier.guns, **later.guns}, {**earlier.race_rows, **later.race_rows})


class _Pending:
    def __init__(self) -> None:
        self.bibs: set[str] = set()
        self.races: set[str] = set()
        self.everything = False

    def absorb(self, message: Delta | Lagged) -> None:
        if isinstance(message, Lagged):
            self.everything = True
            return
        self.bibs.update(row.bib for row in message.rows)
        self.races.update(message.races)
