"""Public, read-only routes (no token): the event, races, results, one athlete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import PlainTextResponse

from api.deps import RuntimeDep, ViewDep
from api.rows import athlete_json, matches, race_json, results_csv_from_rows
from api.schemas import AthleteOut, EventInfo, Health, Race, ResultsPage, errors
from api.view import ResultsView
from timing.limits import CATEGORY_MAX, NAME_MAX

router = APIRouter(prefix="/api", tags=["public"], responses=errors(429))


@router.get("/health", response_model=Health, summary="Liveness and the journal position")
async def health(runtime: RuntimeDep, view: ViewDep) -> dict[str, Any]:
    return {"status": "ok", "seq": view.seq, "event": runtime.event.name,
            "web_only": runtime.core is None}


def _races(view: ResultsView) -> list[dict[str, Any]]:
    return [race_json(view.race(race.id), view.rows(race.id)) for race in view.event.races]


@router.get("/event", response_model=EventInfo, summary="The event and its races")
async def event(view: ViewDep) -> dict[str, Any]:
    return {"name": view.event.name, "date": view.event.date.isoformat(),
            "timezone": view.event.timezone, "seq": view.seq, "races": _races(view)}


@router.get("/races", response_model=list[Race], summary="The races, with entrants and finishers")
async def races(view: ViewDep) -> list[dict[str, Any]]:
    return _races(view)


def _race_id(view: ResultsView, race_id: str) -> str:
    try:
        view.race(race_id)
    except KeyError:
        known = ", ".join(race.id for race in view.event.races)
        raise HTTPException(404, f"no race {race_id!r} (races: {known})") from None
    return race_id


@router.get("/races/{race_id}/results", response_model=ResultsPage,
            summary="A race's results, filtered and paged",
            responses=errors((404, "unknown race"), 422))
async def results(view: ViewDep, race_id: str,
            gender: Annotated[str | None, Query(max_length=1, description="F, M or X")] = None,
            category: Annotated[str | None, Query(max_length=CATEGORY_MAX,
                                                  description="e.g. F30-39")] = None,
            q: Annotated[str | None, Query(
                max_length=NAME_MAX,
                description="a bib exactly, or part of a first or last name")] = None,
            offset: Annotated[int, Query(ge=0)] = 0,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    _race_id(view, race_id)
    seq = view.seq
    rows = [row for row in view.rows(race_id) if matches(row, gender, category, q)]
    return {"race": race_id, "seq": seq, "total": len(rows), "offset": offset,
            "limit": limit, "rows": rows[offset:offset + limit]}


@router.get("/races/{race_id}/results.csv", response_class=Response,
            summary="A race's results file, as `gambero score` writes it",
            responses={200: {"description": "the results CSV", "content": {
                "text/csv": {"schema": {"type": "string"}}}}, **errors((404, "unknown race"))})
async def results_csv(view: ViewDep, race_id: str) -> PlainTextResponse:
    _race_id(view, race_id)
    return PlainTextResponse(view.results_csv(race_id), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      f'inline; filename="{race_id}-results.csv"'})


@router.get("/results.csv", response_class=Response,
            summary="The whole event's results file, as `gambero results` writes it",
            responses={200: {"description": "the results CSV: every race, in the event's "
                             "order, under one header", "content": {
                                 "text/csv": {"schema": {"type": "string"}}}}})
async def event_results_csv(view: ViewDep) -> PlainTextResponse:
    # The per-race files joined: one header (every race's file has the same one), the rows of
    # each race in the event's race order.
    rows = [row for race in view.event.races for row in view.rows(race.id)]
    return PlainTextResponse(results_csv_from_rows(view.event, rows),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'inline; filename="results.csv"'})


@router.get("/athletes/{bib}", response_model=AthleteOut,
            summary="One athlete: result, splits with places, laps and pace",
            responses=errors((404, "no athlete with that bib")))
async def athlete(view: ViewDep, bib: str) -> dict[str, Any]:
    row = view.row(bib)
    if row is None:
        raise HTTPException(404, f"no athlete with bib {bib!r}")
    race = view.race(row["race"])
    return athlete_json(row, race, view.rows(race.id))
