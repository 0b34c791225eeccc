"""`gambero db check EVENT.toml`: the journal entries that cannot apply, and voiding them.

An entry the journal holds and the standings cannot take (a gun no date can show, a reader with
an absurd clock offset: what an older version let in) is set aside by the core, which then goes
on; this command lists those entries and, with `--void`, sets them aside for good with journal
actions that keep who did it and why. Nothing is ever edited or deleted by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE_INPUT = 2
EXIT_SET_ASIDE = 3
"""Entries that cannot apply are in the journal and were not voided."""
ACTOR = "gambero db check"


def add_command(actions: Any) -> None:
    check = actions.add_parser(
        "check", help="list journal entries that cannot apply, and void them",
        description="Replay the event's journal as the server does and list the entries that "
                    "cannot apply (set aside: the results go on without them). With --void, "
                    "journal a void for each (or for those given with --seq), with --reason. "
                    "Stop the server first: the check takes the journal's writer lock. Exit "
                    "status 0: nothing set aside; 3: entries set aside remain.")
    check.add_argument("event", type=Path, metavar="EVENT.toml")
    check.add_argument("--void", action="store_true",
                       help="void the entries set aside (all, or those given with --seq)")
    check.add_argument("--seq", type=int, action="append", default=[], metavar="N",
                       help="with --void: only entry N (may be given more than once)")
    check.add_argument("--reason", default="", metavar="TEXT",
                       help="why they are voided (required with --void)")
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    event: Path = args.event
    if not event.is_file():
        print(f"gambero db check: {event}: no such file", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    if args.void and not args.reason.strip():
        print("gambero db check: --void needs --reason TEXT (kept in the journal)",
              file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    from gambero import database

    # The core logs each entry it sets aside: here the listing below says it, once.
    logging.getLogger("gambero.core").setLevel(logging.CRITICAL)
    url = database.database_url(event.parent)
    try:
        return asyncio.run(_check(url, _event_name(event), args))
    except database.ERRORS as error:
        print(f"gambero db check: database {database.shown_url(url)}: "
              f"{database.failure_reason(error)}", file=sys.stderr)
        return EXIT_FAILED


def _event_name(path: Path) -> str | None:
    """The event's name from event.toml, read leniently: the file may be the one at fault."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    header = document.get("event")
    name = header.get("name") if isinstance(header, dict) else None
    return name if isinstance(name, str) else None


async def _check(url: str, name: str | None, args: argparse.Namespace) -> int:
    from timing.core import TimingCore
    from timing.entries import ActionError, void_entry
    from timing.store import Store
    from timing.writer_lock import WriterBusy

    store = await Store.open(url)
    try:
        events = await store.event_ids()
        event_id = events.get(name) if name is not None else None
        if event_id is None and len(events) == 1:
            event_id = next(iter(events.values()))
        if event_id is None:
            print(f"gambero db check: no event {name!r} in the database (events: "
                  f"{', '.join(events) or 'none'}): import it first", file=sys.stderr)
            return EXIT_UNUSABLE_INPUT
        try:
            core = await TimingCore.start(store, event_id)
        except WriterBusy as error:
            print(f"gambero db check: {error.explained(name)} - stop the server first (its "
                  "console and GET /api/quarantined show the same list)", file=sys.stderr)
            return EXIT_FAILED
        try:
            aside = core.quarantine.open()
            print(f"journal of {name or 'the event'}: {core.seq} entries, "
                  f"{len(aside)} set aside (cannot apply)")
            for item in aside:
                print(f"  seq {item.seq} ({item.kind}): {item.summary}\n"
                      f"      cannot apply: {item.error}")
            if not args.void:
                if aside:
                    print("void them with: gambero db check EVENT.toml --void --reason TEXT")
                return EXIT_SET_ASIDE if aside else EXIT_OK
            chosen = [item.seq for item in aside if not args.seq or item.seq in args.seq]
            for seq in sorted(set(args.seq) - {item.seq for item in aside}):
                print(f"  seq {seq}: not set aside, left as it is", file=sys.stderr)
            for seq in chosen:
                try:
                    done = await core.act(void_entry(seq, actor=ACTOR, reason=args.reason,
                                                     at_ms=time.time_ns() // 1_000_000))
                except ActionError as error:
                    print(f"  seq {seq}: {error}", file=sys.stderr)
                    continue
                print(f"  seq {seq} voided (journal entry {done})")
            return EXIT_SET_ASIDE if core.quarantine.open() else EXIT_OK
        finally:
            await core.stop()
    finally:
        await store.close()
