"""The `gambero` command: `score` an event directory, `parse` a reader's bytes, `import` an
event into the database, `db upgrade` its schema."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import cast

from gambero import db_check, demo, readers_cli, results_cmd, serve
from gambero.offline import score_event, shown_raw
from readers.protocols import FORMATS, make_parser
from timing.eventfile import EventFileError, load_event
from timing.participants import CsvHeaderError
from timing.reads import Read, Rejected
from timing.results import results_csv

EXIT_OK = 0
EXIT_DATABASE_FAILED = 1
EXIT_UNUSABLE_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _argument_parser()
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gambero", description="Race timing: chip readers, live standings, results.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    score = commands.add_parser(
        "score", help="score an event directory from its reader files",
        description="Score the event described by EVENT.toml (participants.csv, adjustments.csv "
                    "and the reader files beside it) and print the results CSV.")
    score.add_argument("event", type=Path, metavar="EVENT.toml")
    score.add_argument("-o", "--output", type=Path, metavar="FILE",
                       help="write the results CSV to FILE instead of standard output")
    score.set_defaults(run=_score)
    results_cmd.add_command(commands)

    parse = commands.add_parser(
        "parse", help="decode a reader's raw output into one JSON read per line",
        description="Read bytes exactly as a reader sent them and print each read as a JSON "
                    "object; rejected records are reported on standard error.")
    parse.add_argument("--format", "-f", required=True, choices=FORMATS)
    parse.add_argument("file", nargs="?", type=Path, metavar="FILE",
                       help="the capture to decode (standard input when left out)")
    parse.set_defaults(run=_parse)

    importing = commands.add_parser(
        "import", help="load an event directory into the database",
        description="Load EVENT.toml, participants.csv and adjustments.csv into the database "
                    "(gambero.db beside EVENT.toml, unless DATABASE_URL names another), "
                    "creating or migrating its schema first. Re-importing updates participants "
                    "by bib, replaces the adjustments and never touches the journal; it prints "
                    "what changed.")
    importing.add_argument("event", type=Path, metavar="EVENT.toml")
    importing.set_defaults(run=_import)

    db = commands.add_parser("db", help="manage the database",
                             description="Manage Gambero's database.")
    actions = db.add_subparsers(required=True, metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade", help="create or migrate the database schema",
        description="Bring the schema of the database EVENT.toml uses (gambero.db beside it, "
                    "unless DATABASE_URL names another) up to date; with no EVENT.toml, the "
                    "database DATABASE_URL names.")
    upgrade.add_argument("event", nargs="?", type=Path, metavar="EVENT.toml")
    upgrade.set_defaults(run=_db_upgrade)
    db_check.add_command(actions)
    readers_cli.add_commands(commands)
    serve.add_commands(commands)
    demo.add_command(commands)
    return parser


def _score(args: argparse.Namespace) -> int:
    try:
        report = score_event(args.event)
    except EventFileError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"gambero score: {args.event} cannot be scored", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    text = results_csv(report.files.event, report.standings.results())
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    for note in report.notes:
        print(note, file=sys.stderr)
    print(f"scored {report.summary()}", file=sys.stderr)
    return EXIT_OK


def _parse(args: argparse.Namespace) -> int:
    parser = make_parser(args.format)
    from_stdin = args.file is None or str(args.file) == "-"
    name = "<stdin>" if from_stdin else str(args.file)
    counts = {"reads": 0, "rejected": 0}

    def emit(records: list[Read | Rejected]) -> None:
        for record in records:
            if isinstance(record, Rejected):
                counts["rejected"] += 1
                print(f"{name}:{record.line}: rejected: {record.reason}: {shown_raw(record.raw)}",
                      file=sys.stderr)
            else:
                counts["reads"] += 1
                sys.stdout.write(json.dumps(read_as_json(record)) + "\n")
        sys.stdout.flush()

    try:
        stream = cast(io.BufferedIOBase, sys.stdin.buffer) if from_stdin else args.file.open("rb")
    except OSError as error:
        print(f"gambero parse: cannot read {name}: {error.strerror}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    try:
        with stream:
            # read1: hand over what has arrived so a live pipe is decoded as it comes.
            while chunk := _read_chunk(stream, name):
                emit(parser.feed(chunk))
            emit(parser.close())
    except _InputError as error:
        print(f"gambero parse: cannot read {name}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    print(f"{_count(counts['reads'], 'read')}, {_count(counts['rejected'], 'rejected record')}",
          file=sys.stderr)
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    event: Path = args.event
    try:
        files = load_event(event, FORMATS)
    except (EventFileError, CsvHeaderError) as error:
        problems = error.problems if isinstance(error, EventFileError) else [error.problem]
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"gambero import: {event} cannot be imported", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    for problem in files.problems:
        print(f"warning: {problem}", file=sys.stderr)
    # The database layer is loaded only by the commands that use it (`parse` starts fast).
    from gambero import database

    url = database.database_url(files.directory)
    try:
        migrated, report = asyncio.run(
            database.import_event(url, files, str(event.resolve())))
    except database.ERRORS as error:
        return _database_failed("import", url, error)
    print(f"database {migrated.url}: {migrated.describe()}")
    print(f'imported {event} as event "{files.event.name}" (id {report.event_id})')
    print(report.summary())
    for line in database.report_lines(report):
        print(line)
    if files.problems:
        print(f"{_count(len(files.problems), 'problem')} reported: rows with mistakes were not "
              "imported", file=sys.stderr)
    return EXIT_OK


def _db_upgrade(args: argparse.Namespace) -> int:
    from gambero import database

    event: Path | None = args.event
    if event is None:
        if not os.environ.get("DATABASE_URL", "").strip():
            print("gambero db upgrade: give EVENT.toml (its database is gambero.db beside it) "
                  "or set DATABASE_URL", file=sys.stderr)
            return EXIT_UNUSABLE_INPUT
        url = database.database_url()
    elif not event.is_file():
        print(f"gambero db upgrade: {event}: no such file", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    else:
        url = database.database_url(event.parent)
    try:
        migrated = asyncio.run(database.upgrade(url))
    except database.ERRORS as error:
        return _database_failed("db upgrade", url, error)
    print(f"database {migrated.url}: {migrated.describe()}")
    return EXIT_OK


def _database_failed(command: str, url: str, error: Exception) -> int:
    from gambero import database

    print(f"gambero {command}: database {database.shown_url(url)}: "
          f"{database.failure_reason(error)}", file=sys.stderr)
    return EXIT_DATABASE_FAILED


class _InputError(Exception):
    pass


def _read_chunk(stream: io.BufferedIOBase, name: str) -> bytes:
    try:
        return stream.read1(1 << 16)
    except OSError as error:
        raise _InputError(error.strerror or str(error)) from error


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def read_as_json(read: Read) -> dict[str, object]:
    """A read as `gambero parse` prints it: ISO 8601 time, optional fields where known."""
    out: dict[str, object] = {"chip": read.chip or None, "time": iso_time(read)}
    if not read.dated:
        out["day"] = read.day_offset
    for key, value in (("bib", read.bib), ("reader", read.reader), ("antenna", read.antenna),
                       ("rssi", read.rssi), ("sequence", read.sequence)):
        if value is not None:
            out[key] = value
    out["line"] = read.line
    return out


def iso_time(read: Read) -> str:
    """Dated reads as an ISO 8601 date-time (with its offset when the reader gave one);
    undated reads as an ISO 8601 time of day (the day count goes in `day`)."""
    moment: datetime = read.time
    spec = "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    if not read.dated:
        return moment.time().isoformat(timespec=spec)
    return moment.isoformat(timespec=spec)


if __name__ == "__main__":
    raise SystemExit(main())
