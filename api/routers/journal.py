"""The journal as a timekeeper reads it (token: timekeeper or admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import TimekeeperDep
from api.deps import RuntimeDep
from api.routers.records import Limit
from api.schemas import errors
from timing.entries import ActionEntry, ReadEntry, RejectedEntry
from timing.limits import EARLIEST_MS, LATEST_MS

router = APIRouter(prefix="/api", tags=["timekeeper"], responses=errors(401, 403))


class JournalItem(BaseModel):
    seq: int
    kind: str
    actor: str
    at_ms: int
    summary: str


@router.get("/journal", response_model=list[JournalItem],
            summary="The journal, newest first", responses=errors(422))
async def journal(runtime: RuntimeDep, _: TimekeeperDep,
                  kind: Literal["read", "rejected", "action"] | None = None,
                  limit: Limit = 100) -> list[dict[str, Any]]:
    out = []
    for item in await runtime.store.latest(runtime.event_id, kind, limit):
        entry = item.entry
        if isinstance(entry, ReadEntry):
            read = entry.read
            who = f"bib {read.bib}" if read.bib is not None else f"chip {read.chip}"
            out.append({"seq": item.seq, "kind": "read", "actor": entry.actor,
                        "at_ms": entry.received_ms,
                        "summary": f"{entry.reader_id}: {who} at {read.time.isoformat()}"})
        elif isinstance(entry, RejectedEntry):
            out.append({"seq": item.seq, "kind": "rejected", "actor": "",
                        "at_ms": entry.received_ms,
                        "summary": f"{entry.reader_id}: {entry.reason}"})
        else:
            out.append({"seq": item.seq, "kind": "action", "actor": entry.actor,
                        "at_ms": entry.at_ms,
                        "summary": _summary(entry, ZoneInfo(runtime.event.timezone))})
    return out


def _summary(entry: ActionEntry, zone: ZoneInfo) -> str:
    def shown(key: str, value: object) -> object:
        # A gun: its time of day at the event (an old journal may hold one no date can show).
        if key == "time_ms" and isinstance(value, int) and EARLIEST_MS < value < LATEST_MS:
            moment = datetime.fromtimestamp(value / 1000, zone)
            return f"{moment:%H:%M:%S}.{moment.microsecond // 100_000}"
        return value

    fields = ", ".join(f"{key}={shown(key, value)}" for key, value in entry.payload.items()
                       if value is not None and value != [] and value != "")
    text = f"{entry.action}: {fields}"
    return f"{text} ({entry.reason})" if entry.reason else text
