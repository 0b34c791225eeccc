"""A real server (uvicorn on 127.0.0.1, an ephemeral port) in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn

from api.app import create_app
from api.runtime import Options
from api.server import running
from gambero.serve import UVICORN_WEBSOCKETS


@contextlib.asynccontextmanager
async def serving(url: str, event: Path, options: Options, apps: list[Any] | None = None,
                  websockets: dict[str, Any] | None = None) -> AsyncIterator[str]:
    """Yields the base URL (http://127.0.0.1:PORT) once the server is up; stops it after.
    The app is appended to `apps` if given (to look at its state). `websockets`: uvicorn's
    websocket settings, if not `gambero serve`'s."""
    app = create_app(lambda: running(url, event, options))
    if apps is not None:
        apps.append(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            lifespan="on",
                            **(UVICORN_WEBSOCKETS if websockets is None else websockets))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(400):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.025)
        assert server.started, "the server did not start within 10 s"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
