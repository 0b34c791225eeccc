"""Opening a server's runtime: the database, the event in it, the admin token, the core."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from api.auth import Tokens
from api.runtime import Options, Runtime
from readers.protocols import FORMATS
from timing.eventfile import EventFileError, load_event
from timing.participants import CsvHeaderError
from timing.store import Store

ADMIN_ENV = "GAMBERO_ADMIN_TOKEN"


_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Hides `token=…` in logged URLs (the websocket takes its token in the query string, and
    uvicorn logs each websocket's path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_URL.sub(r"\1***", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_URL.sub(r"\1***", arg) if isinstance(arg, str)
                                else arg for arg in record.args)
        return True


def redact_tokens_in_logs() -> None:
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(item, RedactTokens) for item in logger.filters):
            logger.addFilter(RedactTokens())


class ServeError(Exception):
    """The server cannot start; the message says why."""


async def find_event(store: Store, event_file: Path | None, name: str | None,
                     do_import: bool = True) -> int:
    """The event to serve: `event_file` imported (or re-imported) first (`do_import`; else only
    its name is used), else the event called `name`, else the database's only event."""
    if event_file is not None:
        try:
            files = load_event(event_file, FORMATS)
        except (EventFileError, CsvHeaderError) as error:
            problems = error.problems if isinstance(error, EventFileError) else [error.problem]
            raise ServeError("\n".join(str(problem) for problem in problems)) from None
        if do_import:
            report = await store.import_event(files, str(event_file.resolve()))
            return report.event_id
        name = files.event.name
    events = await store.event_ids()
    if name is not None:
        if name not in events:
            raise ServeError(f"no event called {name!r} in the database "
                             f"(events: {', '.join(events) or 'none'})")
        return events[name]
    if len(events) != 1:
        raise ServeError(f"the database holds {len(events)} events: give EVENT.toml or "
                         "--event NAME")
    return next(iter(events.values()))


@asynccontextmanager
async def running(url: str, event_file: Path | None, options: Options, *,
                  event_name: str | None = None,
                  announce: Callable[[str], None] | None = None) -> AsyncIterator[Runtime]:
    """The runtime of a server process, from start to stop."""
    say = announce or (lambda text: print(text, file=sys.stderr, flush=True))
    redact_tokens_in_logs()  # here: uvicorn has set its logging up by now
    store = await Store.open(url, migrate=not options.web_only)
    try:
        event_id = await find_event(store, event_file, event_name,
                                    do_import=not options.web_only)
        if not options.web_only:
            try:
                made = await Tokens(store).ensure_admin(os.environ.get(ADMIN_ENV) or None)
            except ValueError as error:
                raise ServeError(str(error)) from None
            if made is not None:
                say(f"admin token (shown once, keep it; set {ADMIN_ENV} to choose your own): "
                    f"{made}")
        runtime = await Runtime.start(store, event_id, options)
        try:
            yield runtime
        finally:
            await runtime.stop()
    finally:
        await store.close()
