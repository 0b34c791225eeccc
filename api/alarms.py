"""Alarms a timekeeper can act on: what is wrong (with its size), since when, what clears it,
and who has seen it.

Where they come from:
- each reader's causes (`ReaderHealth.causes`, kept by its session): `link` (not connected),
  `storage` (its reads cannot be journaled), `clock` (its clock is off the host's) and `drift`
  (its clock has moved against the host's, at its own rate, since it connected);
- `quiet`: a running reader (not hand timing) that has read before and has read nothing for
  `QUIET_MS`, and is not already an alarm for its link;
- `quarantined`: each journal entry set aside because it cannot apply (`timing.quarantine`).

An alarm clears by itself when its condition does (it is then no longer listed). A timekeeper's
acknowledgement (a journal action, `timing.entries.acknowledge`) takes it off the bar; it comes
back only worse:
- as a new occurrence: for `link` and `drift`, the reader connected after the acknowledgement
  (and dropped again, or drifts again: drift is measured afresh on each connection); for
  `quiet`, a read came after it; for `storage`, the alarm started after it;
- or clearly worse: its measure at least `WORSE_RATIO` times and `WORSE_MS` more than when it
  was acknowledged (a drift acknowledged at 2 s is back at 3 s, one at 4 s at 6 s).
An acknowledgement whose condition is seen clear (the reader connected, the drift measured under
the limit, the entry voided) is forgotten: the next occurrence is a new alarm. The journal keeps
every acknowledgement, and a restart loads the last one of each alarm.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from api.readers import ReaderHealth, ReaderManager
from timing.core import TimingCore
from timing.entries import ActionEntry, acknowledge
from timing.quarantine import Quarantined
from timing.store import Store

QUIET_MS = 5 * 60_000
WORSE_RATIO = 1.5
WORSE_MS = 1000
READER_KINDS = ("link", "storage", "clock", "drift", "quiet")


@dataclass(frozen=True)
class Acknowledgement:
    by: str
    at_ms: int
    measure: float | None

    def as_json(self) -> dict[str, Any]:
        return {"by": self.by, "at_ms": self.at_ms, "measure": self.measure}


@dataclass(frozen=True)
class Alarm:
    id: str
    kind: str
    subject: str | int
    """The reader's id, or the set-aside entry's seq."""
    cause: str
    since_ms: int | None
    clear_when: str
    measure: int | None = None
    """Its size, where it has one (ms of clock error or drift)."""
    details: Mapping[str, str | int] = field(default_factory=dict)
    acknowledged: Acknowledgement | None = None
    occurrence_ms: int | None = None
    """When this occurrence began, where a later one can be told apart (not shown)."""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "cause": self.cause,
                "since_ms": self.since_ms, "clear_when": self.clear_when,
                "measure": self.measure, "details": dict(self.details),
                "acknowledged": None if self.acknowledged is None
                else self.acknowledged.as_json()}


class AlarmError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def clearly_worse(measure: float | None, acknowledged: float | None) -> bool:
    if measure is None or acknowledged is None:
        return False
    return measure >= acknowledged * WORSE_RATIO and measure >= acknowledged + WORSE_MS


def reader_alarms(health: ReaderHealth, now_ms: int) -> list[Alarm]:
    out: list[Alarm] = []
    details = {"point": health.point, "transport": health.transport}

    def add(kind: str, cause: str, since: int | None, clear_when: str,
            measure: int | None = None, occurrence: int | None = None) -> None:
        out.append(Alarm(f"reader:{health.id}:{kind}", kind, health.id, cause, since,
                         clear_when, measure, details, occurrence_ms=occurrence))

    if health.state in ("stopped", "done"):
        return out  # stopped on purpose, or a recording played whole: nothing to attend to
    for kind, cause in health.causes.items():
        occurrence = {"link": health.connected_ms, "drift": health.connected_ms,
                      "storage": cause["since_ms"]}.get(kind)
        since = health.since_ms if kind == "link" else cause["since_ms"]
        add(kind, cause["text"], since, cause["clear_when"], cause["measure"], occurrence)
    quiet = (health.format != "manual" and health.last_read_ms is not None
             and now_ms - health.last_read_ms >= QUIET_MS)
    if quiet and not any(alarm.kind == "link" for alarm in out):
        minutes = (now_ms - health.last_read_ms) // 60_000 if health.last_read_ms else 0
        add("quiet", f"no reads for {minutes} min", health.last_read_ms, "a read arrives",
            occurrence=health.last_read_ms)
    return out


def quarantine_alarms(items: Iterable[Quarantined], recorded: Mapping[int, int]
                      ) -> list[Alarm]:
    return [Alarm(f"quarantined:{item.seq}", "quarantined", item.seq,
                  f"journal entry {item.seq} ({item.summary}) cannot apply and is set aside: "
                  f"{item.error}", recorded.get(item.seq),
                  "it is voided (gambero db check --void); the results go on without it",
                  details={"summary": item.summary, "error": item.error, "entry": item.kind})
            for item in items]


def _cleared(alarm_id: str, readers: Mapping[str, ReaderHealth], open_seqs: set[int],
             now_ms: int) -> bool:
    """Whether the condition of `alarm_id` (not listed now) is seen clear, rather than not
    measured yet (a reader's drift right after a restart)."""
    kind, _, rest = alarm_id.partition(":")
    if kind == "quarantined":
        return rest.isdigit() and int(rest) not in open_seqs
    reader_id, _, what = rest.rpartition(":")
    health = readers.get(reader_id)
    if kind != "reader" or health is None:
        return False
    if what == "link":
        return health.state in ("connected", "done")
    if what == "storage":
        return "storage" not in health.causes
    if what == "clock":
        return (health.state == "connected" and health.clock_offset_ms is not None
                and "clock" not in health.causes)
    if what == "drift":
        return (health.state == "connected" and health.drift_ms is not None
                and "drift" not in health.causes)
    if what == "quiet":
        return health.last_read_ms is not None and now_ms - health.last_read_ms < QUIET_MS
    return False


class AlarmBoard:
    """The acknowledgements that hold, and what the alarms are with them (pure: no I/O)."""

    def __init__(self) -> None:
        self.acks: dict[str, Acknowledgement] = {}

    def load(self, entries: Iterable[ActionEntry]) -> None:
        """Acknowledgements from the journal, in its order (the last of each alarm counts)."""
        for entry in entries:
            alarm, measure = entry.payload.get("alarm"), entry.payload.get("measure")
            if isinstance(alarm, str):
                number = measure if isinstance(measure, int | float) else None
                self.acks[alarm] = Acknowledgement(entry.actor, entry.at_ms, number)

    def shown(self, alarms: Sequence[Alarm]) -> list[Alarm]:
        """Each alarm with the acknowledgement that still holds for it; those that no longer
        hold (a new occurrence, or clearly worse) are forgotten."""
        out = []
        for alarm in alarms:
            ack = self.acks.get(alarm.id)
            if ack is not None and not self._holds(ack, alarm):
                del self.acks[alarm.id]
                ack = None
            out.append(replace(alarm, acknowledged=ack))
        return out

    @staticmethod
    def _holds(ack: Acknowledgement, alarm: Alarm) -> bool:
        if alarm.occurrence_ms is not None and alarm.occurrence_ms > ack.at_ms:
            return False
        return not clearly_worse(alarm.measure, ack.measure)

    def observe(self, alarms: Sequence[Alarm], readers: Sequence[ReaderHealth],
                open_seqs: set[int], now_ms: int) -> None:
        """Forget the acknowledgements of alarms seen clear (`alarms`: those active now)."""
        active = {alarm.id for alarm in alarms}
        by_id = {health.id: health for health in readers}
        for alarm_id in [key for key in self.acks if key not in active]:
            if _cleared(alarm_id, by_id, open_seqs, now_ms):
                del self.acks[alarm_id]

    def acknowledge(self, alarm: Alarm, by: str, at_ms: int) -> Alarm:
        ack = Acknowledgement(by, at_ms, alarm.measure)
        self.acks[alarm.id] = ack
        return replace(alarm, acknowledged=ack)


def known(alarm_id: str, readers: Iterable[str], quarantined: Iterable[int]) -> bool:
    """Whether `alarm_id` names an alarm this event can have (active or not)."""
    kind, _, rest = alarm_id.partition(":")
    if kind == "quarantined":
        return rest.isdigit() and int(rest) in set(quarantined)
    reader_id, _, what = rest.rpartition(":")
    return kind == "reader" and what in READER_KINDS and reader_id in set(readers)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class AlarmDesk:
    """The alarms of a running server: the board over the readers, the core's set-aside
    entries and the journal (acknowledgements loaded at start, new ones journaled)."""

    def __init__(self, store: Store, event_id: int, core: TimingCore,
                 readers: ReaderManager) -> None:
        self.store = store
        self.event_id = event_id
        self.core = core
        self.readers = readers
        self.board = AlarmBoard()
        self._recorded: dict[int, int] = {}
        self._acknowledging = asyncio.Lock()

    @classmethod
    async def open(cls, store: Store, event_id: int, core: TimingCore,
                   readers: ReaderManager) -> AlarmDesk:
        desk = cls(store, event_id, core, readers)
        desk.board.load(item.entry for item in await store.actions(event_id, ["alarm"])
                        if isinstance(item.entry, ActionEntry))
        return desk

    def _raw(self, now: int) -> tuple[list[Alarm], list[ReaderHealth], set[int]]:
        readers = self.readers.health()
        aside = self.core.quarantine.open()
        alarms = [alarm for health in readers for alarm in reader_alarms(health, now)]
        alarms += quarantine_alarms(aside, self._recorded)
        return alarms, readers, {item.seq for item in aside}

    def observe(self, _message: object = None) -> None:
        """Called with each health message: acknowledgements of what has cleared go."""
        now = now_ms()
        alarms, readers, open_seqs = self._raw(now)
        self.board.observe(alarms, readers, open_seqs, now)

    async def current(self) -> list[Alarm]:
        """The active alarms, acknowledged or not, in a stable order."""
        missing = [item.seq for item in self.core.quarantine.open()
                   if item.seq not in self._recorded]
        if missing:
            self._recorded.update(await self.store.recorded_times(self.event_id, missing))
        now = now_ms()
        alarms, readers, open_seqs = self._raw(now)
        self.board.observe(alarms, readers, open_seqs, now)
        return self.board.shown(alarms)

    async def acknowledge(self, alarm_id: str, actor: str, reason: str = "") -> tuple[Alarm, int]:
        """Journal the acknowledgement of the active alarm `alarm_id` at its current measure;
        (the alarm, the journal seq). AlarmError 404 (no such alarm) or 409 (not active, or
        already acknowledged)."""
        async with self._acknowledging:  # two desks at once: one journals, one gets 409
            alarms = {alarm.id: alarm for alarm in await self.current()}
            alarm = alarms.get(alarm_id)
            if alarm is None:
                readers = [health.id for health in self.readers.health()]
                seqs = [item.seq for item in self.core.quarantine.everything()]
                if known(alarm_id, readers, seqs):
                    raise AlarmError(f"alarm {alarm_id!r} is not active (its condition has "
                                     "cleared)", 409)
                raise AlarmError(f"no alarm {alarm_id!r} (ids: reader:<reader>:<kind>, "
                                 "quarantined:<seq>)", 404)
            if alarm.acknowledged is not None:
                raise AlarmError(f"alarm {alarm_id!r} is already acknowledged by "
                                 f"{alarm.acknowledged.by or 'someone'}", 409)
            at = now_ms()
            seq = await self.core.act(acknowledge(alarm_id, alarm.measure, actor=actor,
                                                  at_ms=at, reason=reason))
            return self.board.acknowledge(alarm, actor, at), seq


__all__ = ["QUIET_MS", "WORSE_MS", "WORSE_RATIO", "Acknowledgement", "Alarm", "AlarmBoard",
           "AlarmDesk", "AlarmError", "clearly_worse", "known", "quarantine_alarms",
           "reader_alarms"]
