"""The journal as a timekeeper reads it (token: timekeeper or admin): every action, manual entry,
chip read and rejected line, newest first, filtered by kind, action and athlete, paged back by
sequence number. `api.journal_view` gives each entry its form."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.auth import TimekeeperDep
from api.deps import RuntimeDep
from api.journal_view import JournalView
from api.routers.records import Limit
from api.runtime import Runtime
from api.schemas import Bib, errors
from timing.entries import ActionEntry, ActionName

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401, 403))

KINDS = ("action", "manual", "read", "rejected")
ACTIONS: tuple[str, ...] = get_args(ActionName)
_LIST_MAX = 20
"""Values a repeatable filter takes at most (there are 4 kinds and 10 actions)."""


class JournalItem(BaseModel):
    seq: int
    kind: Literal["action", "manual", "read", "rejected"]
    action: str | None = Field(description="the action's name; null for other kinds")
    at_ms: int = Field(description="UTC epoch ms when it was taken (an action) or received")
    at_local: str | None = Field(description="at_ms as HH:MM:SS.f in the event's timezone, "
                                             "preceded by YYYY-MM-DD when not the event's date")
    actor: str
    reason: str
    bib: str | None = Field(description="the athlete it concerns, if any")
    fields: dict[str, Any] = Field(description="typed values by kind and action "
                                               "(docs/api.md); times as *_ms and *_local")
    summary: str = Field(description="one English line, as before (for scripts)")


Choices = Annotated[list[str] | None, Query(max_length=_LIST_MAX)]


@router.get("/journal", response_model=list[JournalItem],
            summary="The journal, newest first, filtered",
            responses=errors((422, "an unknown kind or action, or a filter that cannot "
                                   "apply"), 503))
async def journal(runtime: RuntimeDep, _: TimekeeperDep, kind: Choices = None,
                  action: Choices = None,
                  bib: Annotated[Bib | None, Query()] = None,
                  chips: Annotated[bool, Query(description="with bib: also the reads of the "
                                                           "athlete's chips")] = False,
                  before: Annotated[int | None, Query(ge=1, le=(1 << 63) - 1)] = None,
                  limit: Limit = 100) -> list[dict[str, Any]]:
    actions = _chosen(action, ACTIONS, "action")
    kinds = _chosen(kind, KINDS, "kind") or (["action"] if actions else list(KINDS))
    if actions and "action" not in kinds:
        raise HTTPException(422, "query.action: only with kind action (or no kind)")
    if chips and bib is None:
        raise HTTPException(422, "query.chips: only with a bib")
    worn = await _chips_of(runtime, bib) if chips and bib is not None else []
    items = await runtime.store.journal_page(runtime.event_id, kinds, actions=actions, bib=bib,
                                            chips=worn, before=before, limit=limit)
    view = JournalView(runtime.event, await _reader_places(runtime),
                       runtime.core.standings.chip_owner if runtime.core else None)
    return [view.item(item) for item in items]


def _chosen(values: list[str] | None, allowed: tuple[str, ...], name: str) -> list[str]:
    """A repeatable filter's values (`?kind=a&kind=b` or `?kind=a,b`), each one checked."""
    chosen = [part.strip() for value in values or () for part in value.split(",")
              if part.strip()]
    for value in chosen:
        if value not in allowed:
            raise HTTPException(422, f"query.{name}: {value[:40]!r} is not one of "
                                     f"{', '.join(allowed)}")
    return chosen


async def _chips_of(runtime: Runtime, bib: str) -> list[str]:
    """The chips the athlete wears now: the core's (live changes included); a web-only
    process has only the participants as imported."""
    if runtime.core is not None:
        standings = runtime.core.standings
        return list(standings.athlete(bib).chips) if standings.has_athlete(bib) else []
    loaded = await runtime.store.load(runtime.event_id)
    return next((list(athlete.chips) for athlete in loaded.athletes if athlete.bib == bib), [])


async def _reader_places(runtime: Runtime) -> dict[str, tuple[str, int]]:
    """Each reader's point and clock offset: event.toml's and those added live."""
    places = {reader.id: (reader.point, reader.clock_offset_ms)
              for reader in runtime.event.readers}
    for item in await runtime.store.actions(runtime.event_id, ["reader"]):
        if not isinstance(item.entry, ActionEntry):
            continue
        payload = item.entry.payload
        offset = payload.get("clock_offset_ms")
        places.setdefault(str(payload.get("id")), (
            str(payload.get("point")),
            offset if isinstance(offset, int) and not isinstance(offset, bool) else 0))
    return places
