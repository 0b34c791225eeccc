"""Opening a server's runtime: the database, the event in it, the admin token, the core."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from api.auth import Tokens
from api.fanout import RedisUnreachable
from api.file_problems import FileProblems, start_lines
from api.runtime import Options, Runtime
from gambero.database import ERRORS as DATABASE_ERRORS
from gambero.database import failure_reason, shown_url
from readers.protocols import FORMATS
from timing.eventfile import EventFileError, load_event
from timing.model import Problem
from timing.participants import CsvHeaderError
from timing.store import Store
from timing.writer_lock import WriterBusy

ADMIN_ENV = "GAMBERO_ADMIN_TOKEN"


def _either_case(text: str) -> str:
    return "".join(f"[{char.lower()}{char.upper()}]" if char.isalpha() else char
                   for char in text)


def _spelled(letter: str) -> str:
    """A pattern for `letter` as a query parameter's name may spell it: itself or
    percent-encoded, in either case (k, K, %6b, %6B, %4b, %4B)."""
    forms = [_either_case(letter)]
    forms += [_either_case(f"%{ord(char):02x}") for char in (letter.lower(), letter.upper())]
    if letter == "k":  # KELVIN SIGN, which lower() makes a "k": itself and in UTF-8
        forms += ["\u212a", _either_case("%e2%84%aa")]
    return "(?:" + "|".join(forms) + ")"


_TOKEN_IN_URL = re.compile("(" + "".join(map(_spelled, "token")) + "=)[^&\\s\"']+")
"""A query parameter whose name, percent-decoded, is `token` in any case (`token=`, `TOKEN=`,
`tok%65n=`, ...), and its value (up to the next parameter, space or quote, so a
percent-encoded value goes whole). Also any name ending so (`access_token=`): too much
hidden costs nothing. Both cases spelled out: faster than re.IGNORECASE."""


def redact(text: str) -> str:
    """`text` with the value of every token query parameter replaced by ***."""
    if "=" not in text:  # most log lines: a scan far cheaper than the pattern's
        return text
    return _TOKEN_IN_URL.sub(r"\1***", text)


class RedactTokens(logging.Filter):
    """Hides tokens in logged URLs: the websocket takes its token in the query string, and
    uvicorn logs each websocket's path and each request's. The query string is
    percent-decoded before the app reads it, so `?tok%65n=SECRET` is a token too: the name is
    matched however it is spelled. Cheap, as it runs for every log line: one search of the
    template, one substitution per string argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "=" in record.msg and _TOKEN_IN_URL.search(
                record.msg):
            # In the template itself: a placeholder may be the value (`token=%s`), which
            # redacting the template would replace, leaving the argument to be logged (or to
            # fail the formatting, whose report shows the arguments). So: the message as
            # formatted, redacted.
            record.msg, record.args = redact(_formatted(record)), None
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        elif isinstance(record.args, Mapping):  # logger.info("%(path)s", {"path": ...})
            record.args = {key: redact(value) if isinstance(value, str) else value
                           for key, value in record.args.items()}
        return True


def _formatted(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # arguments that do not fit the template: the template alone, not them
        return str(record.msg)


def redact_tokens_in_logs() -> None:
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(item, RedactTokens) for item in logger.filters):
            logger.addFilter(RedactTokens())


class ServeError(Exception):
    """The server cannot start; the message (one line) says why and what to do. `status`: the
    command's exit status, 2 for input that cannot be used (event.toml, --event, a reader's
    address), 1 for the rest (the database, the journal's writer lock, Redis)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def database_failed(url: str, error: BaseException) -> ServeError:
    return ServeError(f"cannot use the database {shown_url(url)}: {failure_reason(error)} - "
                      "check that it is running and reachable, and DATABASE_URL")




async def find_event(store: Store, event_file: Path | None, name: str | None,
                     do_import: bool = True) -> tuple[int, list[Problem] | None]:
    """The event to serve: `event_file` imported (or re-imported) first (`do_import`; else only
    its name is used), else the event called `name`, else the database's only event. With the
    problems found in the event's files (None: no file read)."""
    problems: list[Problem] | None = None
    if event_file is not None:
        try:
            files = load_event(event_file, FORMATS)
        except (EventFileError, CsvHeaderError) as error:
            problems = error.problems if isinstance(error, EventFileError) else [error.problem]
            raise ServeError(f"{'; '.join(str(problem) for problem in problems)} - fix "
                             f"{event_file} and start again", status=2) from None
        if do_import:
            report = await store.import_event(files, str(event_file.resolve()))
            return report.event_id, files.problems
        name, problems = files.event.name, files.problems
    events = await store.event_ids()
    if name is not None:
        if name not in events:
            raise ServeError(f"no event called {name!r} in the database "
                             f"(events: {', '.join(events) or 'none'})", status=2)
        return events[name], problems
    if len(events) != 1:
        raise ServeError(f"the database holds {len(events)} events: give EVENT.toml or "
                         "--event NAME", status=2)
    return next(iter(events.values())), problems


@asynccontextmanager
async def running(url: str, event_file: Path | None, options: Options, *,
                  event_name: str | None = None,
                  announce: Callable[[str], None] | None = None) -> AsyncIterator[Runtime]:
    """The runtime of a server process, from start to stop."""
    say = announce or (lambda text: print(text, file=sys.stderr, flush=True))
    redact_tokens_in_logs()  # here: uvicorn has set its logging up by now
    try:
        store = await Store.open(url, migrate=not options.web_only)
    except DATABASE_ERRORS as error:
        raise database_failed(url, error) from error
    try:
        try:
            event_id, problems = await find_event(store, event_file, event_name,
                                                  do_import=not options.web_only)
            made = None
            if not options.web_only:
                try:
                    made = await Tokens(store).ensure_admin(os.environ.get(ADMIN_ENV) or None)
                except ValueError as error:
                    raise ServeError(f"{error} - set {ADMIN_ENV} to another token, or unset it",
                                     status=2) from None
        except DATABASE_ERRORS as error:
            raise database_failed(url, error) from error
        if made is not None:
            say(f"admin token (shown once, keep it; set {ADMIN_ENV} to choose your own): "
                f"{made}")
        if event_file is not None:
            options = dataclasses.replace(options, event_dir=event_file.resolve().parent)
        try:
            runtime = await Runtime.start(store, event_id, options)
        except ValueError as error:  # a reader's address that cannot be used
            raise ServeError(f"a reader cannot be run: {error} - fix it in event.toml, or "
                             "start with --no-readers", status=2) from None
        except WriterBusy as error:
            names = {number: name for name, number in (await store.event_ids()).items()}
            raise ServeError(f"{error.explained(names.get(error.event_id))} (a second web "
                             "process beside it: --web-only, with REDIS_URL)") from None
        except RedisUnreachable as error:
            raise ServeError(f"{error} - check REDIS_URL, and that Redis is running") from None
        except DATABASE_ERRORS as error:
            raise database_failed(url, error) from error
        if problems is not None and event_file is not None:
            runtime.file_problems = FileProblems.found(str(event_file), problems)
            if not options.web_only:  # the process that imported says so, as `gambero import`
                for line in start_lines(problems):
                    say(line)
        try:
            yield runtime
        finally:
            await runtime.stop()
    finally:
        await store.close()
