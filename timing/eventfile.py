"""event.toml -> `Event`, with every mistake reported at its line (SCORING.md, "The event
directory"). Mistakes in event.toml are fatal (`EventFileError` lists them all at once): a race
cannot be scored with a wrong gun or a reader on a missing point. participants.csv and
adjustments.csv are read by `timing.participants`, where a bad row is reported and skipped.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path as FilePath
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from timing.clock import EventClock
from timing.model import (
    PRECISIONS_MS,
    Adjustment,
    Athlete,
    Event,
    Point,
    PointKind,
    Problem,
    Race,
    RankBy,
    ReaderConfig,
    Wave,
)
from timing.participants import parse_adjustments, parse_participants
from timing.tomlindex import Path, TomlIndex

_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")


_DURATION = re.compile(r"(?:(\d+):)?([0-5]?\d):([0-5]\d(?:\.\d{1,3})?)")

class EventFileError(Exception):
    """event.toml (or a file it needs) cannot be used; `problems` says every reason and where."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class EventFiles:
    """Everything an event directory holds, with the problems found on the way."""

    event: Event
    directory: FilePath
    athletes: list[Athlete]
    adjustments: list[Adjustment]
    problems: list[Problem] = field(default_factory=list)
    skipped_bibs: set[str] = field(default_factory=set)
    """Bibs whose participants.csv row was skipped for a mistake (reported in `problems`)."""


def load_event(path: str | FilePath, formats: Collection[str] | None = None) -> EventFiles:
    """Read event.toml, participants.csv and (if present) adjustments.csv beside it.

    `formats`: the reader formats a reader may name (None: any)."""
    toml_path = FilePath(path)
    event = parse_event_toml(_read_text(toml_path), str(toml_path), formats)
    directory = toml_path.parent
    participants_path = directory / "participants.csv"
    skipped: set[str] = set()
    athletes, problems = parse_participants(_read_text(participants_path), event,
                                            str(participants_path), skipped)
    adjustments: list[Adjustment] = []
    adjustments_path = directory / "adjustments.csv"
    if adjustments_path.exists():
        adjustments, more = parse_adjustments(
            _read_text(adjustments_path), {athlete.bib for athlete in athletes},
            str(adjustments_path))
        problems.extend(more)
    return EventFiles(event, directory, athletes, adjustments, problems, skipped)


def _read_text(path: FilePath) -> str:
    """A UTF-8 file's text (a byte-order mark, as spreadsheet programs write, is dropped)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        problem = Problem(str(path), None, f"cannot read: {error.strerror}")
    except UnicodeDecodeError as error:
        problem = Problem(str(path), None,
                          f"not UTF-8 text ({error.reason} at byte {error.start})")
    raise EventFileError([problem])


def parse_event_toml(text: str, file_name: str = "event.toml",
                     formats: Collection[str] | None = None) -> Event:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        line = int(match.group(1)) if match else None
        raise EventFileError([Problem(file_name, line, f"not valid TOML: {error}")]) from None
    return _EventBuilder(document, TomlIndex(text), file_name, formats).build()


class _EventBuilder:
    def __init__(self, document: dict[str, Any], index: TomlIndex, file_name: str,
                 formats: Collection[str] | None) -> None:
        self.formats = formats
        self.document = document
        self.index = index
        self.file_name = file_name
        self.problems: list[Problem] = []

    def fail(self, path: Path, message: str) -> None:
        where = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in path)
        where = where.replace(".[", "[")
        self.problems.append(Problem(self.file_name, self.index.line(path), f"{where}: {message}"))

    def build(self) -> Event:
        header = self.table(("event",))
        name = self.text(("event", "name"), header.get("name"), required=True)
        event_date = self.event_date(header.get("date"))
        timezone = self.timezone(header.get("timezone"))
        age_bounds = self.age_bounds(self.table(("categories",), optional=True))
        points = self.points()
        clock = EventClock(event_date or date(2000, 1, 1), timezone or "UTC")
        races = self.races(points, clock)
        readers = self.readers(points)
        if self.problems or event_date is None or timezone is None:
            raise EventFileError(self.problems)
        return Event(name=name, date=event_date, timezone=timezone, races=races,
                     points=points, readers=readers, age_bounds=age_bounds)

    # -- small typed accessors ---------------------------------------------------------------

    def table(self, path: Path, optional: bool = False) -> dict[str, Any]:
        value = self.document.get(cast(str, path[0]))
        if value is None:
            if not optional:
                self.fail(path, "missing table")
            return {}
        if not isinstance(value, dict):
            self.fail(path, "must be a table")
            return {}
        return value

    def array(self, key: str) -> list[dict[str, Any]]:
        value = self.document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail((key,), f"must be an array of tables ([[{key}]])")
            return []
        return value

    def text(self, path: Path, value: object, required: bool = False, default: str = "") -> str:
        if value is None:
            if required:
                self.fail(path, "missing")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(path, f"must be a non-empty string, not {value!r}")
            return default
        return value

    def number(self, path: Path, value: object, default: float | None,
               minimum: float = 0.0) -> float | None:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value) or value < minimum:
            self.fail(path, f"must be a number >= {minimum:g}, not {value!r}")
            return default
        return float(value)

    def ident(self, path: Path, value: object, seen: set[str]) -> str:
        identifier = self.text(path, value, required=True)
        if identifier in seen:
            self.fail(path, f"id {identifier!r} is used twice")
        seen.add(identifier)
        return identifier

    # -- sections ----------------------------------------------------------------------------

    def event_date(self, value: object) -> date | None:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(("event", "date"), "missing (a date YYYY-MM-DD)" if value is None
                  else f"must be a date YYYY-MM-DD, not {value!r}")
        return None

    def timezone(self, value: object) -> str | None:
        if not isinstance(value, str):
            self.fail(("event", "timezone"), "missing (an IANA zone such as \"Europe/Rome\")"
                      if value is None else f"must be an IANA zone such as \"Europe/Rome\", "
                      f"not {value!r}")
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(("event", "timezone"), f"unknown time zone {value!r}")
            return None
        return value

    def age_bounds(self, categories: dict[str, Any]) -> tuple[int, ...]:
        value = categories.get("age_bounds", [])
        path: Path = ("categories", "age_bounds")
        if not isinstance(value, list) or not all(
                isinstance(bound, int) and not isinstance(bound, bool) and bound >= 0
                for bound in value):
            self.fail(path, f"must be a list of whole ages, not {value!r}")
            return ()
        if any(high <= low for low, high in itertools.pairwise(value)):
            self.fail(path, f"must rise strictly: {value!r}")
            return ()
        return tuple(value)

    def points(self) -> tuple[Point, ...]:
        points: list[Point] = []
        seen: set[str] = set()
        for number, table in enumerate(self.array("points")):
            path: Path = ("points", number)
            point_id = self.ident((*path, "id"), table.get("id"), seen)
            kind = table.get("kind")
            if kind not in ("start", "split", "finish"):
                self.fail((*path, "kind"), f"must be start, split or finish, not {kind!r}")
                kind = "split"
            distance = self.number((*path, "distance_m"), table.get("distance_m"), None)
            points.append(Point(point_id, cast(PointKind, kind), distance))
        if not points:
            self.fail(("points",), "an event needs at least a finish point ([[points]])")
        return tuple(points)

    def gun(self, path: Path, value: object, clock: EventClock) -> int | None:
        if value is None:
            return None
        moment = parse_local_time(value)
        if moment is None:
            self.fail(path, f"must be a time of day HH:MM[:SS[.fff]] or a local date and time "
                            f"YYYY-MM-DDTHH:MM:SS, not {value!r}")
            return None
        if isinstance(moment, time):
            return clock.time_of_day_ms(moment)
        if moment.tzinfo is not None:
            return int(moment.timestamp() * 1000)
        return clock.local_ms(moment)

    def duration(self, path: Path, value: object) -> int | None:
        """A time like the results show it ("6:40", "1:02:03.4"), or seconds; in ms."""
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return round(value * 1000)
        match = _DURATION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.fail(path, f"must be a time like \"6:40\" or \"1:02:03.4\" (or seconds), "
                            f"not {value!r}")
            return None
        hours, minutes, seconds = match.groups()
        return round((int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)

    def races(self, points: tuple[Point, ...], clock: EventClock) -> tuple[Race, ...]:
        races: list[Race] = []
        seen: set[str] = set()
        for number, table in enumerate(self.array("races")):
            races.append(self.race(("races", number), table, points, clock, seen))
        if not races:
            self.fail(("races",), "an event needs at least one race ([[races]])")
        return tuple(races)

    def race(self, path: Path, table: dict[str, Any], points: tuple[Point, ...],
             clock: EventClock, seen: set[str]) -> Race:
        race_id = self.ident((*path, "id"), table.get("id"), seen)
        name = self.text((*path, "name"), table.get("name"), default=race_id)
        laps = table.get("laps", 1)
        if isinstance(laps, bool) or not isinstance(laps, int) or laps < 1:
            self.fail((*path, "laps"), f"must be a whole number >= 1, not {laps!r}")
            laps = 1
        rank_by = table.get("rank_by", "gun")
        if rank_by not in ("gun", "chip"):
            self.fail((*path, "rank_by"), f"must be \"gun\" or \"chip\", not {rank_by!r}")
            rank_by = "gun"
        min_lap_s = self.number((*path, "min_lap_s"), table.get("min_lap_s"), 0.0) or 0.0
        precision = table.get("precision", "s")
        precision_key = {1: "s", 0.1: "0.1", 0.01: "0.01"}.get(precision, precision) \
            if isinstance(precision, int | float) else precision
        if precision_key not in PRECISIONS_MS:
            self.fail((*path, "precision"), f"must be \"s\", \"0.1\" or \"0.01\", "
                                            f"not {precision!r}")
            precision_key = "s"
        used = self.race_points(path, table.get("points"), points)
        start = [point.id for point in used if point.kind == "start"]
        finish = [point.id for point in used if point.kind == "finish"]
        if len(finish) != 1 or len(start) > 1:
            self.fail((*path, "points") if "points" in table else path,
                      f"race {race_id!r} must use exactly one finish point and at most one "
                      f"start point (it has finish {finish or 'none'}, start {start or 'none'})"
                      f"; list its points with points = [...]")
        waves: list[Wave] = []
        wave_ids: set[str] = set()
        for wave_number, wave in enumerate(table.get("waves", [])):
            wave_path = (*path, "waves", wave_number)
            if not isinstance(wave, dict):
                self.fail(wave_path, "must be a table ([[races.waves]])")
                continue
            waves.append(Wave(self.ident((*wave_path, "id"), wave.get("id"), wave_ids),
                              self.gun((*wave_path, "gun"), wave.get("gun"), clock)))
        return Race(
            id=race_id, name=name,
            distance_m=self.number((*path, "distance_m"), table.get("distance_m"), None),
            gun_ms=self.gun((*path, "gun"), table.get("gun"), clock), laps=laps,
            rank_by=cast(RankBy, rank_by), min_lap_ms=round(min_lap_s * 1000),
            precision_ms=PRECISIONS_MS[precision_key], points=tuple(p.id for p in used),
            start_point=start[0] if start else None, finish_point=finish[0] if finish else "",
            split_points=tuple(point.id for point in used if point.kind == "split"),
            waves=tuple(waves), record_ms=self.duration((*path, "record"), table.get("record")),
        )

    def race_points(self, path: Path, listed: object,
                    points: tuple[Point, ...]) -> list[Point]:
        if listed is None:
            return list(points)
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            self.fail((*path, "points"), f"must be a list of point ids, not {listed!r}")
            return list(points)
        known = {point.id for point in points}
        for missing in [item for item in listed if item not in known]:
            self.fail((*path, "points"), f"no point has id {missing!r}")
        # Event order, whatever order the race lists them in (the CSV's split columns follow it).
        return [point for point in points if point.id in listed]

    def readers(self, points: tuple[Point, ...]) -> tuple[ReaderConfig, ...]:
        readers: list[ReaderConfig] = []
        seen: set[str] = set()
        known_points = {point.id for point in points}
        for number, table in enumerate(self.array("readers")):
            path: Path = ("readers", number)
            reader_id = self.ident((*path, "id"), table.get("id"), seen)
            point = self.text((*path, "point"), table.get("point"), required=True)
            if point and point not in known_points:
                self.fail((*path, "point"), f"no point has id {point!r}")
            reader_format = self.text((*path, "format"), table.get("format"), required=True)
            if reader_format and self.formats is not None and reader_format not in self.formats:
                self.fail((*path, "format"), f"unknown reader format {reader_format!r} "
                                             f"(known: {', '.join(self.formats)})")
            offset = self.number((*path, "clock_offset_s"), table.get("clock_offset_s"), 0.0,
                                 minimum=-math.inf) or 0.0
            baud = table.get("baud")
            if baud is not None and (isinstance(baud, bool) or not isinstance(baud, int)
                                     or baud <= 0):
                self.fail((*path, "baud"), f"must be a positive whole number, not {baud!r}")
                baud = None
            sources = [key for key in ("path", "port", "host") if table.get(key) is not None]
            if len(sources) > 1:
                self.fail(path, f"reader {reader_id!r} names more than one of path, port and "
                                f"host ({', '.join(sources)}): give one")
            readers.append(ReaderConfig(
                id=reader_id, point=point, format=reader_format,
                clock_offset_ms=round(offset * 1000),
                path=self.text((*path, "path"), table.get("path")) or None,
                port=self.text((*path, "port"), table.get("port")) or None,
                baud=baud, host=self.text((*path, "host"), table.get("host")) or None,
            ))
        return tuple(readers)


def parse_local_time(value: object) -> time | datetime | None:
    """A gun or manual time: a time of day (`09:00`, `09:00:00.25`, TOML local time) or a
    local date and time (`2026-05-10T09:00:00`, `2026-05-10 09:00:00`, TOML datetime)."""
    if isinstance(value, datetime | time):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _TIME_OF_DAY.match(text)
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        seconds = int(match.group(3) or 0)
        micros = int((match.group(4) or "0").ljust(6, "0"))
        if hours > 23 or minutes > 59 or seconds > 59:
            return None
        return time(hours, minutes, seconds, micros)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
