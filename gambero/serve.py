"""`gambero serve` (the API, the live feed and the pages over an event) and `gambero token`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from timing.store import Store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE_INPUT = 2
WEBSOCKETS = "api.ws_server:LiveWebSocket"
"""uvicorn's websocket protocol: its websockets-sansio one (half the memory per connection of
its older `websockets` one) with /ws/live's connections detached from the app
(`api.ws_server`)."""
UVICORN_WEBSOCKETS: dict[str, Any] = {"ws": WEBSOCKETS}
"""uvicorn's websocket settings for serve, demo and the tests."""


def add_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="serve the API, the live feed and the pages for an event",
        description="Import EVENT.toml into its database (gambero.db beside it, unless "
                    "DATABASE_URL names another; an event already there is updated), start the "
                    "timing core and serve the API, the websocket feed and the pages. With "
                    "REDIS_URL set, live frames are published through Redis for --web-only "
                    "processes.")
    serve.add_argument("event", nargs="?", type=Path, metavar="EVENT.toml",
                       help="left out: the event already in the database DATABASE_URL names")
    serve.add_argument("--event", dest="event_name", metavar="NAME",
                       help="the event's name, when the database holds several")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--web-only", action="store_true",
                       help="serve results and the live feed only, following the core "
                            "through Redis (REDIS_URL); changes go to the core's process")
    serve.add_argument("--no-readers", action="store_true",
                       help="connect no reader (serial, TCP, file) even where event.toml "
                            "gives one; every reader then posts its reads to the API")
    serve.add_argument("--replay-speed", type=float, default=0.0, metavar="X",
                       help="replay readers with a `path` at X times real time (default 0: "
                            "at once)")
    serve.add_argument("--debug", action="store_true",
                       help="show the traceback of a start-up error")
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="manage API tokens",
                                description="Manage the API's bearer tokens.")
    actions = token.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="make a token (printed once)",
        description="Make a token for a role and print it (only its hash is stored).")
    create.add_argument("event", nargs="?", type=Path, metavar="EVENT.toml",
                        help="whose database (beside it); left out: DATABASE_URL, or "
                             "gambero.db in the current folder")
    create.add_argument("--role", required=True, choices=("admin", "timekeeper", "reader"))
    create.add_argument("--reader", metavar="ID", help="the reader a reader token posts for")
    create.add_argument("--label", default="", help="who or what it is for")
    create.set_defaults(run=_token_create)


def _serve(args: argparse.Namespace) -> int:
    from api.runtime import Options
    from api.server import running
    from gambero import database, serving

    event: Path | None = args.event
    if event is not None and not event.is_file():
        print(f"gambero serve: {event}: no such file", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    if event is None and not os.environ.get("DATABASE_URL", "").strip():
        print("gambero serve: give EVENT.toml or set DATABASE_URL", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    if args.web_only and redis_url is None:
        print("gambero serve --web-only: set REDIS_URL (the core's frames come through Redis)",
              file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    url = database.database_url(event.parent if event is not None else None)
    options = Options(web_only=args.web_only, redis_url=redis_url,
                      redis_prefix=os.environ.get("GAMBERO_REDIS_PREFIX", "gambero"),
                      live_readers=not (args.web_only or args.no_readers),
                      replay_speed=args.replay_speed)

    def started() -> None:
        print(f"gambero serve: database {database.shown_url(url)}; "
              f"http://{args.host}:{args.port}/", file=sys.stderr, flush=True)

    return serving.serve("serve", lambda: running(url, event, options,
                                                  event_name=args.event_name),
                         host=args.host, port=args.port, log_level="info", debug=args.debug,
                         started=started, uvicorn_options=UVICORN_WEBSOCKETS)


class _Refused(Exception):
    """The token cannot be made; the message says why and what to do."""


def _token_create(args: argparse.Namespace) -> int:
    from api.auth import Tokens
    from gambero import database
    from timing.store import Store

    if (args.role == "reader") != (args.reader is not None):
        print("gambero token create: a reader token needs --reader ID; other roles take none",
              file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    if args.event is not None and not args.event.is_file():
        print(f"gambero token create: {args.event}: no such file", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    url = database.database_url(args.event.parent if args.event is not None else None)

    async def create() -> str:
        store = await Store.open(url)
        try:
            if args.reader is not None:
                await _check_reader(store, args.event, args.reader)
            _, token = await Tokens(store).create(args.role, args.reader, args.label)
            return token
        finally:
            await store.close()

    try:
        token = asyncio.run(create())
    except _Refused as error:
        print(f"gambero token create: {error}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    except database.ERRORS as error:
        print(f"gambero token create: database {database.shown_url(url)}: "
              f"{database.failure_reason(error)}", file=sys.stderr)
        return EXIT_FAILED
    print(token)
    print(f"{args.role} token made (shown once; only its hash is stored)", file=sys.stderr)
    return EXIT_OK


async def _check_reader(store: Store, event_file: Path | None, reader: str) -> None:
    """Refuse a reader token for a reader the event does not have: those of EVENT.toml, and
    those of the event in the database (imported, or added later through the API and
    journaled). Without EVENT.toml, every event the database holds (usually one)."""
    from readers.protocols import FORMATS
    from timing.entries import ActionEntry
    from timing.eventfile import EventFileError, load_event
    from timing.participants import CsvHeaderError

    known: set[str] = set()
    events = await store.event_ids()
    if event_file is not None:
        try:
            event = load_event(event_file, FORMATS).event
        except (EventFileError, CsvHeaderError) as error:
            raise _Refused(f"{error} - cannot check the reader {reader!r} against "
                           f"{event_file}: fix it first") from None
        known.update(config.id for config in event.readers)
        names = [event.name]
    else:
        names = list(events)
        if not names:
            raise _Refused(f"the database holds no event to check the reader {reader!r} "
                           "against - give EVENT.toml, or import the event first (gambero "
                           "import EVENT.toml)")
    for name in names:
        if name not in events:
            continue  # not imported yet: event.toml's readers are the event's
        loaded = await store.load(events[name])
        known.update(config.id for config in loaded.event.readers)
        for item in await store.actions(events[name], ["reader"]):
            if isinstance(item.entry, ActionEntry):
                known.add(str(item.entry.payload.get("id")))
    if reader not in known:
        shown = ("the event " if len(names) == 1 else "the events ") + ", ".join(map(repr, names))
        raise _Refused(f"no reader {reader!r} in {shown} (readers: "
                       f"{', '.join(sorted(known)) or 'none'}) - give one of these, or add the "
                       "reader first (in event.toml, or with POST /api/readers)")
