"""Journal entries and how each one changes the standings (pure: no database, no asyncio).

Everything that happens at a race is an entry in an append-only journal: a read, a rejected
line, or a timekeeper's action. Standings are a fold of `apply` over the journal in sequence
order, so the live core (entry by entry) and a rebuild after a restart (the whole journal) give
the same answer. The database layer (`timing.store`) only stores and returns these records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from timing.corrections import apply_correction, read_payload
from timing.limits import (
    BIB_MAX,
    CHIP_MAX,
    DEVICE_MAX,
    PENALTY_MAX_MS,
    clock_offset_problem,
)
from timing.model import Adjustment, Athlete, ReaderConfig, Status
from timing.reads import Read
from timing.standings import ReadOutcome, Standings
from timing.stored_time import ClockKind, encode_time
from timing.text import text_problem

ActionName = Literal["gun", "status", "penalty", "chip", "participant", "edit", "void",
                     "reader", "reassign", "alarm"]

INT32 = 1 << 31
INT64 = 1 << 63
_INT32_MIN, _INT32_MAX = -INT32, INT32 - 1
_INT64_MIN, _INT64_MAX = -INT64, INT64 - 1


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
    lines: int = 1
    """How many rejected lines this entry stands for: more than one for the summary of lines
    counted but not journaled (`timing.reject_limit`); `raw` is then the last of them."""


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


# -- reads as stored ---------------------------------------------------------------------------

def unstorable(read: Read) -> str | None:
    """Why the journal cannot keep `read` as a read (a field its column cannot hold), or None.
    Such a read is journaled as a rejected line instead: never lost, and never a commit that
    fails, which would fail every other reader's reads committed with it. On the ingest path
    (every read): plain comparisons first, the detailed reason only for a read that fails."""
    chip, bib, device = read.chip, read.bib, read.reader
    if (len(chip) > CHIP_MAX or not chip.isprintable()
            or (bib is not None and (len(bib) > BIB_MAX or not bib.isprintable()))
            or (device is not None and (len(device) > DEVICE_MAX
                                        or not device.isprintable()))):
        return (text_problem(chip, "chip code", CHIP_MAX, free=False)
                or (bib is not None and text_problem(bib, "bib", BIB_MAX, free=False))
                or (device is not None and text_problem(device, "device id", DEVICE_MAX,
                                                        free=False)) or None)
    sequence, antenna, line = read.sequence, read.antenna, read.line
    if sequence is not None and not _INT64_MIN <= sequence <= _INT64_MAX:
        return f"record number {sequence} out of range"
    if antenna is not None and not _INT32_MIN <= antenna <= _INT32_MAX:
        return f"antenna {antenna} out of range"
    if not _INT32_MIN <= line <= _INT32_MAX:
        return f"line {line} out of range"
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
        at_ms: int = 0, reason: str = "", correct: bool = False) -> ActionEntry:
    """`correct`: the gun was set already and this moves it on purpose (kept for the record;
    the payload holds the key only then, as journals before it have none)."""
    payload: dict[str, object] = {"race": race, "wave": wave, "time_ms": time_ms}
    if correct:
        payload["correct"] = True
    return ActionEntry("gun", payload, actor, at_ms, reason)


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


def void(reader_id: str, read: Read, *, seq: int, actor: str = "", at_ms: int = 0,
         reason: str = "") -> ActionEntry:
    """A correction: the read (journal entry `seq`, as it counts now) no longer counts. The
    read stays in the journal; this entry says it is void (`timing.corrections`)."""
    return ActionEntry("void", read_payload(seq, reader_id, read), actor, at_ms, reason)


def reassign(reader_id: str, read: Read, to_bib: str, *, seq: int, actor: str = "",
             at_ms: int = 0, reason: str = "") -> ActionEntry:
    """A correction: the read (journal entry `seq`) of a bib nobody has counts for `to_bib`,
    at the same point and time (`timing.corrections`)."""
    payload = read_payload(seq, reader_id, read)
    payload["to_bib"] = to_bib
    return ActionEntry("reassign", payload, actor, at_ms, reason)


def void_entry(seq: int, *, actor: str = "", at_ms: int = 0, reason: str = "") -> ActionEntry:
    """The journal entry `seq`, which could not be applied (quarantined), is set aside for
    good: it is no longer reported. The standings do not change (it never applied)."""
    return ActionEntry("void", {"seq": seq}, actor, at_ms, reason)


def voided_seq(entry: ActionEntry) -> int | None:
    """The entry a `void_entry` action sets aside; None for any other action (a read's void
    names its reader)."""
    if entry.action != "void" or "reader" in entry.payload:
        return None
    seq = entry.payload.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def acknowledge(alarm: str, measure: float | None = None, *, actor: str = "", at_ms: int = 0,
                reason: str = "") -> ActionEntry:
    """A timekeeper has seen the alarm `alarm` (its stable key, e.g. "reader:finish-1:drift")
    at `measure` (how bad it was then, where it has a size: the alarm comes back only worse).
    Journaled for the record of who saw what when; the standings do not change."""
    return ActionEntry("alarm", {"alarm": alarm, "measure": measure}, actor, at_ms, reason)


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
    one, much faster). Returns (seq, message) for the entries that could not apply (an action
    the event no longer allows, a read whose time no date can show): they change nothing and
    the rebuild goes on. With `settle=False` the last reads are left for `standings.settle()`
    (a rebuild in batches)."""
    errors: list[tuple[int, str]] = []
    pending: list[tuple[str, Read]] = []
    seqs: list[int] = []
    for item in items:
        entry = item.entry
        if isinstance(entry, ReadEntry):
            pending.append((entry.reader_id, entry.read))
            seqs.append(item.seq)
        elif isinstance(entry, ActionEntry):
            if pending:
                errors.extend(_add_reads(standings, pending, seqs))
                pending, seqs = [], []
            try:
                apply_action(standings, entry, Applied(item.seq))
            except Exception as error:  # whatever it is, the rebuild goes on
                errors.append((item.seq, describe_failure(error)))
    if pending:
        errors.extend(_add_reads(standings, pending, seqs))
    if settle:
        standings.settle()
    errors.sort()
    return errors


def _add_reads(standings: Standings, reads: list[tuple[str, Read]],
               seqs: list[int]) -> list[tuple[int, str]]:
    return [(seqs[index], invalid_read_message(outcome))
            for index, outcome in standings.add_reads(reads, settle=False)
            if outcome.kind == "invalid"]


def invalid_read_message(outcome: ReadOutcome) -> str:
    return (f"read: its time with reader {outcome.key}'s clock offset is not a date "
            "(years 1 to 9999)")


def describe_failure(error: Exception) -> str:
    """What an entry that could not apply says (an ActionError's own text; anything else, an
    error in Gambero itself, with its type)."""
    if isinstance(error, ActionError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def apply_action(standings: Standings, entry: ActionEntry, applied: Applied) -> None:
    payload = entry.payload
    try:
        if entry.action == "gun":
            race = str(payload["race"])
            wave = payload.get("wave")
            standings.set_gun(race, gun_time(standings, payload),
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
            # A bib registered at the desk and later written into participants.csv is the
            # file's at the next start: the desk's registration, the later word, applies as
            # an edit (live, the check refuses a bib registered twice before it is journaled).
            if entry.action == "participant" and not standings.has_athlete(athlete.bib):
                standings.add_athlete(athlete)
            else:
                standings.update_athlete(athlete)
            applied.bibs.add(athlete.bib)
        elif entry.action in ("void", "reassign"):
            if voided_seq(entry) is not None:
                return  # an entry that never applied: nothing changes (the core notes it)
            applied.bibs.update(apply_correction(standings, entry.action, payload,
                                                 applied.seq))
        elif entry.action == "reader":
            standings.add_reader(checked_reader(payload))  # its reads come later
        elif entry.action == "alarm":
            return  # an acknowledgement: for the desk and the record, not the results
        else:
            raise ActionError(f"unknown action {entry.action!r}")
    except (KeyError, ValueError, TypeError, ArithmeticError) as error:
        if isinstance(error, ActionError):
            raise
        raise ActionError(f"{entry.action}: {describe_error(error)}") from error


def gun_time(standings: Standings, payload: Mapping[str, object]) -> int | None:
    """A gun action's time (None: the gun taken back), refused out of the event's days."""
    time_ms = payload.get("time_ms")
    if time_ms is None:
        return None
    problem = standings.window.refuses_ms(time_ms)
    if problem is not None:
        raise ActionError(f"gun: {problem}")
    assert isinstance(time_ms, int)
    return time_ms


def checked_reader(payload: Mapping[str, object]) -> ReaderConfig:
    """A reader action's reader, refused with a clock offset of more than a day."""
    config = reader_from(payload)
    problem = clock_offset_problem(config.clock_offset_ms)
    if problem is not None:
        raise ActionError(f"reader {config.id}: {problem}")
    return config


def adjustment_of(entry: ActionEntry) -> Adjustment | None:
    """The adjustment a status or penalty action makes; None: a status cleared (the reads
    decide again). Shared by `apply_action` and the timekeeper's dry run, which must agree."""
    payload = entry.payload
    bib = str(payload["bib"])
    if entry.action == "penalty":
        seconds = float(str(payload["seconds"]))
        if not 0 <= seconds * 1000 < PENALTY_MAX_MS:
            raise ActionError(f"penalty: seconds must be a number from 0 to under a day, not "
                              f"{payload['seconds']!r}")
        return Adjustment(bib, "penalty", penalty_ms=round(seconds * 1000), reason=entry.reason)
    if entry.action != "status":
        raise ActionError(f"{entry.action}: not a status or a penalty")
    status = payload.get("status")
    if status is None:
        return None
    return Adjustment(bib, "status", status=status_of(status), reason=entry.reason)


def status_of(value: object) -> Status:
    for status in ("DQ", "DNF", "DNS"):
        if value == status:
            return status
    raise ActionError(f"status must be DQ, DNF or DNS, not {value!r}")


def describe_error(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no such bib, race or wave: {error.args[0]}"
    return str(error)
