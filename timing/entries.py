"""Journal entries and how each one changes the standings (pure: no database, no asyncio).

Everything that happens at a race is an entry in an append-only journal: a read, a rejected
line, or a timekeeper's action. Standings are a fold of `apply` over the journal in sequence
order, so the live core (entry by entry) and a rebuild after a restart (the whole journal) give
the same answer. The database layer (`timing.store`) only stores and returns these records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from timing.model import Adjustment, Athlete, Status
from timing.reads import UNDATED_BASE, Read
from timing.standings import ReadOutcome, Standings

ClockKind = Literal["local", "utc", "undated"]
"""How a stored reader time is to be read back (see `timing.reads`)."""

ActionName = Literal["gun", "status", "penalty", "chip", "participant"]
ACTIONS: tuple[ActionName, ...] = ("gun", "status", "penalty", "chip", "participant")

_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ReadEntry:
    reader_id: str
    read: Read
    received_ms: int
    """When the host received it (ms since 1970 UTC): for audits and latency, not scoring."""


@dataclass(frozen=True, slots=True)
class RejectedEntry:
    reader_id: str
    raw: str
    reason: str
    received_ms: int
    line: int = 0


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """A timekeeper's action. `payload` is JSON-shaped; `ACTION_FIELDS` says what each holds."""

    action: ActionName
    payload: Mapping[str, object]
    actor: str
    at_ms: int
    reason: str = ""


Entry = ReadEntry | RejectedEntry | ActionEntry


@dataclass(frozen=True, slots=True)
class Journaled:
    """An entry with the sequence number the journal gave it."""

    seq: int
    entry: Entry


@dataclass(slots=True)
class Applied:
    """What applying one entry did, for the publisher."""

    seq: int
    bibs: set[str] = field(default_factory=set)
    """Athletes whose result may have changed (their places and those behind them too)."""
    races: set[str] = field(default_factory=set)
    """Races re-derived as a whole (a gun fired or moved)."""
    outcome: ReadOutcome | None = None


# -- reader times as stored ------------------------------------------------------------------

def encode_time(read: Read) -> tuple[int, ClockKind]:
    """A read's own time as (integer microseconds, kind), exactly reversible by `decode_time`."""
    moment = read.time
    if moment.tzinfo is not None:
        return (moment - _EPOCH_UTC) // _ONE_US, "utc"
    if not read.dated:
        return (moment - UNDATED_BASE) // _ONE_US, "undated"
    return (moment - _EPOCH_NAIVE) // _ONE_US, "local"


def decode_time(micros: int, kind: str) -> tuple[datetime, bool]:
    """(`Read.time`, `Read.dated`) from what `encode_time` gave."""
    if kind == "utc":
        return _EPOCH_UTC + timedelta(microseconds=micros), True
    if kind == "undated":
        return UNDATED_BASE + timedelta(microseconds=micros), False
    return _EPOCH_NAIVE + timedelta(microseconds=micros), True


def dedup_key(reader_id: str, read: Read) -> tuple[str, str, str, int, str]:
    """Two reads with this key equal are the same read sent twice (a reconnect, a rewind, an
    IPICO event-mode repeat): same reader, same chip or bib, same reader time."""
    micros, kind = encode_time(read)
    return reader_id, read.chip.lower(), read.bib or "", micros, kind


# -- actions ---------------------------------------------------------------------------------

def gun(race: str, time_ms: int | None, *, wave: str | None = None, actor: str = "",
        at_ms: int = 0, reason: str = "") -> ActionEntry:
    return ActionEntry("gun", {"race": race, "wave": wave, "time_ms": time_ms}, actor, at_ms,
                       reason)


def set_status(bib: str, status: Status | None, *, actor: str = "", at_ms: int = 0,
               reason: str = "") -> ActionEntry:
    """`status` None gives the decision back to the reads (undoes an earlier status)."""
    return ActionEntry("status", {"bib": bib, "status": status}, actor, at_ms, reason)


def penalty(bib: str, seconds: float, *, actor: str = "", at_ms: int = 0,
            reason: str = "") -> ActionEntry:
    return ActionEntry("penalty", {"bib": bib, "seconds": seconds}, actor, at_ms, reason)


def assign_chip(bib: str, chip: str, *, actor: str = "", at_ms: int = 0,
                reason: str = "") -> ActionEntry:
    return ActionEntry("chip", {"bib": bib, "chip": chip}, actor, at_ms, reason)


def register(athlete: Athlete, *, actor: str = "", at_ms: int = 0,
             reason: str = "") -> ActionEntry:
    """A participant added during the event (late registration at the desk)."""
    payload: dict[str, object] = {
        "bib": athlete.bib, "first_name": athlete.first_name, "last_name": athlete.last_name,
        "gender": athlete.gender, "race": athlete.race, "wave": athlete.wave,
        "chips": list(athlete.chips), "club": athlete.club, "category": athlete.category,
        "birth_date": athlete.birth_date.isoformat() if athlete.birth_date else None,
    }
    return ActionEntry("participant", payload, actor, at_ms, reason)


def athlete_from(payload: Mapping[str, object]) -> Athlete:
    birth = payload.get("birth_date")
    chips = payload.get("chips") or []
    wave = payload.get("wave")
    return Athlete(
        bib=str(payload["bib"]), first_name=str(payload.get("first_name", "")),
        last_name=str(payload.get("last_name", "")), gender=str(payload["gender"]),
        race=str(payload["race"]), wave=None if wave is None else str(wave),
        chips=tuple(str(chip) for chip in chips) if isinstance(chips, list) else (),
        club=str(payload.get("club") or ""), category=str(payload.get("category") or ""),
        birth_date=date.fromisoformat(birth) if isinstance(birth, str) else None,
    )


# -- applying entries ------------------------------------------------------------------------

class ActionError(ValueError):
    """An action that cannot apply (unknown bib, race or wave; a chip already taken). The live
    core refuses it before journaling; a rebuild reports it and goes on."""


def apply(standings: Standings, item: Journaled) -> Applied:
    """Apply one journal entry to the standings."""
    entry = item.entry
    applied = Applied(item.seq)
    if isinstance(entry, ReadEntry):
        outcome = standings.add_read(entry.reader_id, entry.read)
        applied.outcome = outcome
        if outcome.kind == "athlete" and outcome.changed:
            applied.bibs.add(outcome.key)
    elif isinstance(entry, ActionEntry):
        apply_action(standings, entry, applied)
    return applied


def apply_all(standings: Standings, items: Iterable[Journaled],
              settle: bool = True) -> list[tuple[int, str]]:
    """A rebuild: every entry in order, reads in bulk between actions (same result as one by
    one, much faster). Returns (seq, message) for actions that could not apply. With
    `settle=False` the last reads are left for `standings.settle()` (a rebuild in batches)."""
    errors: list[tuple[int, str]] = []
    pending: list[tuple[str, Read]] = []
    for item in items:
        entry = item.entry
        if isinstance(entry, ReadEntry):
            pending.append((entry.reader_id, entry.read))
        elif isinstance(entry, ActionEntry):
            if pending:
                standings.add_reads(pending, settle=False)
                pending = []
            try:
                apply_action(standings, entry, Applied(item.seq))
            except ActionError as error:
                errors.append((item.seq, str(error)))
    if pending:
        standings.add_reads(pending, settle=False)
    if settle:
        standings.settle()
    return errors


def apply_action(standings: Standings, entry: ActionEntry, applied: Applied) -> None:
    payload = entry.payload
    try:
        if entry.action == "gun":
            race = str(payload["race"])
            wave = payload.get("wave")
            time_ms = payload.get("time_ms")
            standings.set_gun(race, None if time_ms is None else int(str(time_ms)),
                              None if wave is None else str(wave))
            applied.races.add(race)
        elif entry.action == "status":
            bib = str(payload["bib"])
            status = payload.get("status")
            if status is None:
                standings.clear_status(bib)
            else:
                standings.apply_adjustment(Adjustment(bib, "status", status=_status(status),
                                                      reason=entry.reason))
            applied.bibs.add(bib)
        elif entry.action == "penalty":
            bib = str(payload["bib"])
            seconds = float(str(payload["seconds"]))
            standings.apply_adjustment(Adjustment(bib, "penalty",
                                                  penalty_ms=round(seconds * 1000),
                                                  reason=entry.reason))
            applied.bibs.add(bib)
        elif entry.action == "chip":
            bib = str(payload["bib"])
            standings.assign_chip(bib, str(payload["chip"]))
            applied.bibs.add(bib)
        elif entry.action == "participant":
            athlete = athlete_from(payload)
            standings.add_athlete(athlete)
            applied.bibs.add(athlete.bib)
        else:
            raise ActionError(f"unknown action {entry.action!r}")
    except (KeyError, ValueError, TypeError) as error:
        if isinstance(error, ActionError):
            raise
        raise ActionError(f"{entry.action}: {_describe(error)}") from error


def _status(value: object) -> Status:
    for status in ("DQ", "DNF", "DNS"):
        if value == status:
            return status
    raise ActionError(f"status must be DQ, DNF or DNS, not {value!r}")


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no such bib, race or wave: {error.args[0]}"
    return str(error)
