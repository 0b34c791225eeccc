"""Participants at the desk (token: timekeeper or admin): edit one, each change a journal
action checked by the core before it is journaled."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.auth import TimekeeperDep
from api.deps import CoreDep
from api.routers.timekeeper import NO_BIB, REFUSED, ActionDone, known_bib, now_ms
from api.schemas import Ident, Name, Reason, errors
from api.view import RowMaker
from timing.entries import edit
from timing.limits import CATEGORY_MAX, ID_MAX
from timing.model import GENDERS
from timing.rules import category_for

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401))
EARLIEST_BIRTH = date(1900, 1, 1)


class AthleteEdit(BaseModel):
    first_name: Name | None = None
    last_name: Name | None = None
    gender: str | None = Field(None, max_length=1, description="F, M or X")
    birth_date: str | None = Field(None, max_length=10,
                                   description="YYYY-MM-DD, or \"\" to clear")
    club: Name | None = None
    race: Ident | None = None
    wave: Annotated[str, Field(max_length=ID_MAX)] | None = Field(None,
                                                                  description="\"\" for none")
    category: Annotated[Name, Field(max_length=CATEGORY_MAX)] | None = Field(
        None, description="\"\" to compute it from the birth date")
    reason: Reason = ""


@router.patch("/athletes/{bib}", response_model=ActionDone, summary="Edit a participant",
              responses=errors((400, "a value the event does not know (gender, birth date, "
                                     "race, wave), or a body that cannot be read"), 403, NO_BIB,
                               REFUSED, 422, 503))
async def edit_athlete(core: CoreDep, caller: TimekeeperDep, bib: str, body: AthleteEdit
                       ) -> dict[str, Any]:
    athlete = core.standings.athlete(known_bib(core, bib))
    changes: dict[str, Any] = {key: value for key, value in body.model_dump().items()
                               if value is not None and key != "reason"}
    if "gender" in changes:
        changes["gender"] = changes["gender"].upper()
        if changes["gender"] not in GENDERS:
            raise HTTPException(400, f"gender must be F, M or X, not {body.gender!r}")
    if "birth_date" in changes:
        try:
            changes["birth_date"] = (datetime.strptime(changes["birth_date"], "%Y-%m-%d").date()
                                     if changes["birth_date"] else None)
        except ValueError:
            raise HTTPException(400, f"birth_date must be YYYY-MM-DD, not "
                                     f"{body.birth_date!r}") from None
        born = changes["birth_date"]
        if born is not None and not EARLIEST_BIRTH <= born <= core.event.date:
            raise HTTPException(400, f"birth_date {born} is not between {EARLIEST_BIRTH} and "
                                     f"the event date {core.event.date}")
    race_ids = {race.id for race in core.event.races}
    if "race" in changes and changes["race"] not in race_ids:
        raise HTTPException(400, f"no race {changes['race']!r} (races: {', '.join(race_ids)})")
    if "wave" in changes:
        changes["wave"] = changes["wave"] or None
        race = core.standings.race(changes.get("race", athlete.race))
        if changes["wave"] is not None and race.wave(changes["wave"]) is None:
            raise HTTPException(400, f"race {race.id} has no wave {changes['wave']!r}")
    updated = replace(athlete, **changes)
    if not body.category and {"gender", "birth_date"} & changes.keys():
        updated = replace(updated, category=category_for(
            updated.gender, updated.birth_date, core.event.date, core.event.age_bounds))
    seq = await core.act(edit(updated, actor=caller.actor, at_ms=now_ms(), reason=body.reason))
    return {"seq": seq, "row": RowMaker(core.standings).row(bib)}
