"""The import rules of DESIGN.md, checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PURE_MODULES = ["timing.model", "timing.reads", "timing.rules", "timing.standings",
                "timing.athlete_state", "timing.results", "timing.clock", "timing.eventfile",
                "timing.participants", "timing.tomlindex", "timing.entries", "timing.places",
                "timing.what_if", "timing.standings_results", "timing.read_log",
                "timing.corrections", "timing.hand_entry", "timing.stored_time",
                "timing.gun_preview", "timing.time_of_day", "timing.checks",
                "timing.search"]
PARSER_MODULES = ["readers.protocols." + name
                  for name in ("ipico", "ultra", "raceresult", "p3", "manual", "base")]
FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "serial", "uvicorn", "redis", "asyncio",
             "socket", "websockets")


def imported_by(modules: list[str]) -> set[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True, timeout=60)
    return set(json.loads(run.stdout))


def test_pure_scoring_core_imports_no_io_library() -> None:
    loaded = imported_by(PURE_MODULES)
    assert "timing.standings" in loaded  # the probe really imported the core
    assert sorted(name for name in loaded if name.split(".")[0] in FORBIDDEN) == []


def test_parsers_are_sans_io_and_know_only_the_read_records() -> None:
    loaded = imported_by(PARSER_MODULES)
    assert "readers.protocols.p3" in loaded
    assert sorted(name for name in loaded if name.split(".")[0] in FORBIDDEN) == []
    ours = {name for name in loaded if name.split(".")[0] in ("timing", "api", "display")}
    assert ours == {"timing", "timing.reads"}


LIVE_READER_MODULES = ["readers.session", "readers.manager", "readers.dialects", "readers.clock",
                       "readers.health", "readers.transports.tcp", "readers.transports.serial",
                       "readers.transports.replay", "readers.simulators"]


def test_live_readers_know_only_the_model_and_read_records_of_the_core() -> None:
    loaded = imported_by(LIVE_READER_MODULES)
    assert "readers.session" in loaded and "serial" in loaded  # pyserial is theirs to use
    ours = {name for name in loaded if name.split(".")[0] in ("timing", "api", "display")}
    assert ours == {"timing", "timing.model", "timing.reads"}
    heavy = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "redis", "sllurp")
    assert sorted(name for name in loaded if name.split(".")[0] in heavy) == []


def test_the_cli_loads_no_serial_or_database_code_until_a_command_needs_it() -> None:
    loaded = imported_by(["gambero.cli", "gambero.readers_cli"])
    assert "gambero.readers_cli" in loaded
    assert sorted(name for name in loaded
                  if name.split(".")[0] in ("serial", "sqlalchemy", "sllurp")) == []
def test_only_the_server_commands_load_the_server() -> None:
    """The core and the readers never import `api`; the `gambero` command loads it only for
    `serve` and `demo` (so `gambero parse` and `score` start fast)."""
    loaded = imported_by([*PURE_MODULES, *PARSER_MODULES, "timing.core", "timing.store",
                          "gambero.cli", "gambero.demo_race"])
    assert "gambero.cli" in loaded
    assert sorted(name for name in loaded if name.split(".")[0] in ("api", "fastapi",
                                                                     "uvicorn")) == []
