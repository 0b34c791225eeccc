"""Participants at the desk (token: timekeeper or admin): the problems of the participants file,
one participant's registration, a participant added or edited. Each change is a journal action
checked by the core before it is journaled; the values are held to the checks of a
participants.csv import (gender, birth date, race, wave, chips, lengths), and a refusal names
the field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.auth import TimekeeperDep
from api.deps import CoreDep, RuntimeDep
from api.routers.timekeeper import NO_BIB, REFUSED, ActionDone, known_bib, now_ms
from api.schemas import Bib, Chip, Ident, Name, Reason, errors
from api.view import RowMaker
from timing.core import TimingCore
from timing.entries import edit, register
from timing.limits import CATEGORY_MAX, ID_MAX
from timing.model import GENDERS, Athlete, Race
from timing.participants import BIRTH_DATE_FIRST
from timing.rules import category_for

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401))
CHIPS_MAX = 20
"""Chips one participant may be given at once (shoe, bib tag, a spare): more is a mistake."""
UNKNOWN_VALUE = (400, "a value the event does not know or cannot hold (gender, birth date, "
                      "race, wave, chips), or a body that cannot be read")

Wave = Annotated[str, Field(max_length=ID_MAX)]
Category = Annotated[Name, Field(max_length=CATEGORY_MAX)]


class FileProblem(BaseModel):
    file: str = Field(description="participants.csv or adjustments.csv")
    line: int | None
    bib: str | None = Field(description="the bib the problem is about, when it names one")
    problem: str


class ProblemsOut(BaseModel):
    source: str | None = Field(description="what was read: the EVENT.toml the server started "
                                           "with, or \"POST /api/participants\"; null when "
                                           "no file was read (served from the database alone)")
    checked_ms: int | None
    problems: list[FileProblem]


@router.get("/participants/problems", response_model=ProblemsOut,
            summary="The problems found in the event's files when last imported",
            responses=errors(403, 503))
async def file_problems(runtime: RuntimeDep, _: TimekeeperDep) -> dict[str, Any]:
    found = runtime.file_problems
    if found is None:
        return {"source": None, "checked_ms": None, "problems": []}
    return found.as_json()


class Registration(BaseModel):
    bib: str
    first_name: str
    last_name: str
    gender: str
    birth_date: str | None = Field(description="YYYY-MM-DD")
    club: str
    race: str
    wave: str | None
    category: str
    chips: list[str]


@router.get("/athletes/{bib}/registration", response_model=Registration,
            summary="One participant as registered (birth date, wave, chips)",
            responses=errors(403, NO_BIB, 503))
async def registration(core: CoreDep, _: TimekeeperDep, bib: str) -> dict[str, Any]:
    return registered(core.standings.athlete(known_bib(core, bib)))


def registered(athlete: Athlete) -> dict[str, Any]:
    return {"bib": athlete.bib, "first_name": athlete.first_name,
            "last_name": athlete.last_name, "gender": athlete.gender,
            "birth_date": athlete.birth_date.isoformat() if athlete.birth_date else None,
            "club": athlete.club, "race": athlete.race, "wave": athlete.wave,
            "category": athlete.category, "chips": list(athlete.chips)}


class AthleteNew(BaseModel):
    bib: Bib
    first_name: Name = ""
    last_name: Name = ""
    gender: str = Field(max_length=1, description="F, M or X")
    birth_date: str = Field("", max_length=10, description="YYYY-MM-DD, or \"\" for none")
    club: Name = ""
    race: Ident
    wave: Wave = Field("", description="\"\" for none")
    category: Category = Field("", description="\"\" to compute it from the birth date")
    chips: list[Chip] = Field([], max_length=CHIPS_MAX)
    reason: Reason = ""


@router.post("/athletes", response_model=ActionDone, status_code=201,
             summary="Add a participant (a late registration at the desk)",
             responses=errors(UNKNOWN_VALUE, 403,
                              (409, "the bib or a chip is taken, or the action cannot apply "
                                    "(nothing journaled)"), 422, 503))
async def add_athlete(core: CoreDep, caller: TimekeeperDep, body: AthleteNew
                      ) -> dict[str, Any]:
    bib = body.bib.strip()
    if not bib:
        raise HTTPException(400, "bib: empty")
    if core.standings.has_athlete(bib):
        taken = core.standings.athlete(bib)
        raise HTTPException(409, f"bib {bib} is already registered ({taken.first_name} "
                                 f"{taken.last_name}, race {taken.race}): edit it instead")
    race = checked_race(core, body.race)
    born = checked_birth_date(core, body.birth_date)
    athlete = Athlete(
        bib=bib, first_name=body.first_name.strip(), last_name=body.last_name.strip(),
        gender=checked_gender(body.gender), race=race.id, birth_date=born,
        wave=checked_wave(race, body.wave or None), chips=checked_chips(core, bib, body.chips),
        club=body.club.strip(), category=body.category.strip())
    if not athlete.category:
        athlete = replace(athlete, category=category_for(
            athlete.gender, born, core.event.date, core.event.age_bounds))
    seq = await core.act(register(athlete, actor=caller.actor, at_ms=now_ms(),
                                  reason=body.reason or "added at the desk"))
    return {"seq": seq, "row": RowMaker(core.standings).row(bib)}


class AthleteEdit(BaseModel):
    first_name: Name | None = None
    last_name: Name | None = None
    gender: str | None = Field(None, max_length=1, description="F, M or X")
    birth_date: str | None = Field(None, max_length=10,
                                   description="YYYY-MM-DD, or \"\" to clear")
    club: Name | None = None
    race: Ident | None = None
    wave: Wave | None = Field(None, description="\"\" for none")
    category: Category | None = Field(None, description="\"\" to compute it from the birth date")
    reason: Reason = ""


@router.patch("/athletes/{bib}", response_model=ActionDone, summary="Edit a participant",
              responses=errors(UNKNOWN_VALUE, 403, NO_BIB, REFUSED, 422, 503))
async def edit_athlete(core: CoreDep, caller: TimekeeperDep, bib: str, body: AthleteEdit
                       ) -> dict[str, Any]:
    athlete = core.standings.athlete(known_bib(core, bib))
    changes: dict[str, Any] = {key: value for key, value in body.model_dump().items()
                               if value is not None and key != "reason"}
    if not changes:
        raise HTTPException(400, "nothing to change: give at least one field (first_name, "
                                 "last_name, gender, birth_date, club, race, wave, category)")
    for key in ("first_name", "last_name", "club", "category"):
        if key in changes:
            changes[key] = changes[key].strip()
    if "gender" in changes:
        changes["gender"] = checked_gender(changes["gender"])
    if "birth_date" in changes:
        changes["birth_date"] = checked_birth_date(core, changes["birth_date"])
    race = checked_race(core, changes.get("race", athlete.race))
    if "wave" in changes:
        changes["wave"] = checked_wave(race, changes["wave"] or None)
    elif race.id != athlete.race and athlete.wave is not None and race.wave(athlete.wave) is None:
        raise HTTPException(400, f"wave: race {race.id} has no wave {athlete.wave!r}; give "
                                 "the wave in the new race (\"\" for none)")
    updated = replace(athlete, **changes)
    if not updated.category or (not body.category
                                and {"gender", "birth_date"} & changes.keys()):
        updated = replace(updated, category=category_for(
            updated.gender, updated.birth_date, core.event.date, core.event.age_bounds))
    seq = await core.act(edit(updated, actor=caller.actor, at_ms=now_ms(), reason=body.reason))
    return {"seq": seq, "row": RowMaker(core.standings).row(bib)}


# -- the checks a participants.csv row gets (timing.participants), as API refusals ----------

def checked_gender(written: str) -> str:
    gender = written.strip().upper()
    if gender not in GENDERS:
        raise HTTPException(400, f"gender must be F, M or X, not {written!r}")
    return gender


def checked_birth_date(core: TimingCore, written: str) -> date | None:
    if not written.strip():
        return None
    try:
        born = datetime.strptime(written.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise HTTPException(400, f"birth_date must be YYYY-MM-DD, not {written!r}") from None
    if not BIRTH_DATE_FIRST <= born <= core.event.date:
        raise HTTPException(400, f"birth_date {born} is not between {BIRTH_DATE_FIRST} and "
                                 f"the event date {core.event.date}")
    return born


def checked_race(core: TimingCore, race_id: str) -> Race:
    races = [race.id for race in core.event.races]
    if race_id not in races:
        raise HTTPException(400, f"race: no race {race_id!r} (races: {', '.join(races)})")
    return core.standings.race(race_id)


def checked_wave(race: Race, wave: str | None) -> str | None:
    if wave is not None and race.wave(wave) is None:
        waves = ", ".join(item.id for item in race.waves) or "none"
        raise HTTPException(400, f"wave: race {race.id} has no wave {wave!r} (waves: {waves})")
    return wave


def checked_chips(core: TimingCore, bib: str, chips: list[str]) -> tuple[str, ...]:
    """The chips, each free (a chip someone wears is refused: moving it is `POST /api/chips`)
    and given once."""
    seen: set[str] = set()
    for chip in chips:
        if any(char.isspace() for char in chip):
            raise HTTPException(400, f"chips: chip {chip!r} holds a space (one chip an item)")
        if chip.lower() in seen:
            raise HTTPException(400, f"chips: chip {chip} is given twice")
        seen.add(chip.lower())
        owner = core.standings.chip_owner(chip)
        if owner is not None and owner != bib:
            raise HTTPException(409, f"chips: chip {chip} already belongs to bib {owner} "
                                     "(to move it, assign it to this bib afterwards)")
    return tuple(chips)
