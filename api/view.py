"""Where the API's answers come from: `LiveState`, rows by bib at a journal sequence number.

In the process that runs the core, the live feed (`api.live.FrameSource`) keeps it current,
working out only the rows that changed; a request first brings it up to the last commit, so an
answer given after an ingest acknowledgement includes those reads. A web-only process
(`gambero serve --web-only`) keeps it from the frames the core publishes through Redis. The
websocket's snapshots come from it too, so a snapshot and the deltas after it agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from api.rows import Row, results_csv_from_rows, row_json, sort_key, split_columns
from timing.model import Event, Race, Wave
from timing.results import header
from timing.standings import Standings


class ResultsView(Protocol):
    event: Event

    @property
    def seq(self) -> int: ...

    def race(self, race_id: str) -> Race:
        """The race with its current guns; KeyError if unknown."""

    def rows(self, race_id: str) -> list[Row]:
        """A race's rows in the results file's order."""

    def row(self, bib: str) -> Row | None: ...

    def results_csv(self, race_id: str) -> str: ...


class RowMaker:
    """Builds API rows from standings (the columns are worked out once)."""

    def __init__(self, standings: Standings) -> None:
        self.standings = standings
        self.columns = header(standings.event)
        self.split_points = split_columns(standings.event)

    def row(self, bib: str) -> Row:
        result = self.standings.result(bib)
        return row_json(result, self.standings.race(result.race), self.columns,
                        self.split_points, self.standings.timeline(bib))

    def race_rows(self, race_id: str) -> list[Row]:
        standings = self.standings
        return [row_json(result, standings.race(race_id), self.columns, self.split_points,
                         standings.timeline(result.bib))
                for result in standings.results(race_id)]


class LiveState:
    """Rows by bib as of sequence number `seq`, and each race's guns."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self._seq = 0
        self._races: dict[str, Race] = {race.id: race for race in event.races}
        self._rows: dict[str, Row] = {}
        self._by_race: dict[str, set[str]] = {race.id: set() for race in event.races}
        self._order = {race.id: index for index, race in enumerate(event.races)}
        self._sorted: dict[str, list[Row]] = {}

    @property
    def seq(self) -> int:
        return self._seq

    def race(self, race_id: str) -> Race:
        return self._races[race_id]

    def races(self) -> list[Race]:
        return list(self._races.values())

    def row(self, bib: str) -> Row | None:
        return self._rows.get(bib)

    def bibs(self, race_id: str) -> set[str]:
        return self._by_race.get(race_id, set())

    def rows(self, race_id: str) -> list[Row]:
        self._races[race_id]
        rows = self._sorted.get(race_id)
        if rows is None:
            rows = sorted((self._rows[bib] for bib in self._by_race[race_id]),
                          key=lambda row: sort_key(row, self._order))
            self._sorted[race_id] = rows
        return rows

    def results_csv(self, race_id: str) -> str:
        return results_csv_from_rows(self.event, self.rows(race_id))

    # -- changes -------------------------------------------------------------------------------

    def set_guns(self, race_id: str, gun_ms: int | None, waves: Iterable[tuple[str, int | None]]
                 ) -> None:
        race = self._races[race_id]
        self._races[race_id] = replace(race, gun_ms=gun_ms,
                                       waves=tuple(Wave(wave, gun) for wave, gun in waves))

    def put(self, rows: Iterable[Row]) -> None:
        for row in rows:
            bib = row["bib"]
            previous = self._rows.get(bib)
            if previous is not None:
                self._by_race[previous["race"]].discard(bib)
                self._sorted.pop(previous["race"], None)
            self._rows[bib] = row
            self._by_race.setdefault(row["race"], set()).add(bib)
            self._sorted.pop(row["race"], None)

    def replace_race(self, race_id: str, rows: Iterable[Row]) -> None:
        for bib in list(self._by_race.get(race_id, ())):
            del self._rows[bib]
        self._by_race[race_id] = set()
        self._sorted.pop(race_id, None)
        self.put(rows)

    def advance(self, seq: int) -> None:
        self._seq = seq

    def clear(self) -> None:
        self._rows.clear()
        self._sorted.clear()
        self._by_race = {race_id: set() for race_id in self._races}
