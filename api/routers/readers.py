"""Readers: health (timekeeper), add/start/stop (timekeeper or admin), and the ingest route
through which network readers and apps post their reads (their own reader token, or a
timekeeper's)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from api.auth import Principal, PrincipalDep, TimekeeperDep
from api.deps import RuntimeDep
from api.readers import ReaderHealth
from api.routers.timekeeper import Counts
from api.schemas import Chip, Ident, errors
from readers.protocols import FORMATS, make_parser
from timing.limits import BAUD_MAX, CLOCK_OFFSET_MAX_MS, EARLIEST_MS, LATEST_MS
from timing.model import ReaderConfig
from timing.reads import Read, Record, Rejected
from timing.text import text_problem

ADDRESS_MAX = 1000


def _address(value: str) -> str:
    problem = text_problem(value, "the address", ADDRESS_MAX, free=False)
    if problem is not None:
        raise ValueError(problem)
    return value

router = APIRouter(prefix="/api/readers", tags=["readers"], responses=errors(401, 403))
NO_READER = (404, "no reader with that id")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Cause(BaseModel):
    text: str
    since_ms: int
    measure: int | None
    clear_when: str


class Health(BaseModel):
    id: str
    point: str
    format: str
    transport: str
    connected: bool
    since_ms: int | None
    last_read_ms: int | None
    reads_per_s: float
    reads: int = Field(description="distinct reads stored")
    duplicates: int
    rejected: int
    clock_offset_ms: int | None
    drift_ms: int | None
    alarm: str | None
    running: bool
    state: Literal["connected", "disconnected", "done", "stopped"] = Field(
        description="done: a recording (path) replayed to its end, not a failed link")
    connected_ms: int | None = Field(description="when the link last came up; null: not since "
                                                 "this start")
    causes: dict[str, Cause] = Field(description="what `alarm` joins, by kind (link, storage, "
                                                 "clock, drift): GET /api/alarms lists them")


@router.get("", response_model=list[Health], summary="Every reader's health")
async def all_readers(runtime: RuntimeDep, _: TimekeeperDep) -> list[dict[str, object]]:
    return [health.as_json() for health in runtime.readers.health()]


@router.get("/{reader_id}", response_model=Health, summary="One reader's health and counts",
            responses=errors(NO_READER))
async def one_reader(runtime: RuntimeDep, _: TimekeeperDep, reader_id: str
                     ) -> dict[str, object]:
    return runtime.readers.reader(reader_id).as_json()


Address = Annotated[str, Field(min_length=1, max_length=ADDRESS_MAX),
                    AfterValidator(_address)]


class ReaderIn(BaseModel):
    """A reader as in event.toml."""

    id: Ident
    point: Ident
    format: str = Field(max_length=32, description=f"one of {', '.join(FORMATS)}")
    clock_offset_s: float = Field(0.0, ge=-CLOCK_OFFSET_MAX_MS / 1000,
                                  le=CLOCK_OFFSET_MAX_MS / 1000, allow_inf_nan=False,
                                  description="added to every time it reports; a day at most")
    path: Address | None = None
    port: Address | None = None
    baud: int | None = Field(None, ge=1, le=BAUD_MAX)
    host: Address | None = None


@router.post("", response_model=Health, status_code=201, summary="Add a reader",
             responses=errors((400, "unknown format, no such point, or a body that cannot "
                                    "be read"),
                              (409, "a reader with that id exists"), 422,
                              (501, "a reader with a link (port, host, path) on a server that "
                                    "runs no live readers (--no-readers)"), 503))
async def add_reader(runtime: RuntimeDep, caller: TimekeeperDep, body: ReaderIn
                     ) -> dict[str, object]:
    if body.format not in FORMATS:
        raise HTTPException(400, f"unknown format {body.format!r} (known: {', '.join(FORMATS)})")
    if body.point not in {point.id for point in runtime.event.points}:
        raise HTTPException(400, f"no point {body.point!r} in this event")
    config = ReaderConfig(body.id, body.point, body.format, round(body.clock_offset_s * 1000),
                          body.path, body.port, body.baud, body.host)
    health: ReaderHealth = await runtime.readers.add(config, actor=caller.actor)
    return health.as_json()


@router.post("/{reader_id}/start", response_model=Health, summary="Start a reader",
             responses=errors(NO_READER))
async def start_reader(runtime: RuntimeDep, _: TimekeeperDep, reader_id: str
                       ) -> dict[str, object]:
    return (await runtime.readers.start(reader_id)).as_json()


@router.post("/{reader_id}/stop", response_model=Health,
             summary="Stop a reader (its posted reads are refused until started)",
             responses=errors(NO_READER))
async def stop_reader(runtime: RuntimeDep, _: TimekeeperDep, reader_id: str
                      ) -> dict[str, object]:
    return (await runtime.readers.stop(reader_id)).as_json()


async def _may_post(caller: PrincipalDep, reader_id: str) -> Principal:
    if caller.role in ("admin", "timekeeper"):
        return caller
    if caller.role == "reader" and caller.reader == reader_id:
        return caller
    raise HTTPException(403, f"this token may not post reads for reader {reader_id!r}")


class JsonRead(BaseModel):
    chip: Chip
    time_ms: int = Field(strict=True, description="UTC epoch ms of the read; outside the "
                                                  "event's days it is journaled as a rejected line")


class JsonReads(BaseModel):
    reads: list[JsonRead]


@router.post("/{reader_id}/reads", response_model=Counts,
             summary="Post reads: the reader's own lines (text) or JSON; answered once durable",
             responses=errors((403, "not this reader's token, nor a timekeeper's"), NO_READER,
                              (409, "the reader is stopped"), 415,
                              (422, "JSON that is not {\"reads\": [{\"chip\", \"time_ms\"}]}"),
                              503),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/plain": {"schema": {"type": "string"},
                                "example": "aa010580001200b21b0026051009061452a1\n"},
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}},
                 "application/json": {"schema": JsonReads.model_json_schema()}}}})
async def post_reads(request: Request, runtime: RuntimeDep, reader_id: str,
                     caller: Annotated[Principal, Depends(_may_post)]) -> dict[str, int]:
    """Re-sending lines already stored (a reader's replay) adds nothing: they are counted as
    duplicates. Lines that cannot be read are journaled as rejected, with the reason."""
    health = runtime.readers.reader(reader_id)
    body = await request.body()
    kind = request.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
    records: list[Record]
    if kind == "application/json":
        records = _json_reads(body)
    elif kind in ("text/plain", "application/octet-stream", "text/csv"):
        parser = make_parser(health.format)
        records = [*parser.feed(body), *parser.close()]
    else:
        raise HTTPException(415, "send text/plain (the reader's lines), "
                                 "application/octet-stream or application/json")
    answer = await runtime.readers.submit(reader_id, records, actor=caller.actor)
    return {"accepted": answer.accepted, "duplicates": answer.duplicates,
            "rejected": answer.rejected, "seq": answer.last_seq}


def _json_reads(body: bytes) -> list[Record]:
    try:
        parsed = JsonReads.model_validate(json.loads(body))
    except (ValueError, RecursionError, ValidationError) as error:
        raise HTTPException(422, f"expected {{\"reads\": [{{\"chip\", \"time_ms\"}}]}}: "
                                 f"{str(error).splitlines()[0][:300]}") from None
    return [_json_read(read, index) for index, read in enumerate(parsed.reads, start=1)]


def _json_read(read: JsonRead, line: int) -> Record:
    """A read; a time no date can show is a rejected line (the core refuses the rest of what
    lies outside the event's days the same way)."""
    if not EARLIEST_MS <= read.time_ms <= LATEST_MS:
        return Rejected(json.dumps(read.model_dump()), f"time_ms {read.time_ms}: no date can "
                        "show it", line)
    return Read(read.chip, _EPOCH + timedelta(milliseconds=read.time_ms), True, line=line)
