"""The example event, and edited copies of it, for the import tests (store and command line)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "backwards-mile"
EXAMPLE_NAME = "Backwards Mile 2026"
EXAMPLE_BIBS = [str(bib) for bib in range(1, 271)] + [str(bib) for bib in range(501, 531)]

NEW_CHIP = "0580001299AA"
ADDED = {"bib": "531", "first_name": "Nuova", "last_name": "Iscritta", "gender": "F",
         "birth_date": "2014-02-02", "race": "kids", "wave": "", "chips": "058000121df0",
         "club": "Gambero Athletic"}
EDIT_REPORT = {
    "3": ["first_name"],      # Sofia -> Sofie
    "5": ["chips"],           # a new chip
    "8": ["chips"],           # 8 and 9 swap chips
    "9": ["chips"],
    "41": ["wave"],           # open -> elite
}
"""What re-importing `edit_participants`' changes must report as changed."""


def copy_example(destination: Path) -> Path:
    """A copy of the example event folder; returns its event.toml."""
    shutil.copytree(EXAMPLE, destination)
    return destination / "event.toml"


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        rows = list(reader)
        assert reader.fieldnames is not None
        return list(reader.fieldnames), rows


def write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def edit_participants(event_toml: Path) -> None:
    """One name changed, one athlete to another wave, a new chip, two athletes swapping chips,
    bib 270 removed, bib 531 added (EDIT_REPORT)."""
    path = event_toml.parent / "participants.csv"
    columns, rows = read_rows(path)
    by_bib = {row["bib"]: row for row in rows}
    assert (by_bib["3"]["first_name"], by_bib["41"]["wave"]) == ("Sofia", "open")
    by_bib["3"]["first_name"] = "Sofie"
    by_bib["41"]["wave"] = "elite"
    by_bib["5"]["chips"] = NEW_CHIP
    by_bib["8"]["chips"], by_bib["9"]["chips"] = by_bib["9"]["chips"], by_bib["8"]["chips"]
    rows = [row for row in rows if row["bib"] != "270"]
    rows.append(dict(ADDED))
    write_rows(path, columns, rows)
