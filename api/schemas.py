"""Request and response bodies (pydantic), as docs/api.md describes them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from timing.limits import BIB_MAX, CHIP_MAX, ID_MAX, NAME_MAX, REASON_MAX
from timing.text import isolate_bidi, text_problem

Role = Literal["admin", "timekeeper", "reader"]


def _identifier(value: str) -> str:
    """Bibs, chips, ids: no control or formatting character (docs/scoring.md, "Limits")."""
    problem = text_problem(value, "the value", 10**9, free=False)
    if problem is not None:
        raise ValueError(problem)
    return value


def _free_text(value: str) -> str:
    """Names, clubs, reasons: no control character; bidi controls closed at the end."""
    problem = text_problem(value, "the text", 10**9, free=True)
    if problem is not None:
        raise ValueError(problem)
    return isolate_bidi(value)


Bib = Annotated[str, Field(min_length=1, max_length=BIB_MAX), AfterValidator(_identifier)]
Chip = Annotated[str, Field(min_length=1, max_length=CHIP_MAX), AfterValidator(_identifier)]
Ident = Annotated[str, Field(min_length=1, max_length=ID_MAX), AfterValidator(_identifier)]
"""A race, wave, point or reader id."""
Name = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_free_text)]
Reason = Annotated[str, Field(max_length=REASON_MAX), AfterValidator(_free_text)]

ROW_EXAMPLE: dict[str, Any] = {
    "race": "mile", "place": 1, "bib": "12", "first_name": "Giulia", "last_name": "Rossi",
    "gender": "F", "gender_place": 1, "category": "F30-39", "category_place": 1,
    "status": "FIN", "gun_time": "6:40", "chip_time": "6:38", "laps": "1",
    "split_start": "", "split_half": "3:15", "club": "Gambero Athletic", "penalty": "",
    "gun_ms": 399001,
    "chip_ms": 397512, "finish_ms": 1778396799001, "splits_ms": {"half": 194300},
    "start_ms": 1778396400000, "passings_ms": [1778396799001],
}


class Row(BaseModel):
    """A result row: the results CSV's fields (one `split_<point>` per split column, text as in
    the CSV), places as integers, and times in ms."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": ROW_EXAMPLE})
    race: str
    place: int | None
    bib: str
    first_name: str
    last_name: str
    gender: str
    gender_place: int | None
    category: str
    category_place: int | None
    status: Literal["FIN", "DNF", "DNS", "DQ"]
    gun_time: str
    chip_time: str
    laps: Any
    club: str
    penalty: str = Field(description="the total time penalty in the CSV's form, \"\" if none")
    gun_ms: int | None = Field(description="gun time (ms, penalties included); FIN only")
    chip_ms: int | None
    finish_ms: int | None = Field(description="UTC epoch ms of the finish passing")
    splits_ms: dict[str, int] = Field(description="point -> ms from the ranking origin")
    start_ms: int | None = Field(
        description="extension: UTC epoch ms of the ranking origin (gun or chip start)")
    passings_ms: list[int] = Field(description="extension: UTC epoch ms of finish passings")


class Health(BaseModel):
    status: Literal["ok"]
    seq: int
    event: str
    web_only: bool = False


class Wave(BaseModel):
    id: str
    gun_ms: int | None


class Race(BaseModel):
    id: str
    name: str
    distance_m: float | None
    laps: int
    gun_ms: int | None
    record_ms: int | None = Field(default=None,
                                  description="the course record (event.toml `record`), ms")
    waves: list[Wave]
    points: list[str] = Field(description="split point ids in course order, finish last")
    categories: list[str]
    entrants: int
    finishers: int


class EventInfo(BaseModel):
    name: str
    date: str
    timezone: str
    seq: int
    races: list[Race]


class ResultsPage(BaseModel):
    race: str
    seq: int
    total: int = Field(description="rows after the filters")
    offset: int
    limit: int
    rows: list[Row]


class SplitOut(BaseModel):
    point: str
    ms: int
    time: str
    place: int | None


class LapOut(BaseModel):
    lap: int
    ms: int
    time: str


class AthleteOut(Row):
    race_name: str
    splits: list[SplitOut]
    laps: Any = Field(description="list of {lap, ms, time}: lap durations")
    pace_per_km: str | None
    pace_per_mile: str | None


class Error(BaseModel):
    """Every error's body, whatever the status: what went wrong, in words. A 422 names the
    field (`body.entries.1.time_ms: ...`)."""

    model_config = ConfigDict(json_schema_extra={
        "example": {"detail": "body.time_ms: Input should be a valid integer"}})
    detail: str


ERRORS: dict[int, str] = {
    400: "a body that cannot be read (not UTF-8, or nested too deep)",
    401: "no token, or an invalid or revoked one",
    403: "the token's role may not do this",
    404: "not found",
    409: "it cannot apply now (nothing journaled)",
    413: "request body over the server's limit (8 MiB)",
    415: "a content type this route does not take",
    422: "a parameter or field missing, malformed or out of range (named in the message)",
    429: "too many requests from this address: wait Retry-After seconds",
    501: "not supported by this server",
    503: "the journal did not answer in time or could not store it, or this process runs no "
         "core (web-only): nothing is acknowledged. What was sent may land yet: reads sent "
         "again are answered as duplicates; look at GET /api/journal before repeating an "
         "action (penalties add up)",
}
"""What each error status means, for the routes' `responses=`."""

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "seconds (when the journal did not answer)",
                          "schema": {"type": "integer"}}},
}


def errors(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that may answer these error statuses, each with the body
    `Error`: a status alone (described as in `ERRORS`) or (status, what it means there)."""
    out: dict[int | str, dict[str, Any]] = {}
    for item in statuses:
        status, description = item if isinstance(item, tuple) else (item, ERRORS[item])
        out[status] = {"model": Error, "description": description}
        if status in _HEADERS:
            out[status]["headers"] = _HEADERS[status]
    return out
