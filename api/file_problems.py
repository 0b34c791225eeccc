"""The problems found in the event's files when the event was last imported: at the server's
start (participants.csv and adjustments.csv beside EVENT.toml) or by `POST /api/participants`.
The timekeeper console lists them (`GET /api/participants/problems`) so that a row skipped for
a mistake is fixed at the desk before its athlete crosses the line unknown.

Kept in the memory of the serving process (`Runtime.file_problems`), not in the database: they
are found again, the same, whenever the same files are imported."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from timing.model import Problem

PARTICIPANTS_FILE = "participants.csv"

# How timing.participants words a row's problem: "bib 12: ...", "bib 12 skipped: ...", or
# "row skipped: bib 12 appears twice". Bibs hold no control characters, but may hold spaces.
_BIB_FIRST = re.compile(r"bib (?P<bib>.+?)(?: skipped)?: ")
_BIB_TWICE = re.compile(r"row skipped: bib (?P<bib>.+) appears twice")


def problem_bib(message: str) -> str | None:
    """The bib a problem's message is about, or None (a header, a row without a bib)."""
    found = _BIB_FIRST.match(message) or _BIB_TWICE.fullmatch(message)
    return None if found is None else found["bib"]


def problem_json(problem: Problem) -> dict[str, Any]:
    return {"file": PurePath(problem.file).name, "line": problem.line,
            "bib": problem_bib(problem.message), "problem": problem.message}


@dataclass(frozen=True, slots=True)
class FileProblems:
    source: str
    """What was read: the EVENT.toml the server started with, or "POST /api/participants"."""
    checked_ms: int
    problems: tuple[Problem, ...]

    @classmethod
    def found(cls, source: str, problems: Iterable[Problem]) -> FileProblems:
        return cls(source, time.time_ns() // 1_000_000, tuple(problems))

    def with_participants(self, source: str, problems: Iterable[Problem]) -> FileProblems:
        """These problems in place of the participants file's (an upload of participants.csv
        replaces its problems; those of adjustments.csv stay, it was not read again)."""
        kept = [problem for problem in self.problems if not is_participants(problem)]
        return FileProblems.found(source, [*problems, *kept])

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "checked_ms": self.checked_ms,
                "problems": [problem_json(problem) for problem in self.problems]}


def is_participants(problem: Problem) -> bool:
    return PurePath(problem.file).name == PARTICIPANTS_FILE


def start_lines(problems: Iterable[Problem]) -> list[str]:
    """What `gambero serve` prints at start about the files' problems, as `gambero import`
    does: one warning a problem, then a count that says where to fix them."""
    lines = [f"warning: {problem}" for problem in problems]
    if lines:
        count = "1 problem" if len(lines) == 1 else f"{len(lines)} problems"
        lines.append(f"{count} in the event's files: rows with mistakes were skipped or kept "
                     "without the wrong value (the console's Participants section lists them: "
                     "fix them there, or in the file and restart)")
    return lines
