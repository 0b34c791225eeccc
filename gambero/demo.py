"""`gambero demo`: a live backwards mile on this machine, one command, nothing to set up.

It writes a fresh event folder (event.toml, participants.csv from the example's generator)
into a new temporary folder with its own SQLite database, starts the server, fires the guns
and runs the race (`gambero.demo_race`), and prints the pages' addresses.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from readers.session import SessionSettings

EXIT_OK = 0
EXIT_FAILED = 1
TIMEZONE = "Europe/Rome"
EVENT_TOML = """\
# A live demo of the Backwards Mile (written by `gambero demo`). Guns are fired live.
[event]
name = "Backwards Mile (demo)"
date = "{date}"
timezone = "{timezone}"

[categories]
age_bounds = [0, 20, 30, 40, 50, 60, 70]

[[races]]
id = "mile"
name = "Backwards Mile"
distance_m = 1609.344
min_lap_s = 30
precision = "s"
record = "6:20"

  [[races.waves]]
  id = "elite"

  [[races.waves]]
  id = "open"

[[races]]
id = "kids"
name = "Kids' Backwards 400 m"
distance_m = 400
points = ["finish"]
min_lap_s = 30
precision = "0.1"

[[points]]
id = "start"
kind = "start"

[[points]]
id = "half"
kind = "split"
distance_m = 804.672

[[points]]
id = "finish"
kind = "finish"
"""
READERS = (("start-mat", "start", "raceresult"), ("half-box", "half", "ultra"),
           ("finish-main", "finish", "ipico"), ("finish-hand", "finish", "manual"))
"""(id, point, format): the demo's chip readers (simulated) and the finish desk's hand timing."""
PAGES = ("/scoreboard", "/announcer", "/console", "/")


def add_command(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="run a live demo race on this machine",
        description="Generate a backwards mile (two waves, a kids' race, age groups) in a new "
                    "temporary folder with its own database, serve it, fire the guns and run "
                    "the race live, and print the pages' addresses. Stop it with Ctrl-C.")
    demo.add_argument("--speed", type=float, default=10.0,
                      help="how many times faster than real time the race runs (default 10: "
                           "the first finishers within a minute)")
    demo.add_argument("--athletes", type=int, default=300, help="how many (default 300)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--dir", type=Path, help="the folder to write the event into "
                                               "(default: a new temporary folder)")
    demo.add_argument("--debug", action="store_true",
                      help="show the traceback of a start-up error")
    demo.set_defaults(run=_demo)


def write_event(folder: Path, athletes: int, hosts: Mapping[str, str] | None = None) -> Path:
    """The demo's event folder; `hosts`: reader id -> address of the (simulated) reader to
    connect to. Readers without one take their reads through the API."""
    folder.mkdir(parents=True, exist_ok=True)
    write_event_toml(folder, hosts or {})
    write_participants(folder, athletes)
    return folder / "event.toml"


def write_event_toml(folder: Path, hosts: Mapping[str, str]) -> Path:
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    readers = "".join(
        f'\n[[readers]]\nid = "{reader}"\npoint = "{point}"\nformat = "{fmt}"\n'
        + (f'host = "{hosts[reader]}"\n' if reader in hosts else "")
        for reader, point, fmt in READERS)
    event = folder / "event.toml"
    event.write_text(EVENT_TOML.format(date=today.isoformat(), timezone=TIMEZONE) + readers,
                     encoding="utf-8")
    return event


def write_participants(folder: Path, athletes: int) -> None:
    from gambero.demo_race import athletes as make_athletes

    rows = make_athletes(athletes)
    with (folder / "participants.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def reader_settings(speed: float) -> SessionSettings:
    """The simulated readers keep race time, `speed` times faster than the wall clock: their
    clocks are watched at that rate (a drift from it is still an alarm: readers.clock)."""
    from readers.session import SessionSettings

    return SessionSettings(clock_rate=speed)


def _demo(args: argparse.Namespace) -> int:
    from api.runtime import Options
    from api.server import running
    from gambero import serving
    from gambero.demo_race import SimulatedDemoRace, plan
    from gambero.serve import UVICORN_WEBSOCKETS

    if args.speed <= 0 or args.athletes < 10:
        print("gambero demo: --speed must be above 0 and --athletes at least 10",
              file=sys.stderr)
        return EXIT_FAILED
    folder = args.dir or Path(tempfile.mkdtemp(prefix="gambero-demo-"))
    if (folder / "gambero.db").exists():
        print(f"gambero demo: {folder} already holds a database; give a new --dir",
              file=sys.stderr)
        return EXIT_FAILED
    folder.mkdir(parents=True, exist_ok=True)
    write_participants(folder, args.athletes)
    url = f"sqlite+aiosqlite:///{(folder / 'gambero.db').resolve()}"
    with (folder / "participants.csv").open(encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    race = SimulatedDemoRace(plan(rows), args.speed, TIMEZONE)
    options = Options(live_readers=True, reader_settings=reader_settings(args.speed))
    base = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    announced: list[str] = []

    @asynccontextmanager
    async def demo_runtime() -> AsyncIterator[Any]:
        event = write_event_toml(folder, await race.open())
        try:
            async with running(url, event, options, announce=announced.append) as runtime:
                runtime.tasks.append(asyncio.create_task(_run_race(race, runtime),
                                                         name="gambero-demo"))
                print(f"gambero demo: {len(rows)} athletes, the race runs {args.speed:g}x "
                      f"real time; event folder {folder}", flush=True)
                for line in announced:
                    print(line, flush=True)
                for page in PAGES:
                    print(f"  {base}{page}", flush=True)
                print(f"  API: {base}/docs   (Ctrl-C stops the demo)", flush=True)
                yield runtime
        finally:
            await race.close()

    os.environ.pop("DATABASE_URL", None)  # the demo always has its own database
    return serving.serve("demo", demo_runtime, host=args.host, port=args.port,
                         log_level="warning", debug=args.debug,
                         uvicorn_options=UVICORN_WEBSOCKETS)


async def _run_race(race: Any, runtime: Any) -> None:
    try:
        await race.run(runtime)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # say so: the server goes on, with the race as far as it got
        print(f"gambero demo: the race stopped: {error!r}", file=sys.stderr, flush=True)
        return
    print(f"gambero demo: the race is over ({race.reads} reads); the server goes on until "
          "Ctrl-C", flush=True)
