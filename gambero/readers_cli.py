"""`gambero readers run EVENT.toml` and `gambero readers status EVENT.toml`.

`run` is the headless live side: it opens the event's database (as `gambero import` does),
starts the timing core, connects every reader event.toml declares (serial port, TCP address,
listening socket or recording) and keeps them connected until stopped (Ctrl-C or SIGTERM).
Every second it writes the readers' health to a JSON file beside event.toml
(`readers-health.json`, replaced atomically), so `status` works without a web server, from
another terminal, even while `run` is busy. When every reader is a recording, `run` stops by
itself once they have all been replayed and stored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("gambero.readers")

HEALTH_FILE = "readers-health.json"
HEALTH_EVERY_S = 1.0
STALE_AFTER_S = 5.0


def add_commands(commands: Any) -> None:
    """Register `readers run|status` on the `gambero` argument parser's subcommands."""
    readers = commands.add_parser(
        "readers", help="run the event's chip readers live, or show their health",
        description="Connect the readers declared in EVENT.toml and journal their reads "
                    "(run), or show the health `run` keeps current (status).")
    actions = readers.add_subparsers(required=True, metavar="ACTION")
    run = actions.add_parser(
        "run", help="connect the readers and journal their reads until stopped",
        description="Start the timing core on the event's database (gambero.db beside "
                    "EVENT.toml unless DATABASE_URL names another; import the event first) and "
                    "keep every reader connected, writing their health to a file every second.")
    run.add_argument("event", type=Path, metavar="EVENT.toml")
    run.add_argument("--health-file", type=Path, metavar="FILE",
                     help=f"where to keep the health (default: {HEALTH_FILE} beside EVENT.toml)")
    run.add_argument("--replay-speed", type=float, default=0.0, metavar="X",
                     help="readers with a `path`: replay at X times real time (0: at once)")
    run.add_argument("--drift-limit-s", type=float, default=1.0, metavar="S",
                     help="alarm when a reader's clock is more than S seconds off (default 1)")
    run.set_defaults(run=_run)
    status = actions.add_parser(
        "status", help="print the readers' health as `readers run` last wrote it",
        description="Read the health file `gambero readers run` keeps and print one line per "
                    "reader. Exit status 0, or 1 when there is no health file or it is stale.")
    status.add_argument("event", type=Path, metavar="EVENT.toml")
    status.add_argument("--health-file", type=Path, metavar="FILE")
    status.add_argument("--json", action="store_true", help="print the health file as it is")
    status.set_defaults(run=_status)


def _health_path(args: argparse.Namespace) -> Path:
    chosen: Path | None = args.health_file
    return chosen if chosen is not None else Path(args.event).parent / HEALTH_FILE


# -- run -----------------------------------------------------------------------------------------

def _run(args: argparse.Namespace) -> int:
    from timing.eventfile import EventFileError, load_event

    try:
        name = load_event(args.event).event.name
    except (EventFileError, OSError) as error:
        problems = getattr(error, "problems", [error])
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"gambero readers run: {args.event} cannot be used", file=sys.stderr)
        return 2
    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s")
    log.setLevel(logging.INFO)
    try:
        return asyncio.run(_run_async(args, name))
    except KeyboardInterrupt:
        return 0


async def _run_async(args: argparse.Namespace, name: str) -> int:
    from gambero import database
    from readers.manager import ReaderManager
    from readers.session import SessionSettings
    from timing.core import TimingCore
    from timing.store import Store
    from timing.writer_lock import WriterBusy

    url = database.database_url(args.event.parent)
    try:
        store = await Store.open(url)
        ids = await store.event_ids()
    except database.ERRORS as error:
        print(f"gambero readers run: database {database.shown_url(url)}: "
              f"{database.failure_reason(error)}", file=sys.stderr)
        return 1
    try:
        if name not in ids:
            print(f'gambero readers run: event "{name}" is not in the database '
                  f"{database.shown_url(url)}: run `gambero import {args.event}` first",
                  file=sys.stderr)
            return 2
        try:
            core = await TimingCore.start(store, ids[name])
        except WriterBusy as error:
            print(f"gambero readers run: {error.explained(name)}", file=sys.stderr)
            return 1
        except database.ERRORS as error:  # the journal cannot be read (the server went away)
            print(f"gambero readers run: database {database.shown_url(url)}: "
                  f"{database.failure_reason(error)}", file=sys.stderr)
            return 1
        settings = SessionSettings(drift_limit_ms=round(args.drift_limit_s * 1000))
        try:
            manager = ReaderManager.for_event(core.event, core.submit,
                                              directory=args.event.parent,
                                              replay_speed=args.replay_speed, settings=settings)
        except ValueError as error:
            print(f"gambero readers run: {error}", file=sys.stderr)
            await core.stop()
            return 2
        manager.resume(await store.last_reader_sequences(ids[name]))
        await _serve(manager, core, name, _health_path(args))
    finally:
        await store.close()
    return 0


async def _serve(manager: Any, core: Any, name: str, health_file: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    manager.start_all()
    for health in manager.health():
        log.info("reader %s (%s at %s): %s", health.id, health.format, health.point,
                 health.address)
    replays = [session for session in manager.sessions.values()
               if session.transport.kind == "file"]
    only_replays = bool(replays) and len(replays) == len(manager.sessions)
    writer = HealthWriter(health_file)
    try:
        while not stop.is_set():
            writer.write(name, core.seq, manager.health(), running=True)
            if only_replays and all(session.finished.is_set() for session in replays):
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEALTH_EVERY_S)
    finally:
        await manager.stop_all()
        await core.stop()
        writer.write(name, core.seq, manager.health(), running=False)
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)
    log.info("stopped: journal at sequence %d, health in %s", core.seq, health_file)


class HealthWriter:
    """Writes the health file; a failure (disk full, folder gone, no permission) is logged once
    and retried every second, never stopping the readers: the journal matters, this file only
    shows it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.failing = False

    def write(self, name: str, seq: int, readers: list[Any], running: bool) -> None:
        try:
            _write_health(self.path, name, seq, readers, running)
        except OSError as error:
            if not self.failing:
                log.error("cannot write the health file %s: %s (the readers keep running; "
                          "`gambero readers status` will call it stale)", self.path, error)
            self.failing = True
            return
        if self.failing:
            log.info("the health file %s is written again", self.path)
        self.failing = False


def _write_health(path: Path, name: str, seq: int, readers: list[Any], running: bool) -> None:
    document = {"event": name, "updated_ms": time.time_ns() // 1_000_000, "pid": os.getpid(),
                "running": running, "seq": seq,
                "readers": [health.as_status() for health in readers]}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)  # readers of the file never see half of it


# -- status --------------------------------------------------------------------------------------

def _status(args: argparse.Namespace) -> int:
    path = _health_path(args)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"gambero readers status: no health file {path}: is `gambero readers run "
              f"{args.event}` running?", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"gambero readers status: cannot read {path}: {error}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(json.dumps(document, indent=1) + "\n")
    else:
        sys.stdout.write(format_status(document, time.time_ns() // 1_000_000))
    age_s = (time.time_ns() // 1_000_000 - int(document.get("updated_ms", 0))) / 1000
    return 0 if document.get("running") and age_s <= STALE_AFTER_S else 1


def format_status(document: dict[str, Any], now_ms: int) -> str:
    age_s = (now_ms - int(document.get("updated_ms", 0))) / 1000
    if not document.get("running"):
        state = f"stopped {_ago(age_s)}"
    elif age_s > STALE_AFTER_S:
        state = f"STALE: last written {_ago(age_s)} (is `gambero readers run` still running?)"
    else:
        state = f"running, updated {_ago(age_s)}"
    lines = [f"{document.get('event', '?')}: journal at sequence {document.get('seq', '?')}, "
             f"{state}"]
    header = ("reader", "link", "state", "reads", "dup", "rej", "reads/s", "last read",
              "clock", "drift")
    rows = [header]
    alarms = []
    for reader in document.get("readers", []):
        since = _ago((now_ms - reader["since_ms"]) / 1000) if reader.get("since_ms") else "-"
        state = ("up " if reader["connected"] else "DOWN ") + since
        if reader.get("finished"):
            state = "replayed"
        elif not reader.get("running", True):
            state = "stopped"
        last = _ago((now_ms - reader["last_read_ms"]) / 1000) if reader.get("last_read_ms") \
            else "never"
        rows.append((reader["id"], f"{reader['transport']} {reader.get('address', '')}",
                     state, str(reader["reads"]), str(reader["duplicates"]),
                     str(reader["rejected"]), f"{reader['reads_per_s']:g}", last,
                     _ms(reader.get("clock_offset_ms")), _ms(reader.get("drift_ms"))))
        if reader.get("alarm"):
            alarms.append(f"  ! {reader['id']}: {reader['alarm']}")
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip() for row in rows]
    return "\n".join(lines + alarms) + "\n"


def _ago(seconds: float) -> str:
    if seconds < 60:
        return f"{max(0.0, seconds):.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _ms(value: int | None) -> str:
    from readers.clock import shown_offset

    return "-" if value is None else shown_offset(value)


__all__ = ["HEALTH_FILE", "add_commands", "format_status"]
