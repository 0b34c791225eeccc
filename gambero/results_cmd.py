"""`gambero results EVENT.toml`: the final results of a served event, as its database holds them.

`gambero score` scores the reader files beside event.toml; a served event's results are
something else: the journal in the database (every read the readers sent, every manual entry,
gun, status, penalty and correction made at the desk). This command rebuilds the standings from
that journal exactly as the server does when it starts (`timing.replay.rebuild`) and writes the
results CSV, the same bytes as `GET /api/results.csv`, or the same cells as a spreadsheet.

It only reads: it takes no writer lock and migrates nothing, so it can run beside a running
server (the answer is then the journal as far as it was committed when the command read it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gambero.db_check import _event_name
from timing.model import Event

if TYPE_CHECKING:  # the database layer is loaded only when the command runs
    from sqlalchemy.engine import Connection

    from timing.store import Store

EXIT_OK = 0
EXIT_DATABASE_FAILED = 1
EXIT_UNUSABLE_INPUT = 2
FORMATS = ("csv", "xlsx")
XLSX_MISSING = ("--format xlsx needs openpyxl, an optional part of Gambero: "
                "pip install 'gambero[xlsx]'")


class ResultsError(Exception):
    """The results cannot be had; the message says why and what to do. `status`: the exit
    status (2: nothing to read there yet, 1: the database could not be used)."""

    def __init__(self, message: str, status: int = EXIT_UNUSABLE_INPUT) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Results:
    """The results of one event as its journal gives them."""

    event: Event
    csv: str
    athletes: int
    seq: int
    """The last journal entry applied."""
    set_aside: int
    """Journal entries that cannot apply, left out as the server leaves them out."""


def add_command(commands: Any) -> None:
    results = commands.add_parser(
        "results", help="the final results of a served event, from its database",
        description="Write the results of the event EVENT.toml names as its database holds "
                    "them (gambero.db beside EVENT.toml, unless DATABASE_URL names another): "
                    "every race, with every reader's reads and every action of the desk "
                    "(guns, manual entries, status changes, penalties, corrections) applied, "
                    "as the server computes them. The CSV is byte for byte GET "
                    "/api/results.csv. It only reads the database: the server may be running. "
                    "Exit status 0: written; 1: the database cannot be opened; 2: nothing to "
                    "give (no such file, no database, the event not imported) or a file that "
                    "cannot be written.")
    results.add_argument("event", type=Path, metavar="EVENT.toml")
    results.add_argument("-o", "--output", type=Path, metavar="FILE",
                         help="write to FILE instead of standard output (needed for xlsx)")
    results.add_argument("--format", choices=FORMATS, default="csv",
                         help="csv (default), or xlsx: a spreadsheet with one sheet per race "
                              "and one with them all (needs pip install 'gambero[xlsx]')")
    results.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    event: Path = args.event
    if not event.is_file():
        return _fail(f"{event}: no such file")
    if args.format == "xlsx":
        if args.output is None:
            return _fail("--format xlsx writes a file: give -o FILE.xlsx")
        try:
            import openpyxl  # noqa: F401  (checked before the database is read)
        except ImportError:
            return _fail(XLSX_MISSING)
    from gambero import database

    url = database.database_url(event.parent)
    try:
        results = asyncio.run(load_results(url, _event_name(event)))
    except ResultsError as error:
        return _fail(str(error), error.status)
    except database.ERRORS as error:
        return _fail(f"database {database.shown_url(url)}: {database.failure_reason(error)}",
                     EXIT_DATABASE_FAILED)
    try:
        _write(results, args.format, args.output)
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as error:
        return _fail(f"cannot write {args.output}: {error.strerror or error}")
    print(f"results of {results.event.name!r}: {results.athletes} athletes in "
          f"{len(results.event.races)} races, journal up to entry {results.seq} "
          f"(database {database.shown_url(url)})", file=sys.stderr)
    if results.set_aside:
        print(f"warning: journal entries that cannot apply, left out as the server leaves them "
              f"out: {results.set_aside} (gambero db check EVENT.toml lists them)",
              file=sys.stderr)
    return EXIT_OK


def _write(results: Results, form: str, output: Path | None) -> None:
    if form == "xlsx":
        from gambero.results_xlsx import write_workbook

        assert output is not None  # `run` asked for it
        write_workbook(results.event, results.csv, output)
    elif output is None:
        sys.stdout.write(results.csv)
        sys.stdout.flush()
    else:
        output.write_bytes(results.csv.encode("utf-8"))


async def load_results(url: str, name: str | None) -> Results:
    """The results of the event called `name` (None: the database's only event) in the
    database at `url`, rebuilt from its journal."""
    from timing.quarantine import Quarantine
    from timing.replay import rebuild
    from timing.results import results_csv
    from timing.standings import Standings
    from timing.store import Store

    _refuse_missing_sqlite_file(url)
    store = await Store.open(url, migrate=False)
    try:
        await _check_schema(store, url)
        event_id = _choose_event(await store.event_ids(), name)
        loaded = await store.load(event_id)
        standings = Standings(loaded.event, loaded.athletes, loaded.adjustments)
        quarantine = Quarantine()
        seq = await rebuild(store, event_id, standings, quarantine, set())
    finally:
        await store.close()
    rows = standings.results()
    return Results(standings.event, results_csv(standings.event, rows), len(rows), seq,
                   len(quarantine.open()))


def _choose_event(events: dict[str, int], name: str | None) -> int:
    # A name that is not there is an error even when the database holds one event: results
    # of another event under this event's file name would be worse than none.
    if name is not None:
        if name not in events:
            raise ResultsError(f"no event {name!r} in the database (events: "
                               f"{', '.join(events) or 'none'}): import it first (gambero "
                               "import EVENT.toml, or gambero serve EVENT.toml)")
        return events[name]
    if len(events) != 1:
        raise ResultsError(f"EVENT.toml names no event (its [event] name cannot be read) and "
                           f"the database holds {len(events)}: {', '.join(events) or 'none'}")
    return next(iter(events.values()))


def _refuse_missing_sqlite_file(url: str) -> None:
    """Opening an SQLite file that is not there would make an empty one, and the answer would
    then be about that: say the event was never imported or served instead."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # Store.open says what is wrong with it
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" \
            and not Path(path).exists():
        raise ResultsError(f"no database at {path}: this event was not imported or served "
                           "here (gambero import EVENT.toml, or gambero serve EVENT.toml); if "
                           "it was served from another database, set DATABASE_URL to it")


async def _check_schema(store: Store, url: str) -> None:
    """No schema: nothing was imported. Another revision than this Gambero's: its queries
    would fail with SQL errors (the command migrates nothing, the server may be running)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from timing.store import MIGRATIONS

    async with store.engine.connect() as connection:
        found = await connection.run_sync(_current_revision)
    if found is None:
        raise ResultsError(f"the database {_shown(url)} holds no Gambero event: import the "
                           "event first (gambero import EVENT.toml, or gambero serve "
                           "EVENT.toml)")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if found != head:
        raise ResultsError(f"the database {_shown(url)} has schema revision {found}, this "
                           f"Gambero reads {head}: bring it up to date with gambero db upgrade "
                           "EVENT.toml (or start gambero serve EVENT.toml, which does)")


def _current_revision(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _shown(url: str) -> str:
    from gambero import database

    return database.shown_url(url)


def _fail(message: str, status: int = EXIT_UNUSABLE_INPUT) -> int:
    print(f"gambero results: {message}", file=sys.stderr)
    return status
