"""Race operations (token: timekeeper or admin): hand timing, statuses, penalties,
participant edits, chips. Each is a journal action taken through the core, which refuses
(409) what cannot apply before anything is journaled."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.auth import PrincipalDep, TimekeeperDep
from api.deps import CoreDep, RuntimeDep
from api.schemas import Bib, Chip, Ident, Reason, Row, errors
from api.view import RowMaker
from timing import what_if
from timing.checks import check_action
from timing.core import TimingCore
from timing.entries import ActionEntry, adjustment_of, assign_chip, penalty
from timing.entries import set_status as status_action
from timing.hand_entry import EntryWarning, entry_warnings
from timing.limits import PENALTY_MAX_MS
from timing.reads import Read
from timing.rules import format_duration
from timing.what_if import Placing

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401))
NO_BIB = (404, "no athlete with that bib")
REFUSED = (409, "the action cannot apply (nothing journaled)")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DryRun = Annotated[bool, Query(description="preview: journal nothing, answer the changes")]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class WhoAmI(BaseModel):
    role: str
    reader: str | None
    label: str = ""


@router.get("/auth/whoami", response_model=WhoAmI, summary="The caller's role (any token)")
async def whoami(caller: PrincipalDep) -> dict[str, Any]:
    return {"role": caller.role, "reader": caller.reader, "label": caller.label}


class Done(BaseModel):
    seq: int = Field(description="the journal sequence number of the action")


def in_event_days(core: TimingCore, time_ms: int | None, where: str) -> int:
    """`time_ms` (None: now), refused with 422 outside the event's days."""
    moment = time_ms if time_ms is not None else now_ms()
    problem = core.standings.window.refuses_ms(moment, where)
    if problem is not None:
        raise HTTPException(422, problem)
    return moment


class ManualEntry(BaseModel):
    bib: Bib
    time_ms: int | None = Field(None, strict=True,
                                description="UTC epoch ms within the event's days; "
                                                  "null = now")
    point: Ident | None = Field(None, description="null = the finish")


class ManualIn(BaseModel):
    entries: list[ManualEntry] = Field(max_length=10_000)


class Counts(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    seq: int


class EntryWarningOut(BaseModel):
    bib: str
    time_ms: int
    code: str = Field(description="no_gun, before_gun, already_finished, far_from_now or "
                                  "not_on_course")
    detail_ms: int | None = Field(description="the gun, the finish already recorded, or now")
    message: str


class ManualAnswer(Counts):
    unknown: list[str] = Field(description="bibs no participant has: their entries are kept "
                                           "(GET /api/unknown-bibs) to give to the right bib")
    warnings: list[EntryWarningOut] = Field(description="entries recorded that deserve a "
                                                        "second look")


@router.post("/manual", response_model=ManualAnswer,
             summary="Hand timing: times entered by bib",
             responses=errors((400, "no reader at that point to enter times for, or a body "
                                    "that cannot be read"), 403,
                              (409, "the point's reader is stopped"), 422, 503))
async def manual(runtime: RuntimeDep, core: CoreDep, caller: TimekeeperDep, body: ManualIn
                 ) -> dict[str, Any]:
    by_reader: dict[str, list[Read]] = {}
    unknown: list[str] = []
    warnings: list[EntryWarning] = []
    now = now_ms()
    for number, entry in enumerate(body.entries):
        point = entry.point or _finish_point(core)
        reader = _hand_reader(core, point)
        moment = in_event_days(core, entry.time_ms, f"body.entries.{number}.time_ms")
        bib = entry.bib.strip()
        if not core.standings.has_athlete(bib):
            if bib not in unknown:
                unknown.append(bib)
        else:
            warnings += entry_warnings(core.standings, bib, point, moment, now,
                                       typed=entry.time_ms is not None)
        by_reader.setdefault(reader, []).append(
            Read("", _EPOCH + timedelta(milliseconds=moment), True, bib=bib))
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "seq": core.seq}
    for reader, reads in by_reader.items():
        answer = await runtime.readers.submit(reader, reads, actor=caller.actor)
        totals["accepted"] += answer.accepted
        totals["duplicates"] += answer.duplicates
        totals["rejected"] += answer.rejected
        totals["seq"] = max(totals["seq"], answer.last_seq)
    zone = ZoneInfo(core.event.timezone)
    return {**totals, "unknown": unknown,
            "warnings": [{**warning._asdict(), "message": _warning_text(warning, zone)}
                         for warning in warnings]}


def _warning_text(warning: EntryWarning, zone: ZoneInfo) -> str:
    detail = "" if warning.detail_ms is None else _local(warning.detail_ms, zone)
    return {
        "no_gun": f"bib {warning.bib}: their race or wave has no gun yet: no time counts "
                  "until it is fired",
        "before_gun": f"bib {warning.bib}: {_local(warning.time_ms, zone)} is before their "
                      f"gun ({detail}): it does not count",
        "already_finished": f"bib {warning.bib} already finished at {detail}: this later "
                            "time changes nothing",
        "far_from_now": f"bib {warning.bib}: {_local(warning.time_ms, zone)} is more than 15 "
                        f"minutes from now ({detail}): is the hour right?",
        "not_on_course": f"bib {warning.bib}: that point is not on their race's course",
    }[warning.code]


def _local(ms: int, zone: ZoneInfo) -> str:
    moment = datetime.fromtimestamp(ms / 1000, zone)
    return f"{moment:%H:%M:%S}.{moment.microsecond // 100_000}"


def _finish_point(core: TimingCore) -> str:
    return core.event.races[0].finish_point if core.event.races else "finish"


def _hand_reader(core: TimingCore, point: str) -> str:
    """The reader hand times at `point` are journaled under: its manual reader, else the
    first reader there (every read needs a configured reader of the point)."""
    at_point = [reader for reader in core.event.readers if reader.point == point]
    if not at_point:
        raise HTTPException(400, f"no reader at point {point!r} to enter times for: add a "
                                 "reader with format \"manual\" there in event.toml")
    manual_readers = [reader for reader in at_point if reader.format == "manual"]
    return (manual_readers or at_point)[0].id


class StatusIn(BaseModel):
    status: Literal["DQ", "DNF", "DNS"] | None = Field(description="null gives it back to "
                                                                   "the reads")
    reason: Annotated[Reason, Field(min_length=1)]


class PenaltyIn(BaseModel):
    ms: int = Field(ge=0, lt=PENALTY_MAX_MS, strict=True)
    reason: Annotated[Reason, Field(min_length=1)]


class Change(BaseModel):
    bib: str
    name: str
    before: dict[str, Any] = Field(description="place, gender_place, category_place, status, "
                                               "time_ms and time (the ranking time)")
    after: dict[str, Any]


class Preview(BaseModel):
    changes: list[Change]


class ActionDone(Done):
    row: Row


@router.post("/athletes/{bib}/status", response_model=ActionDone | Preview,
             summary="Set DQ / DNF / DNS (or clear it) with a reason",
             responses=errors(400, 403, NO_BIB, REFUSED, 422, 503))
async def set_status(core: CoreDep, caller: TimekeeperDep, bib: str, body: StatusIn,
                     dry_run: DryRun = False) -> dict[str, Any]:
    action = status_action(known_bib(core, bib), body.status, actor=caller.actor, at_ms=now_ms(),
                           reason=body.reason)
    return await _act(core, action, bib, dry_run)


@router.post("/athletes/{bib}/penalty", response_model=ActionDone | Preview,
             summary="Add a time penalty with a reason",
             responses=errors(400, 403, NO_BIB, REFUSED, 422, 503))
async def add_penalty(core: CoreDep, caller: TimekeeperDep, bib: str, body: PenaltyIn,
                      dry_run: DryRun = False) -> dict[str, Any]:
    action = penalty(known_bib(core, bib), body.ms / 1000, actor=caller.actor, at_ms=now_ms(),
                     reason=body.reason)
    return await _act(core, action, bib, dry_run)


def known_bib(core: TimingCore, bib: str) -> str:
    if not core.standings.has_athlete(bib):
        raise HTTPException(404, f"no athlete with bib {bib!r}")
    return bib


async def _act(core: TimingCore, action: ActionEntry, bib: str, dry_run: bool
               ) -> dict[str, Any]:
    if dry_run:
        return {"changes": preview(core, action, bib)}
    seq = await core.act(action)
    return {"seq": seq, "row": RowMaker(core.standings).row(bib)}


def preview(core: TimingCore, action: ActionEntry, bib: str) -> list[dict[str, Any]]:
    """The places and statuses in `bib`'s race that `action` (a status or a penalty) would
    change; the standings are not touched (`Standings.preview_adjustment`)."""
    check_action(core.standings, action)
    adjustment = adjustment_of(action)  # checked: it cannot fail
    precision = core.standings.race(core.standings.athlete(bib).race).precision_ms
    return [shown(change, precision)
            for change in core.standings.preview_adjustment(bib, adjustment)]


def shown(change: what_if.Change, precision_ms: int) -> dict[str, Any]:
    """A preview's line: who, their placing before and after, and their ranking time."""
    athlete = change.athlete
    return {"bib": athlete.bib, "name": f"{athlete.first_name} {athlete.last_name}",
            "before": _shown(change.before, precision_ms),
            "after": _shown(change.after, precision_ms)}


def _shown(placing: Placing, precision_ms: int) -> dict[str, Any]:
    # Not `_asdict()`: three times slower, and a DQ of the winner of 50,000 makes 100,000.
    ms = placing.time_ms
    return {"place": placing.place, "gender_place": placing.gender_place,
            "category_place": placing.category_place, "status": placing.status,
            "time_ms": ms, "time": None if ms is None else format_duration(ms, precision_ms)}


class ChipIn(BaseModel):
    chip: Chip
    bib: Bib
    reason: Reason = ""


@router.post("/chips", response_model=ActionDone,
             summary="Assign a chip to a bib, moving it from whoever had it",
             responses=errors(400, 403, NO_BIB, REFUSED, 422, 503))
async def chips(core: CoreDep, caller: TimekeeperDep, body: ChipIn) -> dict[str, Any]:
    bib = known_bib(core, body.bib)
    seq = await core.act(assign_chip(bib, body.chip.strip(), move=True, actor=caller.actor,
                                     at_ms=now_ms(), reason=body.reason))
    return {"seq": seq, "row": RowMaker(core.standings).row(bib)}
