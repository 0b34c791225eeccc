"""participants.csv and adjustments.csv (SCORING.md). A bad row is reported with its line and
skipped (or, for a bad optional field, kept without that field); it never stops scoring. A file
whose header lacks a required column cannot be read at all and raises `CsvHeaderError`.

Every value is held to the ranges of docs/scoring.md ("Limits"): a bib or chip is an identifier
(no control or formatting character) as long as its database column at most; names, clubs,
categories and reasons are free text, their control characters replaced by spaces (and
reported) and their bidi controls closed (`timing.text.clean_free_text`), so that a name can
never reverse the page's text around it. A row the CSV reader cannot read (a cell over
`csv.field_size_limit()`, a carriage return in an unquoted cell) is skipped at its line; the
rows after it are read.
"""

from __future__ import annotations

import _csv
import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from timing.limits import (
    BIB_MAX,
    CATEGORY_MAX,
    CHIP_MAX,
    ID_MAX,
    NAME_MAX,
    PENALTY_MAX_MS,
    REASON_MAX,
)
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
from timing.text import clean_free_text, control_character, describe, isolate_bidi
from timing.tomlvalues import shown

PARTICIPANT_COLUMNS = ("bib", "first_name", "last_name", "gender", "birth_date", "race", "wave",
                       "chips", "club")
REQUIRED_PARTICIPANT_COLUMNS = ("bib", "first_name", "last_name", "gender", "race")
OPTIONAL_PARTICIPANT_COLUMNS = ("birth_date", "wave", "chips", "club", "category")
ADJUSTMENT_COLUMNS = ("bib", "kind", "value", "reason")

BIRTH_DATE_FIRST = date(1900, 1, 1)
"""The earliest birth date kept (the latest is the event date)."""
EXTRA_COLUMNS_MAX = 50
EXTRA_VALUE_MAX = 1000
"""Columns participants.csv may carry beyond its own (a shirt size, a team) are kept with each
athlete and stored as they are: at most this many columns, named by at most `ID_MAX`
printable characters, and values of at most this many characters, cut beyond (and reported).
Without bounds, a header of 100,000 columns would give every short row 100,000 empty values."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class CsvHeaderError(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    """The line the row starts on (a quoted cell may hold line breaks)."""
    values: dict[str, str]
    """The kept columns' values, stripped; empty for a row that could not be read."""
    error: str | None = None
    """Why the row could not be read (it is skipped); `values` may then hold its bib."""


def _read_csv(text: str, file_name: str, required: tuple[str, ...], known: tuple[str, ...],
              extras: int) -> tuple[list[Problem], Iterator[_Row]]:
    """The header's problems and the non-empty data rows. Columns other than `known` are kept,
    `extras` of them at most, if their names are short and printable."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvHeaderError(Problem(file_name, 1, "empty file: a header row is needed "
                                     f"({','.join(required)})")) from None
    except csv.Error as error:
        raise CsvHeaderError(Problem(file_name, 1, f"not readable as CSV: {error}")) from None
    columns = [column.strip().lower() for column in header]
    missing = [column for column in required if column not in columns]
    if missing:
        raise CsvHeaderError(Problem(file_name, 1, f"header lacks column(s) {', '.join(missing)}"
                                     f" (found: {shown(','.join(columns))})"))
    problems: list[Problem] = []
    kept: list[tuple[int, str]] = []
    kept_extras = 0
    left_out: list[str] = []
    for index, column in enumerate(columns):
        if column in known:
            kept.append((index, column))
        elif extras == 0:
            continue  # this file keeps no other column
        elif len(column) > ID_MAX or control_character(column, free=False) is not None:
            problems.append(Problem(file_name, 1, f"column {shown(column)}: a column name may "
                                    f"hold at most {ID_MAX} printable characters; its values "
                                    "are not kept"))
        elif kept_extras < extras:
            kept.append((index, column))
            kept_extras += 1
        else:
            left_out.append(column)
    if left_out:
        count = len(left_out) + extras
        problems.append(Problem(file_name, 1, f"{count} extra columns: only the first {extras} "
                                f"are kept ({left_out[0]} to {left_out[-1]} are not)"))
    return problems, _data_rows(reader, len(columns), kept)


def _data_rows(lines: _csv.Reader, width: int, kept: list[tuple[int, str]]) -> Iterator[_Row]:
    bib_index = next((index for index, name in kept if name == "bib"), None)
    line = lines.line_num
    while True:
        start = line + 1
        try:
            fields = next(lines)
        except StopIteration:
            return
        except csv.Error as error:
            if lines.line_num == line:  # no progress: never loop on one spot
                return
            line = lines.line_num
            yield _Row(start, {}, f"not readable as CSV: {error}")
            continue
        line = lines.line_num
        if not any(field.strip() for field in fields):
            continue
        if len(fields) > width:
            bib = fields[bib_index].strip() if bib_index is not None else ""
            yield _Row(start, {"bib": bib}, f"{len(fields)} fields for {width} columns")
            continue
        yield _Row(start, {name: fields[index].strip() if index < len(fields) else ""
                           for index, name in kept})


def _identifier_problem(text: str, what: str, max_length: int) -> str | None:
    if len(text) > max_length:
        return f"the {what} is longer than {max_length} characters ({len(text)})"
    char = control_character(text, free=False)
    if char is not None:
        return (f"the {what} holds the character {describe(char)}, which a {what} may not: "
                f"{shown(text)}")
    return None


def _control_note(raw: str, column: str) -> str | None:
    """What `clean_free_text` changed in `raw` that is worth saying (bidi closing is not)."""
    char = control_character(raw, free=True)
    if char is None:
        return None
    return f"{column} held the control character {describe(char)}; replaced by a space"


def parse_participants(text: str, event: Event, file_name: str = "participants.csv",
                       skipped: set[str] | None = None) -> tuple[list[Athlete], list[Problem]]:
    """The athletes of participants.csv and the problems found. Bibs of rows skipped for a
    mistake are added to `skipped` (an import must not take such a row for a withdrawal); a
    bib that is itself out of range names nobody and is not added."""
    skipped_bibs = skipped if skipped is not None else set()
    athletes: list[Athlete] = []
    bibs: set[str] = set()
    chip_owner: dict[str, str] = {}
    races = {race.id: race for race in event.races}
    known = (*PARTICIPANT_COLUMNS, "category")
    problems, rows = _read_csv(text, file_name, REQUIRED_PARTICIPANT_COLUMNS, known,
                               EXTRA_COLUMNS_MAX)
    for row in rows:
        def report(message: str, at: int = row.line) -> None:
            problems.append(Problem(file_name, at, message))

        bib = row.values.get("bib", "")
        bib_problem = _identifier_problem(bib, "bib", BIB_MAX)
        if row.error is not None:
            report(f"row skipped: {row.error}")
            if bib and bib_problem is None:
                skipped_bibs.add(bib)
            continue
        if not bib:
            report("row skipped: no bib")
            continue
        if bib_problem is not None:
            report(f"row skipped: {bib_problem}")
            continue
        if bib in bibs:
            report(f"row skipped: bib {bib} appears twice")
            continue
        values = row.values
        gender = values["gender"].upper()
        if gender not in GENDERS:
            report(f"bib {bib} skipped: gender must be F, M or X, not {shown(values['gender'])}")
            skipped_bibs.add(bib)
            continue
        race = races.get(values["race"])
        if race is None:
            report(f"bib {bib} skipped: no race has id {shown(values['race'])} "
                   f"(races: {', '.join(races)})")
            skipped_bibs.add(bib)
            continue
        names = {column: clean_free_text(values.get(column, ""))
                 for column in ("first_name", "last_name", "club")}
        # Measured as kept: closing an open override adds a character.
        too_long = next((column for column, name in names.items() if len(name) > NAME_MAX), None)
        if too_long is not None:
            report(f"bib {bib} skipped: {too_long} is longer than {NAME_MAX} characters "
                   f"({len(names[too_long])})")
            skipped_bibs.add(bib)
            continue
        for column in names:
            note = _control_note(values.get(column, ""), column)
            if note is not None:
                report(f"bib {bib}: {note}")
        birth_date, why = _birth_date(values.get("birth_date", ""), event.date)
        if why:
            report(f"bib {bib}: birth_date {shown(values['birth_date'])} {why}; kept without "
                   "it (no age category)")
        wave = values.get("wave") or None
        if wave is not None and race.wave(wave) is None:
            report(f"bib {bib}: race {race.id} has no wave {shown(wave)}; the race's gun applies")
            wave = None
        chips: list[str] = []
        for chip in values.get("chips", "").split():
            if len(chip) > CHIP_MAX:
                report(f"bib {bib}: chip is longer than {CHIP_MAX} characters ({len(chip)}); "
                       "not assigned")
                continue
            char = control_character(chip, free=False)
            if char is not None:
                report(f"bib {bib}: chip {shown(chip)} holds the character {describe(char)}, "
                       "which a chip may not; not assigned")
                continue
            owner = chip_owner.get(chip.lower())
            if owner is not None:
                report(f"bib {bib}: chip {chip} already belongs to bib {owner}; not assigned")
                continue
            chip_owner[chip.lower()] = bib
            chips.append(chip)
        category = clean_free_text(values.get("category", ""))
        if len(category) > CATEGORY_MAX:
            report(f"bib {bib}: category is longer than {CATEGORY_MAX} characters "
                   f"({len(category)}); the computed category applies")
            category = ""
        else:
            note = _control_note(values.get("category", ""), "category")
            if note is not None:
                report(f"bib {bib}: {note}")
        extra: list[tuple[str, str]] = []
        for key, written in values.items():
            if key not in known:
                kept, notes = _extra_value(written, key)
                extra.append((key, kept))
                for note in notes:
                    report(f"bib {bib}: {note}")
        bibs.add(bib)
        athletes.append(Athlete(
            bib=bib, first_name=names["first_name"], last_name=names["last_name"], gender=gender,
            race=race.id, birth_date=birth_date, wave=wave, chips=tuple(chips),
            club=names["club"],
            category=category or category_for(gender, birth_date, event.date, event.age_bounds),
            extra=tuple(extra),
        ))
    return athletes, problems


def _birth_date(written: str, event_date: date) -> tuple[date | None, str]:
    """The birth date, or None and why not (nothing written: None and no reason)."""
    if not written:
        return None, ""
    if not _DATE.fullmatch(written):
        return None, "is not YYYY-MM-DD"
    try:
        born = date.fromisoformat(written)
    except ValueError:
        return None, "is no real date"
    if not BIRTH_DATE_FIRST <= born <= event_date:
        return None, f"is not between {BIRTH_DATE_FIRST} and the event date {event_date}"
    return born, ""


def _extra_value(raw: str, column: str) -> tuple[str, list[str]]:
    """An extra column's value as kept (cleaned like a name, cut to `EXTRA_VALUE_MAX`), and
    what was done to it."""
    value = clean_free_text(raw)
    note = _control_note(raw, column)
    notes = [] if note is None else [note]
    if len(value) <= EXTRA_VALUE_MAX:
        return value, notes
    notes.append(f"{column} is longer than {EXTRA_VALUE_MAX} characters ({len(value)}); cut to "
                 f"{EXTRA_VALUE_MAX}")
    cut = value[:EXTRA_VALUE_MAX]
    # Closing what the cut text left open may lengthen it again: cut until it fits.
    while len(kept := isolate_bidi(cut)) > EXTRA_VALUE_MAX:
        cut = cut[:len(cut) - (len(kept) - EXTRA_VALUE_MAX)]
    return kept, notes


def parse_adjustments(text: str, bibs: set[str],
                      file_name: str = "adjustments.csv") -> tuple[list[Adjustment], list[Problem]]:
    adjustments: list[Adjustment] = []
    problems, rows = _read_csv(text, file_name, ADJUSTMENT_COLUMNS[:3], ADJUSTMENT_COLUMNS, 0)
    for row in rows:
        if row.error is not None:
            problems.append(Problem(file_name, row.line, f"row skipped: {row.error}"))
            continue
        adjustment, messages = _adjustment(row.values, bibs)
        problems.extend(Problem(file_name, row.line, message) for message in messages)
        if adjustment is not None:
            adjustments.append(adjustment)
    return adjustments, problems


def _adjustment(row: dict[str, str], bibs: set[str]) -> tuple[Adjustment | None, list[str]]:
    bib, kind, value = row["bib"], row["kind"].lower(), row["value"]
    if bib not in bibs:
        return None, [f"adjustment skipped: no participant has bib {shown(bib)}"]
    written_reason = row.get("reason", "")
    reason = clean_free_text(written_reason)
    if len(reason) > REASON_MAX:
        return None, [f"adjustment for bib {bib} skipped: reason is longer than {REASON_MAX} "
                      f"characters ({len(reason)})"]
    if kind == "status":
        status = value.upper()
        if status not in ADJUSTABLE_STATUSES:
            return None, [f"adjustment for bib {bib} skipped: status must be DQ, DNF or DNS, "
                          f"not {shown(value)}"]
        adjustment = Adjustment(bib, "status", status=_as_status(status), reason=reason)
    elif kind == "penalty":
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        # Compared before rounding, and again after: 86399.9999 s rounds to a whole day.
        if not (math.isfinite(seconds) and 0 <= seconds < PENALTY_MAX_MS / 1000
                and round(seconds * 1000) < PENALTY_MAX_MS):
            return None, [f"adjustment for bib {bib} skipped: a penalty is a number of seconds "
                          f"from 0 to under {PENALTY_MAX_MS // 1000}, not {shown(value)}"]
        adjustment = Adjustment(bib, "penalty", penalty_ms=round(seconds * 1000), reason=reason)
    else:
        return None, [f"adjustment for bib {bib} skipped: kind must be status or penalty, "
                      f"not {shown(row['kind'])}"]
    messages = []
    note = _control_note(written_reason, "reason")
    if note is not None:
        messages.append(f"adjustment for bib {bib}: {note}")
    if not reason:
        messages.append(f"adjustment for bib {bib} has no reason (applied; please give one)")
    return adjustment, messages


def _as_status(value: str) -> Status:
    for status in ADJUSTABLE_STATUSES:
        if status == value:
            return status
    raise ValueError(value)
