"""WS /ws/live: a snapshot, then coalesced deltas (docs/api.md, "Live feed").

Under `gambero serve` (uvicorn with `api.ws_server.LiveWebSocket`) an accepted connection is
detached: handed to the feed, which writes to it directly, and the endpoint returns. Under
any other server it is served here, through ASGI, with a sender task per client."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from api.auth import Tokens
from api.runtime import Runtime
from api.subscribers import PONG, Client, DirectClient, is_ping
from api.ws_server import DETACH

router = APIRouter(tags=["live"])

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


@router.websocket("/ws/live")
async def live(websocket: WebSocket,
               race: Annotated[list[str] | None, Query()] = None,
               since: Annotated[int | None, Query(ge=0, lt=1 << 63)] = None,
               token: Annotated[str | None, Query()] = None) -> None:
    runtime: Runtime = websocket.app.state.runtime
    known = {item.id for item in runtime.event.races}
    unknown = sorted(set(race or ()) - known)
    await websocket.accept()
    if unknown:
        await websocket.close(POLICY_VIOLATION, f"unknown race {', '.join(unknown)}")
        return
    health = False
    if token:
        tokens: Tokens = websocket.app.state.tokens
        caller = await tokens.check(token)
        if caller is None:
            await websocket.close(POLICY_VIOLATION, "invalid or revoked token")
            return
        health = caller.role in ("admin", "timekeeper")
    races = frozenset(race) if race else None
    extension = websocket.scope.get("extensions", {}).get(DETACH)
    if extension is not None:
        direct = DirectClient(runtime.broadcaster, races, health)
        direct.connection = extension["detach"](direct)
        runtime.broadcaster.attach(direct, since)
        return  # the connection stays open: the feed and the protocol have it now
    client = runtime.broadcaster.connect(races, since, health)
    sender = asyncio.create_task(_send(websocket, client))
    try:
        while True:
            text = await websocket.receive_text()
            if is_ping(text):
                runtime.broadcaster.offer(client, PONG)
    except WebSocketDisconnect:
        pass
    finally:
        runtime.broadcaster.disconnect(client)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _send(websocket: WebSocket, client: Client) -> None:
    while True:
        text = await client.outbox.get()
        if text is None:
            await websocket.close(TRY_AGAIN_LATER, "too slow: reconnect with since=")
            return
        await websocket.send_text(text)
        if client.outbox.empty():
            client.resyncs = 0  # caught up: only falling behind again and again gets it dropped
