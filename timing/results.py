"""Result rows and the results CSV of SCORING.md ("The results CSV")."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from timing.model import Adjustment, Event, Status
from timing.rules import bib_order, format_duration

BASE_COLUMNS: tuple[str, ...] = (
    "race", "place", "bib", "first_name", "last_name", "gender", "gender_place", "category",
    "category_place", "status", "gun_time", "chip_time", "laps",
)
EXTRA_COLUMNS: tuple[str, ...] = ("club", "penalty")
"""After the split columns (SCORING.md allows more columns anywhere; at the end, a program that
reads the SCORING.md columns by position still finds them where it did)."""

NON_FINISHER_ORDER: dict[str, int] = {"DNF": 0, "DQ": 1, "DNS": 2}
"""SCORING.md leaves the order of non-finishers open; we list them as most timing software
does: those who started and stopped, then the disqualified, then those who never started."""


@dataclass(frozen=True, slots=True)
class ResultRow:
    race: str
    place: int | None
    bib: str
    first_name: str
    last_name: str
    gender: str
    gender_place: int | None
    category: str
    category_place: int | None
    status: Status
    gun_ms: int | None
    """Gun time at full resolution (ms), penalties included; None unless FIN."""
    chip_ms: int | None
    laps: int
    splits: tuple[tuple[str, int], ...]
    """(split point id, ms from the ranking origin), for the split points passed."""
    precision_ms: int
    adjustments: tuple[Adjustment, ...] = ()
    club: str = ""

    @property
    def penalty_ms(self) -> int:
        """The athlete's total time penalty (every penalty adjustment counts, as in the times)."""
        return sum(item.penalty_ms for item in self.adjustments if item.kind == "penalty")

    def split_ms(self, point: str) -> int | None:
        for point_id, ms in self.splits:
            if point_id == point:
                return ms
        return None


def sort_rows(rows: Iterable[ResultRow], race_order: dict[str, int]) -> list[ResultRow]:
    def key(row: ResultRow) -> tuple[int, tuple[int, int, tuple[int, int, str]]]:
        return (race_order[row.race], result_order(row.place, row.status, row.bib))
    return sorted(rows, key=key)


def result_order(place: int | None, status: str, bib: str
                 ) -> tuple[int, int, tuple[int, int, str]]:
    """Order within a race: finishers by place, then the others by `NON_FINISHER_ORDER`;
    bib order among equals."""
    if place is not None:
        return (0, place, bib_order(bib))
    return (1, NON_FINISHER_ORDER.get(status, 3), bib_order(bib))


def header(event: Event) -> list[str]:
    """The CSV header: base columns, then `split_<id>` for every split point any race uses,
    in the order of event.toml (a race without that split leaves the column empty), then
    `EXTRA_COLUMNS`."""
    return [*BASE_COLUMNS, *(f"split_{point}" for point in split_points(event)), *EXTRA_COLUMNS]


def split_points(event: Event) -> list[str]:
    """The split point ids that have a CSV column, in the CSV's order."""
    used = {point for race in event.races for point in race.split_points}
    return [point.id for point in event.points if point.id in used]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet will show, never run: text starting with `=`, `+`, `-`, `@`, a
    tab or a carriage return (a formula to Excel, LibreOffice and Google Sheets) gets a `'` in
    front, as OWASP advises against CSV injection; a number (`-5`) stays as it is. Places and
    times never start so. docs/scoring.md, "The results CSV"."""
    if value.startswith(_FORMULA_START) and _NUMBER.fullmatch(value) is None:
        return "'" + value
    return value


def csv_fields(row: ResultRow, splits: Sequence[str]) -> list[str]:
    """The row's fields in `header` order; `splits` from `split_points`."""
    def number(value: int | None) -> str:
        return "" if value is None else str(value)

    def duration(value: int | None) -> str:
        return "" if value is None else format_duration(value, row.precision_ms)

    fields = [
        row.race, number(row.place), row.bib, row.first_name, row.last_name, row.gender,
        number(row.gender_place), row.category, number(row.category_place), row.status,
        duration(row.gun_ms), duration(row.chip_ms), str(row.laps),
    ]
    fields.extend(duration(row.split_ms(point)) for point in splits)
    fields.extend((row.club, duration(row.penalty_ms or None)))
    return fields


def results_csv(event: Event, rows: Iterable[ResultRow]) -> str:
    """The whole results file as text (CRLF-free: one `\\n` per row)."""
    splits = split_points(event)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_safe(column) for column in header(event)])
    for row in rows:
        writer.writerow([spreadsheet_safe(field) for field in csv_fields(row, splits)])
    return out.getvalue()
