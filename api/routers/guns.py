"""The guns (token: timekeeper or admin): each race's and wave's gun as it is, firing one that
is not set, and correcting one that is (on purpose only, with a dry run to see who moves).

A gun set by mistake moves a whole race or wave (a stray press on a started wave's button
turned it all into DNS), so a gun already set (in event.toml or by an earlier action) is only
moved by a request that says `"correct": true`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.auth import TimekeeperDep
from api.deps import CoreDep, RuntimeDep, ViewDep
from api.routers.timekeeper import Change, Done, DryRun, in_event_days, now_ms, shown
from api.schemas import Ident, Reason, errors
from timing.checks import check_action
from timing.core import TimingCore
from timing.entries import ActionEntry, Journaled, gun
from timing.model import Race
from timing.time_of_day import parse_stopwatch, parse_time_of_day, time_of_day_text

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401))

TYPED_MAX = 20
"""Typed times are short; a longer text is refused before it is parsed."""


class GunIn(BaseModel):
    time_ms: int | None = Field(None, strict=True,
                                description="UTC epoch ms within the event's days "
                                                  "(docs/scoring.md, \"Limits\"); null = now "
                                                  "(or local_time)")
    local_time: str | None = Field(None, max_length=TYPED_MAX,
                                   description="HH:MM:SS[.f]: the event's local time of day "
                                                "on its date (instead of time_ms); with "
                                                "elapsed, when the stopwatch was read")
    elapsed: str | None = Field(None, max_length=TYPED_MAX,
                                description="[H:]MM:SS[.f]: a stopwatch started at the gun, "
                                            "read at local_time (gun = local_time - elapsed)")
    wave: Ident | None = None
    reason: Reason = ""
    correct: bool = Field(False, strict=True,
                          description="move a gun that is set already (else 409)")


class GunPreview(BaseModel):
    changes: list[Change]
    retimed: int = Field(description="athletes whose result (status or times) would change, "
                                     "placed differently or not")


class GunLine(BaseModel):
    race: str
    wave: str | None
    state: Literal["fired", "inherits", "not_fired"]
    gun_ms: int | None = Field(description="the gun that applies (an inheriting wave: the "
                                           "race's)")
    local: str | None = Field(description="gun_ms as the event's local time of day, "
                                          "HH:MM:SS.f")
    source: Literal["event.toml", "action"] | None
    seq: int | None = Field(description="the journal entry of the action that set it")
    by: str | None
    at_ms: int | None
    reason: str | None


class Origin(NamedTuple):
    """Where a gun that is set came from: event.toml, or a journaled action."""

    source: Literal["event.toml", "action"] | None
    seq: int | None = None
    by: str | None = None
    at_ms: int | None = None
    reason: str | None = None


_locks: weakref.WeakKeyDictionary[TimingCore, asyncio.Lock] = weakref.WeakKeyDictionary()
"""Per core: held from the "already set?" check until the gun is journaled, so that two desks
pressing at once cannot both find the gun unset (the second would move it)."""


@router.get("/guns", response_model=list[GunLine],
            summary="Each race's and wave's gun as it is: fired, inherited or not fired",
            responses=errors(403))
async def guns(runtime: RuntimeDep, view: ViewDep, _: TimekeeperDep) -> list[dict[str, Any]]:
    actions = await runtime.store.actions(runtime.event_id, ["gun"])
    zone = ZoneInfo(runtime.event.timezone)
    lines: list[dict[str, Any]] = []
    for planned in runtime.event.races:
        race = view.race(planned.id)
        race_origin = origin(planned, None, race.gun_ms, actions)
        lines.append(_line(race.id, None, race.gun_ms, "fired", race_origin, zone))
        for wave in race.waves:
            if wave.gun_ms is not None:
                wave_origin = origin(planned, wave.id, wave.gun_ms, actions)
                lines.append(_line(race.id, wave.id, wave.gun_ms, "fired", wave_origin, zone))
            else:  # a wave without a gun of its own starts with its race's (Race.gun_for)
                lines.append(_line(race.id, wave.id, race.gun_ms, "inherits", race_origin,
                                   zone))
    return lines


def _line(race: str, wave: str | None, gun_ms: int | None, state: str, source: Origin,
          zone: ZoneInfo) -> dict[str, Any]:
    if gun_ms is None:
        return {"race": race, "wave": wave, "state": "not_fired", "gun_ms": None,
                "local": None, **Origin(None)._asdict()}
    return {"race": race, "wave": wave, "state": state, "gun_ms": gun_ms,
            "local": time_of_day_text(gun_ms, zone), **source._asdict()}


def origin(planned: Race, wave: str | None, gun_ms: int | None,
           actions: Sequence[Journaled]) -> Origin:
    """What set the gun `gun_ms` of `planned` (as event.toml has it) or of its `wave`: the
    latest gun action for it with that time (an action set aside never applied, so its time
    is not the gun's), else event.toml if it says so."""
    if gun_ms is None:
        return Origin(None)
    for item in reversed(actions):
        entry = item.entry
        if (isinstance(entry, ActionEntry) and entry.payload.get("race") == planned.id
                and entry.payload.get("wave") == wave
                and entry.payload.get("time_ms") == gun_ms):
            return Origin("action", item.seq, entry.actor, entry.at_ms, entry.reason)
    if wave is None:
        planned_gun = planned.gun_ms
    else:
        planned_wave = planned.wave(wave)
        planned_gun = None if planned_wave is None else planned_wave.gun_ms
    return Origin("event.toml" if planned_gun == gun_ms else None)


@router.post("/races/{race_id}/gun", response_model=Done | GunPreview,
             summary="Fire a gun that is not set, or correct one (\"correct\": true)",
             responses=errors(400, 403, (404, "unknown race"),
                              (409, "the gun is set already and the request does not say "
                                    "\"correct\": true, or the action cannot apply (nothing "
                                    "journaled)"), 422, 503))
async def fire_gun(core: CoreDep, caller: TimekeeperDep, race_id: str, body: GunIn,
                   dry_run: DryRun = False) -> dict[str, Any]:
    if race_id not in {race.id for race in core.event.races}:
        raise HTTPException(404, f"no race {race_id!r}")
    moment = gun_moment(core, body)
    lock = _locks.setdefault(core, asyncio.Lock())
    async with lock:
        current = core.standings.race(race_id)
        wave = None if body.wave is None else current.wave(body.wave)
        own_gun = current.gun_ms if body.wave is None else None if wave is None else wave.gun_ms
        if own_gun is not None and not body.correct:
            raise HTTPException(409, await _already_set(core, race_id, body.wave, own_gun))
        action = gun(race_id, moment, wave=body.wave, actor=caller.actor, at_ms=now_ms(),
                     reason=body.reason, correct=own_gun is not None)
        if dry_run:
            check_action(core.standings, action)  # an unknown wave: 409, as without dry_run
            return gun_preview(core, race_id, body.wave, moment)
        seq = await core.act(action)
    return {"seq": seq}


def gun_moment(core: TimingCore, body: GunIn) -> int:
    """The gun's instant from `time_ms`, or `local_time` (minus `elapsed`), or now; 422
    naming the field when one is malformed, contradicts another or is out of the event's
    days."""
    if body.elapsed is not None and body.local_time is None:
        raise HTTPException(422, "body.elapsed: a stopwatch reading needs local_time, the "
                                 "time of day at which the stopwatch showed it")
    if body.local_time is None:
        if body.correct and body.time_ms is None:
            raise HTTPException(422, "body.correct: a correction needs the right time: "
                                     "time_ms, or local_time (with elapsed for a stopwatch)")
        return in_event_days(core, body.time_ms, "body.time_ms")
    if body.time_ms is not None:
        raise HTTPException(422, "body.local_time: give time_ms or local_time, not both")
    clock_time, problem = parse_time_of_day(body.local_time)
    if clock_time is None:
        raise HTTPException(422, f"body.local_time: {problem}")
    moment = core.standings.clock.time_of_day_ms(clock_time)
    where = "body.local_time"
    if body.elapsed is not None:
        elapsed_ms, problem = parse_stopwatch(body.elapsed)
        if elapsed_ms is None:
            raise HTTPException(422, f"body.elapsed: {problem}")
        moment -= elapsed_ms
        where = "body.elapsed (local_time minus elapsed)"
    return in_event_days(core, moment, where)


async def _already_set(core: TimingCore, race_id: str, wave: str | None, gun_ms: int) -> str:
    """The 409's words: whose gun, when, set by whom, and how to move it on purpose."""
    actions = await core.store.actions(core.event_id, ["gun"])
    zone = ZoneInfo(core.event.timezone)
    where = f"race {race_id}" if wave is None else f"wave {wave} of race {race_id}"
    found = origin(core.event.race(race_id), wave, gun_ms, actions)
    text = f"the gun of {where} is set already: {time_of_day_text(gun_ms, zone)}"
    if found.source == "action":
        assert found.at_ms is not None
        text += (f", fired by {found.by or 'unknown'} (entered at "
                 f"{time_of_day_text(found.at_ms, zone)}, journal entry {found.seq})")
    elif found.source == "event.toml":
        text += ", in event.toml"
    return text + ". To move it, send \"correct\": true with the right time (preview it first " \
                  "with ?dry_run=true)"


def gun_preview(core: TimingCore, race_id: str, wave: str | None, moment: int
                ) -> dict[str, Any]:
    """The dry run's answer: who would move (`Standings.preview_gun`), as the status and
    penalty previews show them, and how many results would change at all."""
    precision_ms = core.standings.race(race_id).precision_ms
    answer = core.standings.preview_gun(race_id, moment, wave)
    return {"changes": [shown(change, precision_ms) for change in answer.changes],
            "retimed": answer.retimed}
