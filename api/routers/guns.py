"""The guns (token: timekeeper or admin): fire a race's or a wave's gun, or correct it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.auth import TimekeeperDep
from api.deps import CoreDep
from api.routers.timekeeper import REFUSED, Done, in_event_days, now_ms
from api.schemas import Ident, Reason, errors
from timing.entries import gun

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401))


class GunIn(BaseModel):
    time_ms: int | None = Field(None, strict=True,
                                description="UTC epoch ms within the event's days "
                                                  "(docs/scoring.md, \"Limits\"); null = now")
    wave: Ident | None = None
    reason: Reason = ""


@router.post("/races/{race_id}/gun", response_model=Done, summary="Fire or correct a gun",
             responses=errors(400, 403, (404, "unknown race"), REFUSED, 422, 503))
async def fire_gun(core: CoreDep, caller: TimekeeperDep, race_id: str, body: GunIn
                   ) -> dict[str, Any]:
    if race_id not in {race.id for race in core.event.races}:
        raise HTTPException(404, f"no race {race_id!r}")
    moment = in_event_days(core, body.time_ms, "body.time_ms")
    seq = await core.act(gun(race_id, moment, wave=body.wave, actor=caller.actor,
                             at_ms=now_ms(), reason=body.reason))
    return {"seq": seq}
