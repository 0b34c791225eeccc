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

from timing.model import Adjustment, Athlete, ReaderConfig, Status
from timing.reads import UNDATED_BASE, Read
from timing.standings import ReadOutcome, Standings

ClockKind = Literal["local", "utc", "undated"]
"""How a stored reader time is to be read back (see `timing.reads`)."""

ActionName = Literal["gun", "status", "penalty", "chip", "participant", "edit", "void",
                     "reader"]

CHIP_MAX = 64
BIB_MAX = 32
DEVICE_MAX = 64
"""The longest chip code, bib and device id the journal keeps (its column sizes)."""

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
    actor: str = ""
    """Who entered it, for reads typed or tapped by a timekeeper (manual and hand timing)."""
    stored: tuple[int, ClockKind, str] | None = field(default=None, compare=False, repr=False)
    """`stored_form(read)` when the maker had it already (the core computes it to
    de-duplicate): spares the store computing it again for every read. None: computed there."""


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


def oversized(read: Read) -> str | None:
    """Why the journal cannot keep `read` as a read (a field longer than its column), or None.
    Such a read is journaled as a rejected line instead: never lost, never a failed commit."""
    if len(read.chip) > CHIP_MAX:
        return f"chip code longer than {CHIP_MAX} characters"
    if read.bib is not None and len(read.bib) > BIB_MAX:
        return f"bib longer than {BIB_MAX} characters"
    if read.reader is not None and len(read.reader) > DEVICE_MAX:
        return f"device id longer than {DEVICE_MAX} characters"
    return None


def dedup_key(reader_id: str, read: Read) -> tuple[str, str]:
    """Two reads with this key equal are the same read sent twice (a reconnect, a rewind, an
    IPICO event-mode repeat): same reader, same chip or bib, same reader time. The second part
    is what the journal stores (and indexes as unique) in its `dedup` column."""
    return reader_id, stored_form(read)[2]


def stored_form(read: Read) -> tuple[int, ClockKind, str]:
    """What the journal stores of a read's identity: (reader time in µs, clock kind, `dedup`
    text). `dedup_key(reader_id, read)` is `(reader_id, stored_form(read)[2])`."""
    micros, kind = encode_time(read)
    return micros, kind, dedup_text(read, micros, kind)


def dedup_text(read: Read, micros: int, kind: ClockKind) -> str:
    """The journal's `dedup` column for a read whose time `encode_time` gave as (micros, kind)."""
    return f"{read.chip.lower()}|{read.bib or ''}|{kind}|{micros}"


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


def assign_chip(bib: str, chip: str, *, move: bool = False, actor: str = "", at_ms: int = 0,
                reason: str = "") -> ActionEntry:
    """Give `bib` a chip. A chip someone else has is refused unless `move` (a swap at the
    desk): then every read of it, before and after, is the new wearer's."""
    return ActionEntry("chip", {"bib": bib, "chip": chip, "move": move}, actor, at_ms, reason)


def void(reader_id: str, read: Read, *, seq: int | None = None, actor: str = "", at_ms: int = 0,
         reason: str = "") -> ActionEntry:
    """A correction: the read (journal entry `seq`) no longer counts. The read stays in the
    journal; this entry says it is void."""
    micros, clock = encode_time(read)
    payload: dict[str, object] = {"reader": reader_id, "chip": read.chip, "bib": read.bib,
                                  "time": micros, "clock": clock, "seq": seq}
    return ActionEntry("void", payload, actor, at_ms, reason)


def register(athlete: Athlete, *, actor: str = "", at_ms: int = 0,
             reason: str = "") -> ActionEntry:
    """A participant added during the event (late registration at the desk)."""
    return ActionEntry("participant", _athlete_payload(athlete), actor, at_ms, reason)


def edit(athlete: Athlete, *, actor: str = "", at_ms: int = 0, reason: str = "") -> ActionEntry:
    """A participant edited during the event (same bib; any other field, chips included)."""
    return ActionEntry("edit", _athlete_payload(athlete), actor, at_ms, reason)


def add_reader(config: ReaderConfig, *, actor: str = "", at_ms: int = 0,
               reason: str = "") -> ActionEntry:
    """A reader added while the event runs: from this entry on, its reads count at its point
    (a rebuild adds it again at the same place in the journal)."""
    payload: dict[str, object] = {
        "id": config.id, "point": config.point, "format": config.format,
        "clock_offset_ms": config.clock_offset_ms, "path": config.path, "port": config.port,
        "baud": config.baud, "host": config.host}
    return ActionEntry("reader", payload, actor, at_ms, reason)


def reader_from(payload: Mapping[str, object]) -> ReaderConfig:
    def text(name: str) -> str | None:
        value = payload.get(name)
        return None if value is None else str(value)

    baud = payload.get("baud")
    return ReaderConfig(id=str(payload["id"]), point=str(payload["point"]),
                        format=str(payload["format"]),
                        clock_offset_ms=int(str(payload.get("clock_offset_ms") or 0)),
                        path=text("path"), port=text("port"),
                        baud=None if baud is None else int(str(baud)), host=text("host"))


def _athlete_payload(athlete: Athlete) -> dict[str, object]:
    return {
        "bib": athlete.bib, "first_name": athlete.first_name, "last_name": athlete.last_name,
        "gender": athlete.gender, "race": athlete.race, "wave": athlete.wave,
        "chips": list(athlete.chips), "club": athlete.club, "category": athlete.category,
        "birth_date": athlete.birth_date.isoformat() if athlete.birth_date else None,
    }


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
        elif entry.action in ("status", "penalty"):
            bib = str(payload["bib"])
            adjustment = adjustment_of(entry)
            if adjustment is None:
                standings.clear_status(bib)
            else:
                standings.apply_adjustment(adjustment)
            applied.bibs.add(bib)
        elif entry.action == "chip":
            bib, chip = str(payload["bib"]), str(payload["chip"])
            previous = standings.chip_owner(chip)
            if previous not in (None, bib) and not payload.get("move"):
                raise ActionError(f"chip {chip} already belongs to bib {previous}")
            standings.assign_chip(bib, chip)
            applied.bibs.update({bib} if previous is None else {bib, previous})
        elif entry.action in ("participant", "edit"):
            athlete = athlete_from(payload)
            if entry.action == "participant":
                standings.add_athlete(athlete)
            else:
                standings.update_athlete(athlete)
            applied.bibs.add(athlete.bib)
        elif entry.action == "void":
            moment, dated = decode_time(int(str(payload["time"])), str(payload["clock"]))
            voided_bib = payload.get("bib")
            read = Read(str(payload.get("chip") or ""), moment, dated,
                        bib=None if voided_bib is None else str(voided_bib))
            if not standings.remove_read(str(payload["reader"]), read):
                raise ActionError(f"void: no such read ({payload.get('seq')})")
            owner = standings.chip_owner(read.chip) if read.bib is None else read.bib
            if owner is not None:
                applied.bibs.add(owner)
        elif entry.action == "reader":
            standings.add_reader(reader_from(payload))  # no result changes: its reads come later
        else:
            raise ActionError(f"unknown action {entry.action!r}")
    except (KeyError, ValueError, TypeError) as error:
        if isinstance(error, ActionError):
            raise
        raise ActionError(f"{entry.action}: {_describe(error)}") from error


def adjustment_of(entry: ActionEntry) -> Adjustment | None:
    """The adjustment a status or penalty action makes; None: a status cleared (the reads
    decide again). Shared by `apply_action` and the timekeeper's dry run, which must agree."""
    payload = entry.payload
    bib = str(payload["bib"])
    if entry.action == "penalty":
        seconds = float(str(payload["seconds"]))
        return Adjustment(bib, "penalty", penalty_ms=round(seconds * 1000), reason=entry.reason)
    if entry.action != "status":
        raise ActionError(f"{entry.action}: not a status or a penalty")
    status = payload.get("status")
    if status is None:
        return None
    return Adjustment(bib, "status", status=_status(status), reason=entry.reason)


def check_action(standings: Standings, action: ActionEntry) -> None:
    """Raise ActionError if `action` would not apply to `standings` (the live core checks
    before journaling, so that the journal holds no action that cannot apply)."""
    payload = action.payload
    if action.action in ("status", "penalty", "chip"):
        bib = str(payload.get("bib"))
        if not standings.has_athlete(bib):
            raise ActionError(f"{action.action}: no participant has bib {bib!r}")
    if action.action == "gun":
        race_id = str(payload.get("race"))
        try:
            race = standings.race(race_id)
        except KeyError:
            raise ActionError(f"gun: no race {race_id!r}") from None
        wave = payload.get("wave")
        if wave is not None and race.wave(str(wave)) is None:
            raise ActionError(f"gun: race {race_id} has no wave {wave!r}")
    if action.action == "chip":
        chip = str(payload.get("chip"))
        owner = standings.chip_owner(chip)
        if owner not in (None, payload.get("bib")) and not payload.get("move"):
            raise ActionError(f"chip: {chip} already belongs to bib {owner} (move it "
                              "explicitly to swap)")
    if action.action == "edit":
        bib = str(payload.get("bib"))
        if not standings.has_athlete(bib):
            raise ActionError(f"edit: no participant has bib {bib!r}")
        try:
            athlete = athlete_from(payload)
            standings.race(athlete.race)
        except (KeyError, ValueError) as error:
            raise ActionError(f"edit: {error}") from None
        for chip in athlete.chips:
            owner = standings.chip_owner(chip)
            if owner not in (None, bib):
                raise ActionError(f"edit: chip {chip} already belongs to bib {owner}")
    if action.action == "reader":
        try:
            config = reader_from(action.payload)
        except (KeyError, ValueError) as error:
            raise ActionError(f"reader: {_describe(error)}") from None
        if standings.has_reader(config.id):
            raise ActionError(f"reader: {config.id!r} already exists")
        if config.point not in {point.id for point in standings.event.points}:
            raise ActionError(f"reader: no point {config.point!r}")
    if action.action == "participant" and standings.has_athlete(str(payload.get("bib"))):
        raise ActionError(f"participant: bib {payload.get('bib')} is already registered")
    if action.action == "status" and payload.get("status") is not None:
        _status(payload.get("status"))
    if action.action == "penalty":
        try:
            seconds = float(str(payload.get("seconds")))
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds < 86_400:
            raise ActionError(f"penalty: seconds must be a number >= 0, not "
                              f"{payload.get('seconds')!r}")


def _status(value: object) -> Status:
    for status in ("DQ", "DNF", "DNS"):
        if value == status:
            return status
    raise ActionError(f"status must be DQ, DNF or DNS, not {value!r}")


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no such bib, race or wave: {error.args[0]}"
    return str(error)
