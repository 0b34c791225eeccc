"""Alarms (token: timekeeper or admin): list the active ones, acknowledge one (`api.alarms`)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from api.alarms import AlarmDesk, AlarmError
from api.auth import TimekeeperDep
from api.deps import CoreDep, RuntimeDep
from api.schemas import Reason, errors

router = APIRouter(prefix="/api/alarms", tags=["timekeeper"], responses=errors(401, 403))


class Acknowledged(BaseModel):
    by: str
    at_ms: int
    measure: float | None = Field(description="the alarm's measure when it was acknowledged")


class AlarmOut(BaseModel):
    id: str = Field(description="stable: reader:<reader>:<kind> or quarantined:<seq>")
    kind: str = Field(description="link, storage, clock, drift, quiet or quarantined")
    subject: str | int = Field(description="the reader's id, or the set-aside entry's seq")
    cause: str
    since_ms: int | None
    clear_when: str
    measure: int | None = Field(description="its size where it has one (ms of clock error or "
                                            "drift)")
    details: dict[str, str | int]
    acknowledged: Acknowledged | None


class AcknowledgeIn(BaseModel):
    reason: Reason = ""


class AcknowledgeOut(BaseModel):
    seq: int = Field(description="the journal entry of the acknowledgement")
    alarm: AlarmOut


async def _desk(request: Request, runtime: RuntimeDep, core: CoreDep) -> AlarmDesk:
    """The runtime's desk, made (acknowledgements loaded from the journal) on first use."""
    state = request.app.state
    opening = getattr(state, "alarm_desk_opening", None)
    if opening is None:
        opening = state.alarm_desk_opening = asyncio.Lock()
    async with opening:
        held = getattr(state, "alarm_desk", None)
        if held is None or held[0] is not runtime:
            desk = await AlarmDesk.open(runtime.store, runtime.event_id, core, runtime.readers)
            runtime.health_hooks.append(desk.observe)  # sees each clearing, polled or not
            state.alarm_desk = held = (runtime, desk)
    found: AlarmDesk = held[1]
    return found


@router.get("", response_model=list[AlarmOut], summary="The active alarms",
            responses=errors(503))
async def alarms(request: Request, runtime: RuntimeDep, core: CoreDep, _: TimekeeperDep
                 ) -> list[dict[str, Any]]:
    """Acknowledged ones too (`acknowledged` says by whom and when); an alarm whose condition
    has cleared is not listed (docs/operations.md, "Alarms")."""
    desk = await _desk(request, runtime, core)
    return [alarm.as_json() for alarm in await desk.current()]


@router.post("/{alarm_id}/acknowledge", response_model=AcknowledgeOut,
             summary="Acknowledge an alarm (journaled): it leaves the bar until it comes "
                     "back worse",
             responses=errors(400, (404, "no such alarm"),
                              (409, "the alarm is not active, or already acknowledged"),
                              422, 503))
async def acknowledge_alarm(request: Request, runtime: RuntimeDep, core: CoreDep,
                            caller: TimekeeperDep, alarm_id: str,
                            body: AcknowledgeIn | None = None) -> dict[str, Any]:
    desk = await _desk(request, runtime, core)
    try:
        alarm, seq = await desk.acknowledge(alarm_id, caller.actor,
                                            body.reason if body is not None else "")
    except AlarmError as error:
        raise HTTPException(error.status, str(error)) from None
    return {"seq": seq, "alarm": alarm.as_json()}
