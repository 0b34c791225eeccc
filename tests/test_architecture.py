"""The import rules of DESIGN.md, checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PURE_MODULES = ["timing.model", "timing.reads", "timing.rules", "timing.standings",
                "timing.athlete_state", "timing.results", "timing.clock", "timing.eventfile",
                "timing.participants", "timing.tomlindex", "timing.entries", "timing.places"]
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


def test_only_the_server_commands_load_the_server() -> None:
    """The core and the readers never import `api`; the `gambero` command loads it only for
    `serve` and `demo` (so `gambero parse` and `score` start fast)."""
    loaded = imported_by([*PURE_MODULES, *PARSER_MODULES, "timing.core", "timing.store",
                          "gambero.cli", "gambero.demo_race"])
    assert "gambero.cli" in loaded
    assert sorted(name for name in loaded if name.split(".")[0] in ("api", "fastapi",
                                                                     "uvicorn")) == []
