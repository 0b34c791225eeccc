"""What a timekeeper looks at and loads (token: timekeeper or admin): unknown chips, rejected
lines, the journal, and a participants list to import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from api.auth import TimekeeperDep
from api.deps import CoreDep, RuntimeDep
from api.file_problems import PARTICIPANTS_FILE, FileProblems
from api.routers.timekeeper import now_ms
from api.schemas import errors
from timing.entries import ActionError, RejectedEntry, edit, register
from timing.event_rows import COMPARED_FIELDS
from timing.model import Problem
from timing.participants import CsvHeaderError, parse_participants

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401, 403))

Limit = Annotated[int, Query(ge=1, le=10_000)]


class UnknownChip(BaseModel):
    chip: str
    reads: int
    first_ms: int | None
    last_ms: int | None
    readers: list[str]


@router.get("/unknown-chips", response_model=list[UnknownChip],
            summary="Chips read that nobody wears", responses=errors(503))
async def unknown_chips(runtime: RuntimeDep, core: CoreDep, _: TimekeeperDep
                        ) -> list[dict[str, Any]]:
    counts = core.standings.unknown_chips()
    offsets = {reader.id: reader.clock_offset_ms for reader in core.event.readers}
    clock = core.standings.clock
    found: dict[str, dict[str, Any]] = {}
    for reader, chip, micros, kind in await runtime.store.reads_of_chips(
            runtime.event_id, list(counts)):
        key = chip.lower()
        if key not in counts:
            continue
        ms = clock.stored_ms(micros, kind) + offsets.get(reader, 0)
        entry = found.setdefault(key, {"chip": chip, "reads": 0, "first_ms": ms,
                                       "last_ms": ms, "readers": []})
        entry["reads"] += 1
        entry["first_ms"], entry["last_ms"] = min(entry["first_ms"], ms), max(entry["last_ms"],
                                                                              ms)
        if reader not in entry["readers"]:
            entry["readers"].append(reader)
    return sorted(found.values(), key=lambda entry: (-entry["reads"], entry["chip"]))


class RejectedLine(BaseModel):
    seq: int
    reader: str
    line: str
    line_number: int
    reason: str
    received_ms: int
    lines: int = Field(description="rejected lines this entry stands for: more than 1 for the "
                                   "summary of lines counted but not journaled one by one")


@router.get("/rejected", response_model=list[RejectedLine],
            summary="Reader lines that could not be used, newest first",
            responses=errors(422))
async def rejected(runtime: RuntimeDep, _: TimekeeperDep, limit: Limit = 100
                   ) -> list[dict[str, Any]]:
    out = []
    for item in await runtime.store.latest(runtime.event_id, "rejected", limit):
        entry = item.entry
        assert isinstance(entry, RejectedEntry)
        out.append({"seq": item.seq, "reader": entry.reader_id, "line": entry.raw,
                    "line_number": entry.line, "reason": entry.reason,
                    "received_ms": entry.received_ms, "lines": entry.lines})
    return out


class QuarantinedEntry(BaseModel):
    seq: int
    kind: str = Field(description="\"read\", \"rejected\" or the action's name")
    summary: str
    error: str = Field(description="why it cannot apply")
    voided_by: int | None = Field(description="the void that set it aside for good, if any")


@router.get("/quarantined", response_model=list[QuarantinedEntry],
            summary="Journal entries that cannot apply and are set aside (docs/operations.md)",
            responses=errors(422, 503))
async def quarantined(core: CoreDep, _: TimekeeperDep,
                      voided: Annotated[bool, Query(description="include those voided")] = False
                      ) -> list[dict[str, Any]]:
    items = core.quarantine.everything() if voided else core.quarantine.open()
    return [{"seq": item.seq, "kind": item.kind, "summary": item.summary,
             "error": item.error, "voided_by": item.voided_by} for item in items]


class ImportReport(BaseModel):
    added: list[str]
    changed: dict[str, list[str]]
    unchanged: int
    problems: list[str]


@router.post("/participants", response_model=ImportReport,
             summary="Import or update participants (CSV as the body, or a multipart file)",
             responses=errors((400, "not a participants list: not UTF-8, a bad header, or a "
                                    "multipart body that is malformed or has no \"file\""),
                              503),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "multipart/form-data": {"schema": {"type": "object", "properties": {
                     "file": {"type": "string", "format": "binary"}}}}}}})
async def participants(request: Request, runtime: RuntimeDep, core: CoreDep,
                       caller: TimekeeperDep) -> dict[str, Any]:
    """Rows are matched by bib: new bibs are registered, changed ones edited (each a journal
    action); bibs missing from the file are left as they are (nobody is withdrawn). Its
    problems become those `GET /api/participants/problems` lists."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:  # closes the uploaded file's spool afterwards
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise HTTPException(400, "multipart body needs a file field named \"file\"")
            data = await upload.read()
    else:
        data = await request.body()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HTTPException(400, f"not UTF-8 text ({error.reason} at byte {error.start})"
                            ) from None
    try:
        athletes, problems = parse_participants(text, core.event, PARTICIPANTS_FILE)
    except CsvHeaderError as error:
        raise HTTPException(400, str(error.problem)) from None
    report: dict[str, Any] = {"added": [], "changed": {}, "unchanged": 0, "problems": []}
    for athlete in athletes:
        try:
            if not core.standings.has_athlete(athlete.bib):
                await core.act(register(athlete, actor=caller.actor, at_ms=now_ms(),
                                        reason="participants import"))
                report["added"].append(athlete.bib)
                continue
            current = core.standings.athlete(athlete.bib)
            changed = [name for name in COMPARED_FIELDS
                       if getattr(current, name) != getattr(athlete, name)]
            if not changed:
                report["unchanged"] += 1
                continue
            await core.act(edit(athlete, actor=caller.actor, at_ms=now_ms(),
                                reason="participants import"))
        except ActionError as error:  # this row cannot apply: say so, import the others
            problems.append(Problem(PARTICIPANTS_FILE, None, f"bib {athlete.bib}: {error}"))
            continue
        report["changed"][athlete.bib] = changed
    report["problems"] = [str(problem) for problem in problems]
    source = "POST /api/participants"
    runtime.file_problems = (FileProblems.found(source, problems)
                             if runtime.file_problems is None
                             else runtime.file_problems.with_participants(source, problems))
    return report
