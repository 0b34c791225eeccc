"""Corrections at the desk (token: timekeeper or admin): an athlete's passings as the journal
holds them, the entries typed under a bib nobody has, and voiding or reassigning a read, each
with a dry run first (`timing.corrections`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.auth import TimekeeperDep
from api.deps import CoreDep, RuntimeDep
from api.routers.timekeeper import NO_BIB, REFUSED, DryRun, Preview, known_bib, now_ms, shown
from api.schemas import Bib, Reason, Row, errors
from api.view import RowMaker
from timing.checks import check_action
from timing.core import TimingCore
from timing.corrections import given_read
from timing.entries import (
    ActionEntry,
    ActionError,
    Journaled,
    ReadEntry,
    reassign,
    void,
    void_entry,
)
from timing.reads import Read

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401, 403))
NO_ENTRY = (404, "no journal entry with that sequence number")


class Passing(BaseModel):
    seq: int = Field(description="the journal entry: a read, or the reassign that gave it")
    point: str
    time_ms: int = Field(description="UTC epoch ms, the reader's clock offset applied")
    source: str = Field(description="\"manual\" for a time typed at the desk, else the reader")
    reader: str
    by: str = Field(description="who typed it (hand timing), else \"\"")
    voided: bool
    voided_by: int | None = Field(description="the void or reassign that took it away")
    passing: int | None = Field(description="which passing at the point it belongs to (1, 2, "
                                            "... in time order); null before the gun")
    counted: bool = Field(description="it is the time the results use for that passing")


@router.get("/athletes/{bib}/passings", response_model=list[Passing],
            summary="Every read and hand time of an athlete, grouped by passing",
            responses=errors(NO_BIB, 503))
async def passings(runtime: RuntimeDep, core: CoreDep, _: TimekeeperDep, bib: str
                   ) -> list[dict[str, Any]]:
    standings = core.standings
    athlete = standings.athlete(known_bib(core, bib))
    items = await runtime.store.reads_of(runtime.event_id, [bib], athlete.chips)
    for item in await runtime.store.actions(runtime.event_id, ["reassign"]):
        assert isinstance(item.entry, ActionEntry)
        if item.entry.payload.get("to_bib") == bib:
            items.append(item)
    chosen = standings.chosen_passings(bib)
    order = {point: index for index, point in enumerate(standings.race(athlete.race).points)}
    out = []
    for item in items:
        reader_id, read = _read_of(item)
        placed = standings.placed(reader_id, read)
        if placed is None:
            continue  # a time no date can show: set aside, listed on /api/quarantined
        point, ms = placed
        times = chosen.get(point, ())
        group = sum(1 for time in times if time <= ms) or None
        voided_by = standings.voided.get(item.seq)
        out.append({"seq": item.seq, "point": point, "time_ms": ms, "reader": reader_id,
                    "source": "manual" if read.bib is not None else reader_id,
                    "by": _actor(item), "voided": voided_by is not None,
                    "voided_by": voided_by, "passing": group,
                    "counted": voided_by is None and ms in times})
    out.sort(key=lambda found: (order.get(str(found["point"]), len(order)),
                                int(str(found["time_ms"])), int(str(found["seq"]))))
    return out


class UnknownBibEntry(BaseModel):
    seq: int
    bib: str
    point: str
    time_ms: int
    reader: str
    by: str
    received_ms: int


@router.get("/unknown-bibs", response_model=list[UnknownBibEntry],
            summary="Times typed under a bib nobody has, to give to the right bib",
            responses=errors(503))
async def unknown_bibs(runtime: RuntimeDep, core: CoreDep, _: TimekeeperDep
                       ) -> list[dict[str, Any]]:
    standings = core.standings
    bibs = list(standings.unknown_bibs())
    out = []
    for item in await runtime.store.reads_of(runtime.event_id, bibs):
        entry = item.entry
        assert isinstance(entry, ReadEntry)
        placed = standings.placed(entry.reader_id, entry.read)
        if placed is None or item.seq in standings.voided or entry.read.bib is None:
            continue
        out.append({"seq": item.seq, "bib": entry.read.bib, "point": placed[0],
                    "time_ms": placed[1], "reader": entry.reader_id, "by": entry.actor,
                    "received_ms": entry.received_ms})
    return out


class VoidIn(BaseModel):
    seq: int = Field(strict=True, ge=1, lt=1 << 63, description="the journal entry to void")
    reason: Annotated[Reason, Field(min_length=1)]


class ReassignIn(VoidIn):
    bib: Bib = Field(description="the participant the entry's time belongs to")


class Corrected(BaseModel):
    seq: int = Field(description="the journal sequence number of the correction")
    row: Row | None = Field(description="the result of the athlete it changed, if any")


@router.post("/void", response_model=Corrected | Preview,
             summary="Void a read or a hand time (or an entry set aside), with a reason",
             responses=errors(400, NO_ENTRY, REFUSED, 422, 503))
async def void_route(runtime: RuntimeDep, core: CoreDep, caller: TimekeeperDep, body: VoidIn,
                     dry_run: DryRun = False) -> dict[str, Any]:
    item = Journaled(body.seq, await _entry(runtime, body.seq))
    if core.quarantine.is_open(body.seq):
        action = void_entry(body.seq, actor=caller.actor, at_ms=now_ms(), reason=body.reason)
        return await _correct(core, action, None, dry_run)
    if not (isinstance(item.entry, ReadEntry)
            or (isinstance(item.entry, ActionEntry) and item.entry.action == "reassign")):
        raise ActionError(f"void: entry {body.seq} is no read: a status is cleared with the "
                          "status \"none\", a chip moved back with /api/chips, a gun corrected "
                          "on its route")
    reader_id, read = _read_of(item)
    action = void(reader_id, read, seq=body.seq, actor=caller.actor, at_ms=now_ms(),
                  reason=body.reason)
    return await _correct(core, action, _owner(core, read), dry_run,
                          removed=core.standings.placed(reader_id, read))


@router.post("/reassign", response_model=Corrected | Preview,
             summary="Give a time typed under a bib nobody has to the right bib",
             responses=errors(400, NO_ENTRY, (404, "no athlete with that bib"), REFUSED, 422,
                              503))
async def reassign_route(runtime: RuntimeDep, core: CoreDep, caller: TimekeeperDep,
                         body: ReassignIn, dry_run: DryRun = False) -> dict[str, Any]:
    entry = await _entry(runtime, body.seq)
    to_bib = known_bib(core, body.bib)
    if not isinstance(entry, ReadEntry):
        raise ActionError(f"reassign: entry {body.seq} is no read")
    action = reassign(entry.reader_id, entry.read, to_bib, seq=body.seq, actor=caller.actor,
                      at_ms=now_ms(), reason=body.reason)
    return await _correct(core, action, to_bib, dry_run,
                          added=core.standings.placed(*given_read(action.payload)))


async def _entry(runtime: RuntimeDep, seq: int) -> Any:
    entry = await runtime.store.entry(runtime.event_id, seq)
    if entry is None:
        raise HTTPException(404, f"no journal entry {seq}")
    return entry


def _read_of(item: Journaled) -> tuple[str, Read]:
    """The read a journal entry counts now: a read's own, or the one a reassign gave."""
    entry = item.entry
    if isinstance(entry, ReadEntry):
        return entry.reader_id, entry.read
    assert isinstance(entry, ActionEntry)
    return given_read(entry.payload)


def _actor(item: Journaled) -> str:
    entry = item.entry
    return entry.actor if isinstance(entry, ReadEntry | ActionEntry) else ""


def _owner(core: TimingCore, read: Read) -> str | None:
    standings = core.standings
    owner = standings.chip_owner(read.chip) if read.bib is None else read.bib
    return owner if owner is not None and standings.has_athlete(owner) else None


async def _correct(core: TimingCore, action: ActionEntry, owner: str | None, dry_run: bool, *,
                   removed: tuple[str, int] | None = None,
                   added: tuple[str, int] | None = None) -> dict[str, Any]:
    """A dry run answers who would move when `owner` loses the time `removed` or gains `added`
    ((point, ms); nobody moves for a read nobody has); otherwise the correction is journaled
    through the core, which checks it again."""
    if dry_run:
        check_action(core.standings, action)
        placed = removed or added
        if owner is None or placed is None:
            return {"changes": []}
        point, ms = placed
        found = core.standings.preview_times(owner, point,
                                             remove_ms=ms if removed else None,
                                             add_ms=ms if added else None)
        precision = core.standings.race(core.standings.athlete(owner).race).precision_ms
        return {"changes": [shown(found_change, precision) for found_change in found]}
    seq = await core.act(action)
    return {"seq": seq, "row": None if owner is None else RowMaker(core.standings).row(owner)}
