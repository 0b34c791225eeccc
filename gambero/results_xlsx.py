"""The results CSV as a spreadsheet (`gambero results --format xlsx`): a sheet with every race,
then one sheet per race, each with the CSV's header row (bold, frozen) and the CSV's cells.

The cells are taken from the CSV text itself, so the workbook cannot say anything the results
file does not: times stay text in the CSV's form (a spreadsheet would read "1:02:03.4" as a time
of day and "6:40" as a clock time), formula-looking text keeps the `'` the CSV puts in front of
it and is stored as text, never as a formula. Only the place columns and `laps`, whole numbers,
are numbers, so that they sort as numbers. Needs openpyxl (`pip install 'gambero[xlsx]'`).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from timing.model import Event

ALL_SHEET = "All"
NUMBER_COLUMNS = frozenset({"place", "gender_place", "category_place", "laps"})
SHEET_NAME_MAX = 31
"""Excel's limit; it also refuses the characters in `_NOT_IN_SHEET_NAME`."""
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
WIDTH_MAX = 40


def write_workbook(event: Event, results_csv: str, path: Path) -> None:
    workbook(event, results_csv).save(path)


def workbook(event: Event, results_csv: str) -> Workbook:
    header, *rows = list(csv.reader(io.StringIO(results_csv)))
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = ALL_SHEET
    _fill(sheet, header, rows)
    names = {ALL_SHEET.casefold()}
    race_column = header.index("race")
    for race in event.races:
        mine = [row for row in rows if row[race_column] == race.id]
        _fill(book.create_sheet(sheet_name(race.name or race.id, race.id, names)), header, mine)
    return book


def sheet_name(wanted: str, fallback: str, taken: set[str]) -> str:
    """`wanted` made a valid sheet name not in `taken` (compared as Excel does, ignoring case),
    which it joins."""
    base = _NOT_IN_SHEET_NAME.sub("-", wanted).strip("' ") or fallback
    name = base[:SHEET_NAME_MAX]
    number = 1
    while name.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        name = base[:SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def _fill(sheet: Worksheet, header: list[str], rows: list[list[str]]) -> None:
    bold = Font(bold=True)
    for column, title in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=column, value=_text(title))
        cell.font = bold
    numbers = {index for index, title in enumerate(header) if title in NUMBER_COLUMNS}
    widths = [len(title) for title in header]
    for row_number, row in enumerate(rows, start=2):
        for index, field in enumerate(row):
            target = sheet.cell(row=row_number, column=index + 1)
            if index in numbers and field.isdigit():
                target.value = int(field)
            elif field:
                # Set as text explicitly: openpyxl would take text starting with "=" for a
                # formula, whatever the CSV's neutralising `'` is for.
                target.value = _text(field)
                target.data_type = "s"
            widths[index] = max(widths[index], len(field))
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, WIDTH_MAX)


def _text(value: str) -> str:
    # The control characters XML cannot carry: names are refused with them at the API and in
    # participants.csv, so none should come; one that did is dropped, not a failed save.
    return ILLEGAL_CHARACTERS_RE.sub("", value)
