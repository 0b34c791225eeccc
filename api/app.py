"""The FastAPI application: routers, error bodies (and an OpenAPI document that shows them as
they are), body size and rate limits, HEAD, and the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError

from api import ws
from api.auth import Tokens
from api.head import HeadAsGet
from api.limits import BodyLimit, RateLimit
from api.readers import ReaderError
from api.routers import (
    alarms,
    desk,
    guns,
    journal,
    people,
    public,
    readers,
    records,
    timekeeper,
    tokens,
)
from api.runtime import Runtime
from api.schemas import ERRORS, errors
from timing.core import JournalUnavailable
from timing.entries import ActionError

DISPLAY = Path(__file__).resolve().parents[1] / "display"
PAGES = {"/": "index.html", "/scoreboard": "scoreboard.html", "/announcer": "announcer.html",
         "/console": "console.html"}
TAGS = [
    {"name": "public", "description": "Read-only, no token: the event, results, athletes."},
    {"name": "timekeeper", "description": "Race operations (token: timekeeper or admin)."},
    {"name": "readers", "description": "Reader health and control; posting reads."},
    {"name": "tokens", "description": "API tokens (admin)."},
    {"name": "live", "description": "WS /ws/live: snapshot, then deltas (see docs/api.md)."},
]

RuntimeFactory = Callable[[], AbstractAsyncContextManager[Runtime]]
DESCRIPTION = ("Race timing: live results, timekeeping, reader ingest. Every error is JSON "
               "{\"detail\": \"...\"} (a 422 names the field). HEAD works wherever GET does. "
               "The live feed (WS /ws/live) is described in docs/api.md.")


class Gambero(FastAPI):
    """FastAPI with an OpenAPI document that shows the errors as they are answered."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = errors_as_answered(super().openapi())
        return self.openapi_schema


def errors_as_answered(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a 422 with its own body (HTTPValidationError, a list) for every route
    that takes a parameter and does not declare one. The app answers every 422 with `Error`
    (`_error_handlers`), and a route whose parameters are all plain strings never answers
    422: that one is dropped, the others say `Error`. Statuses are listed in order."""
    generated = "#/components/schemas/HTTPValidationError"
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            body = responses.get("422", {}).get("content", {}).get("application/json", {})
            if body.get("schema", {}).get("$ref") == generated:
                if "requestBody" in operation or not all(
                        _plain_string(parameter)
                        for parameter in operation.get("parameters", ())):
                    responses["422"] = {"description": ERRORS[422], "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                else:
                    del responses["422"]
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def _plain_string(parameter: dict[str, Any]) -> bool:
    """Whether any value of this parameter is valid (a string, no constraint)."""
    schema = {key: value for key, value in parameter.get("schema", {}).items()
              if key not in ("title", "description")}
    return schema == {"type": "string"}


def create_app(open_runtime: RuntimeFactory, *, display: Path = DISPLAY,
               max_body: int = 8 << 20, public_rate: float = 50.0,
               public_burst: int = 200) -> FastAPI:
    """The app; `open_runtime` starts the core (or the web-only copy) when the server starts
    and stops it when the server stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime() as runtime:
            app.state.runtime = runtime
            app.state.tokens = Tokens(runtime.store)
            yield

    app = Gambero(title="Gambero", version="0.1.0", lifespan=lifespan, openapi_tags=TAGS,
                  description=DESCRIPTION)
    too_large = errors((413, f"request body over {max_body} bytes"))
    for router in (public.router, ws.router):
        app.include_router(router, responses=too_large)
    # A token is looked up in the database: a route that takes one may find it down.
    database = errors((503, ERRORS[503] + "; or the database did not answer"))
    for router in (timekeeper.router, desk.router, guns.router, people.router, records.router,
                   journal.router, readers.router, tokens.router, alarms.router):
        app.include_router(router, responses={**too_large, **database})
    _error_handlers(app)
    _pages(app, display)
    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(RateLimit, rate=public_rate, burst=public_burst)
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is limited and answered as a GET
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        parts = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()))
            parts.append(f"{where}: {item.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, 422)

    @app.exception_handler(ActionError)
    async def refused(_: Request, error: ActionError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 409)

    @app.exception_handler(ReaderError)
    async def reader_error(_: Request, error: ReaderError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, error.status)

    @app.exception_handler(JournalUnavailable)
    async def unavailable(_: Request, error: JournalUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 503, headers={"Retry-After": "1"})

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(OSError)
    async def database_down(_: Request, error: Exception) -> JSONResponse:
        # A query of the server's own (tokens, the journal's newest entries, reader counts)
        # when the database does not answer: the server is unavailable, not broken.
        cause = str(getattr(error, "orig", None) or error).strip()
        reason = cause.splitlines()[0] if cause else type(error).__name__
        return JSONResponse({"detail": f"the database did not answer: {reason}"}, 503,
                            headers={"Retry-After": "1"})


def _pages(app: FastAPI, display: Path) -> None:
    """The pages of display/ (issue 6) where they exist: display/*.html at their routes and
    display/static/ as /static."""
    static = display / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    for route, name in PAGES.items():
        page = display / name
        if page.is_file():
            app.add_api_route(route, _page(page), methods=["GET"], include_in_schema=False)


def _page(path: Path) -> Callable[[], FileResponse]:
    def serve() -> FileResponse:
        return FileResponse(path, media_type="text/html; charset=utf-8")
    return serve
