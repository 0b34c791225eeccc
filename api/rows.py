"""Result rows as the API shows them (docs/api.md, "Row"), and what is derived from rows alone.

A row carries the results CSV's fields under the CSV's names and with the CSV's text (so that
the pages show exactly what the results file says), place-like fields as integers, and the
times in milliseconds. Two extensions make every other answer computable from rows alone, which
is what a web-only process has (`api.view.LiveState`): `start_ms` (the ranking origin: the
athlete's gun, or chip start when the race ranks by chip time) and `passings_ms` (the finish
passings). No private data: no birth date, no chip code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from timing.model import Event, Race
from timing.results import (
    NON_FINISHER_ORDER,
    ResultRow,
    csv_fields,
    header,
    split_points,
    spreadsheet_safe,
)
from timing.rules import bib_order, format_duration
from timing.search import finds, name_words, query_words

Row = dict[str, Any]
PLACE_FIELDS = ("place", "gender_place", "category_place")
MILE_M = 1609.344


def split_columns(event: Event) -> list[str]:
    """The split point ids that have a CSV column, in the CSV's order."""
    return split_points(event)


def row_json(row: ResultRow, race: Race, columns: Sequence[str], split_points: Sequence[str],
             timeline: tuple[int | None, tuple[int, ...]]) -> Row:
    """The API row of `row`; `columns`/`split_points` from `header`/`split_columns`."""
    out: Row = dict(zip(columns, csv_fields(row, split_points), strict=True))
    out["place"], out["gender_place"] = row.place, row.gender_place
    out["category_place"] = row.category_place
    origin, passings = timeline
    out["club"] = row.club
    out["gun_ms"] = row.gun_ms
    out["chip_ms"] = row.chip_ms
    out["finish_ms"] = passings[race.laps - 1] if len(passings) >= race.laps else None
    out["splits_ms"] = dict(row.splits)
    out["start_ms"] = origin
    out["passings_ms"] = list(passings)
    return out


def sort_key(row: Row, race_order: dict[str, int]) -> tuple[int, int, int, tuple[int, int, str]]:
    """The results file's order (`timing.results.sort_rows`) for API rows."""
    race = race_order.get(row["race"], len(race_order))
    if row["place"] is not None:
        return (race, 0, row["place"], bib_order(row["bib"]))
    return (race, 1, NON_FINISHER_ORDER.get(row["status"], 3), bib_order(row["bib"]))


def results_csv_from_rows(event: Event, rows: Iterable[Row]) -> str:
    """`timing.results.results_csv` from API rows (sorted already): the same bytes."""
    columns = header(event)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_safe(column) for column in columns])
    for row in rows:
        writer.writerow(["" if row[c] is None else spreadsheet_safe(str(row[c]))
                         for c in columns])
    return out.getvalue()


def matches(row: Row, gender: str | None, category: str | None, query: str | None) -> bool:
    """The results filters: gender, category, and `query` = a bib exactly, or the beginnings
    of the name's words in any order, accents, case and apostrophes ignored
    (`timing.search`)."""
    if gender and row["gender"] != gender:
        return False
    if category and row["category"] != category:
        return False
    if query:
        text = query.strip()
        if row["bib"] == text:
            return True
        wanted = query_words(text)
        return bool(wanted) and finds(wanted, name_words(row["first_name"], row["last_name"]))
    return True


def race_json(race: Race, rows: Sequence[Row]) -> Row:
    return {
        "id": race.id, "name": race.name, "distance_m": race.distance_m, "laps": race.laps,
        "gun_ms": race.gun_ms, "record_ms": race.record_ms,
        "waves": [{"id": wave.id, "gun_ms": wave.gun_ms} for wave in race.waves],
        "points": [*race.split_points, race.finish_point],
        "categories": sorted({row["category"] for row in rows if row["category"]}),
        "entrants": len(rows),
        "finishers": sum(1 for row in rows if row["status"] == "FIN"),
    }


def athlete_json(row: Row, race: Race, race_rows: Sequence[Row]) -> Row:
    """One athlete: the row plus splits with the place at each, lap times and pace."""
    out = dict(row)
    out["race_name"] = race.name
    precision = race.precision_ms
    splits = []
    for point in race.split_points:
        ms = row["splits_ms"].get(point)
        if ms is None:
            continue
        faster = sum(1 for other in race_rows
                     if (other_ms := other["splits_ms"].get(point)) is not None and other_ms < ms)
        splits.append({"point": point, "ms": ms, "time": format_duration(ms, precision),
                       "place": faster + 1})
    ranked = _ranked_ms(row, race)
    if ranked is not None:
        splits.append({"point": race.finish_point, "ms": ranked,
                       "time": format_duration(ranked, precision), "place": row["place"]})
    out["splits"] = splits
    laps = []
    previous = row["start_ms"]
    for number, passing in enumerate(row["passings_ms"], start=1):
        if previous is not None:
            laps.append({"lap": number, "ms": passing - previous,
                         "time": format_duration(passing - previous, precision)})
        previous = passing
    out["laps"] = laps
    out["pace_per_km"] = _pace(ranked, race.distance_m, 1000.0)
    out["pace_per_mile"] = _pace(ranked, race.distance_m, MILE_M)
    return out


def _ranked_ms(row: Row, race: Race) -> int | None:
    if row["status"] != "FIN":
        return None
    value = row["gun_ms"] if race.rank_by == "gun" else row["chip_ms"]
    return None if value is None else int(value)


def _pace(ms: int | None, distance_m: float | None, unit_m: float) -> str | None:
    if ms is None or not distance_m:
        return None
    return format_duration(round(ms * unit_m / distance_m), 1000)
