"""participants.csv and adjustments.csv (SCORING.md). A bad row is reported with its line and
skipped (or, for a bad optional field, kept without that field); it never stops scoring. A file
whose header lacks a required column cannot be read at all and raises `CsvHeaderError`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import date

from timing.model import (
    ADJUSTABLE_STATUSES,
    GENDERS,
    Adjustment,
    Athlete,
    Event,
    Problem,
    Status,
)
from timing.rules import category_for

PARTICIPANT_COLUMNS = ("bib", "first_name", "last_name", "gender", "birth_date", "race", "wave",
                       "chips", "club")
REQUIRED_PARTICIPANT_COLUMNS = ("bib", "first_name", "last_name", "gender", "race")
OPTIONAL_PARTICIPANT_COLUMNS = ("birth_date", "wave", "chips", "club", "category")
ADJUSTMENT_COLUMNS = ("bib", "kind", "value", "reason")


class CsvHeaderError(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _rows(text: str, file_name: str,
          required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row with stripped values) for each non-empty data row."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvHeaderError(Problem(file_name, 1, "empty file: a header row is needed "
                                     f"({','.join(required)})")) from None
    columns = [column.strip().lower() for column in header]
    missing = [column for column in required if column not in columns]
    if missing:
        raise CsvHeaderError(Problem(file_name, 1, f"header lacks column(s) {', '.join(missing)}"
                                     f" (found: {','.join(columns)})"))
    line = reader.line_num
    for fields in reader:
        start, line = line + 1, reader.line_num
        if not any(field.strip() for field in fields):
            continue
        if len(fields) > len(columns):
            error = {"__error__": f"{len(fields)} fields for {len(columns)} columns"}
            if "bib" in columns:
                error["bib"] = fields[columns.index("bib")].strip()
            yield start, error
            continue
        values = [field.strip() for field in fields] + [""] * (len(columns) - len(fields))
        yield start, dict(zip(columns, values, strict=True))


def parse_participants(text: str, event: Event, file_name: str = "participants.csv",
                       skipped: set[str] | None = None) -> tuple[list[Athlete], list[Problem]]:
    """The athletes of participants.csv and the problems found. Bibs of rows skipped for a
    mistake are added to `skipped` (an import must not take such a row for a withdrawal)."""
    problems: list[Problem] = []
    skipped_bibs = skipped if skipped is not None else set()
    athletes: list[Athlete] = []
    bibs: set[str] = set()
    chip_owner: dict[str, str] = {}
    races = {race.id: race for race in event.races}
    try:
        rows = list(_rows(text, file_name, REQUIRED_PARTICIPANT_COLUMNS))
    except csv.Error as error:
        raise CsvHeaderError(Problem(file_name, None, f"not readable as CSV: {error}")) from None
    for line, row in rows:
        def report(message: str, at: int = line) -> None:
            problems.append(Problem(file_name, at, message))

        if "__error__" in row:
            report(f"row skipped: {row['__error__']}")
            if row.get("bib"):
                skipped_bibs.add(row["bib"])
            continue
        bib = row["bib"]
        if not bib:
            report("row skipped: no bib")
            continue
        if bib in bibs:
            report(f"row skipped: bib {bib} appears twice")
            continue
        gender = row["gender"].upper()
        if gender not in GENDERS:
            report(f"bib {bib} skipped: gender must be F, M or X, not {row['gender']!r}")
            skipped_bibs.add(bib)
            continue
        race = races.get(row["race"])
        if race is None:
            report(f"bib {bib} skipped: no race has id {row['race']!r} "
                   f"(races: {', '.join(races)})")
            skipped_bibs.add(bib)
            continue
        birth_date = None
        if row.get("birth_date"):
            try:
                birth_date = date.fromisoformat(row["birth_date"])
            except ValueError:
                report(f"bib {bib}: birth_date {row['birth_date']!r} is not YYYY-MM-DD; "
                       "kept without it (no age category)")
        wave = row.get("wave") or None
        if wave is not None and race.wave(wave) is None:
            report(f"bib {bib}: race {race.id} has no wave {wave!r}; the race's gun applies")
            wave = None
        chips: list[str] = []
        for chip in row.get("chips", "").split():
            owner = chip_owner.get(chip.lower())
            if owner is not None:
                report(f"bib {bib}: chip {chip} already belongs to bib {owner}; not assigned")
                continue
            chip_owner[chip.lower()] = bib
            chips.append(chip)
        category = row.get("category") or category_for(gender, birth_date, event.date,
                                                        event.age_bounds)
        bibs.add(bib)
        known = set(PARTICIPANT_COLUMNS) | {"category"}
        athletes.append(Athlete(
            bib=bib, first_name=row["first_name"], last_name=row["last_name"], gender=gender,
            race=race.id, birth_date=birth_date, wave=wave, chips=tuple(chips),
            club=row.get("club", ""), category=category,
            extra=tuple((key, value) for key, value in row.items() if key not in known),
        ))
    return athletes, problems


def parse_adjustments(text: str, bibs: set[str],
                      file_name: str = "adjustments.csv") -> tuple[list[Adjustment], list[Problem]]:
    problems: list[Problem] = []
    adjustments: list[Adjustment] = []
    try:
        rows = list(_rows(text, file_name, ADJUSTMENT_COLUMNS[:3]))
    except csv.Error as error:
        raise CsvHeaderError(Problem(file_name, None, f"not readable as CSV: {error}")) from None
    for line, row in rows:
        if "__error__" in row:
            problems.append(Problem(file_name, line, f"row skipped: {row['__error__']}"))
            continue
        adjustment, message = _adjustment(row, bibs)
        if message:
            problems.append(Problem(file_name, line, message))
        if adjustment is not None:
            adjustments.append(adjustment)
    return adjustments, problems


def _adjustment(row: dict[str, str], bibs: set[str]) -> tuple[Adjustment | None, str]:
    bib, kind, value, reason = row["bib"], row["kind"].lower(), row["value"], row.get("reason", "")
    if bib not in bibs:
        return None, f"adjustment skipped: no participant has bib {bib!r}"
    if kind == "status":
        status = value.upper()
        if status not in ADJUSTABLE_STATUSES:
            return None, (f"adjustment for bib {bib} skipped: status must be DQ, DNF or DNS, "
                          f"not {value!r}")
        adjustment = Adjustment(bib, "status", status=_as_status(status), reason=reason)
    elif kind == "penalty":
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0:
            return None, (f"adjustment for bib {bib} skipped: a penalty is a number of seconds "
                          f">= 0, not {value!r}")
        adjustment = Adjustment(bib, "penalty", penalty_ms=round(seconds * 1000), reason=reason)
    else:
        return None, (f"adjustment for bib {bib} skipped: kind must be status or penalty, "
                      f"not {row['kind']!r}")
    if not reason:
        return adjustment, f"adjustment for bib {bib} has no reason (applied; please give one)"
    return adjustment, ""


def _as_status(value: str) -> Status:
    for status in ADJUSTABLE_STATUSES:
        if status == value:
            return status
    raise ValueError(value)
