"""event.toml -> `Event`, with every mistake reported at its line (SCORING.md, "The event
directory"). Mistakes in event.toml are fatal (`EventFileError` lists them all at once): a race
cannot be scored with a wrong gun or a reader on a missing point. participants.csv and
adjustments.csv are read by `timing.participants`, where a bad row is reported and skipped.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path as FilePath
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from timing.clock import EventClock
from timing.limits import (
    AGE_MAX,
    BAUD_MAX,
    CLOCK_OFFSET_MAX_MS,
    DAY_MS,
    DISTANCE_MAX_M,
    ID_MAX,
    LAPS_MAX,
    NAME_MAX,
    WINDOW_DAYS,
    WINDOW_DAYS_MAX,
    TimeWindow,
)
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
from timing.tomlvalues import TomlValues, oversized, parse_local_time, shown

EVENT_DATE_FIRST = date(1900, 1, 1)
EVENT_DATE_LAST = date(2999, 12, 31)
"""An event's date: generous, but far enough from the years 1 and 9999 that the time window
around it (`TimeWindow`, up to `WINDOW_DAYS_MAX` days) is always a date."""
TIMEZONE_MAX = 64
FORMAT_MAX = 32
"""The database's columns for an event's zone and a reader's format."""
LOCATION_MAX = 1000
"""A reader's path, serial port or host."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    """The event event.toml describes, or `EventFileError` listing every mistake in it."""
    too_long = oversized(text)
    if too_long is not None:
        raise EventFileError([Problem(file_name, too_long[0], too_long[1])])
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        line = int(match.group(1)) if match else None
        raise EventFileError([Problem(file_name, line, f"not valid TOML: {error}")]) from None
    except ValueError as error:  # an integer of over 4,300 digits (`int()`'s own limit), were
        # lines allowed that long
        raise EventFileError([Problem(file_name, None, f"not valid TOML: {error}")]) from None
    except RecursionError:
        raise EventFileError([Problem(file_name, None, "not valid TOML: arrays or tables "
                                                       "nested too deeply")]) from None
    return _EventBuilder(document, TomlIndex(text), file_name, formats).build()


class _EventBuilder(TomlValues):
    def __init__(self, document: dict[str, Any], index: TomlIndex, file_name: str,
                 formats: Collection[str] | None) -> None:
        super().__init__(document, index, file_name)
        self.formats = formats

    def build(self) -> Event:
        header = self.table(("event",))
        name = self.limited(("event", "name"), header.get("name"), NAME_MAX, free=True,
                            required=True)
        event_date = self.event_date(header.get("date"))
        timezone = self.timezone(header.get("timezone"))
        window_days = self.whole(("event", "window_days"), header.get("window_days", WINDOW_DAYS),
                                 WINDOW_DAYS, 0, WINDOW_DAYS_MAX)
        age_bounds = self.age_bounds(self.table(("categories",), optional=True))
        points = self.points()
        clock = EventClock(event_date or date(2000, 1, 1), timezone or "UTC")
        # Without a usable date and zone there is no window: those mistakes are reported.
        window = None if event_date is None or timezone is None else TimeWindow.around(
            event_date, timezone, window_days)
        races = self.races(points, clock, window)
        readers = self.readers(points)
        if self.problems or event_date is None or timezone is None:
            raise EventFileError(self.problems)
        return Event(name=name, date=event_date, timezone=timezone, races=races,
                     points=points, readers=readers, age_bounds=age_bounds,
                     window_days=window_days)

    # -- sections ----------------------------------------------------------------------------

    def event_date(self, value: object) -> date | None:
        day: date | None = None
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        elif isinstance(value, str) and _DATE.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:  # 2026-02-30
                day = None
        if day is None:
            self.fail(("event", "date"), "missing (a date YYYY-MM-DD)" if value is None
                      else f"must be a date YYYY-MM-DD, not {shown(value)}")
            return None
        if not EVENT_DATE_FIRST <= day <= EVENT_DATE_LAST:
            self.fail(("event", "date"), f"must be from {EVENT_DATE_FIRST} to {EVENT_DATE_LAST}"
                                         f", not {day}")
            return None
        return day

    def timezone(self, value: object) -> str | None:
        path: Path = ("event", "timezone")
        if value is None:
            self.fail(path, "missing (an IANA zone such as \"Europe/Rome\")")
            return None
        zone = self.limited(path, value, TIMEZONE_MAX, free=False, required=True)
        if not zone:
            return None
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.fail(path, f"unknown time zone {shown(zone)}")
            return None
        return zone

    def age_bounds(self, categories: dict[str, Any]) -> tuple[int, ...]:
        value = categories.get("age_bounds", [])
        path: Path = ("categories", "age_bounds")
        if not isinstance(value, list) or not all(
                isinstance(bound, int) and not isinstance(bound, bool) and 0 <= bound <= AGE_MAX
                for bound in value):
            self.fail(path, f"must be a list of whole ages from 0 to {AGE_MAX}, "
                            f"not {shown(value)}")
            return ()
        if any(high <= low for low, high in itertools.pairwise(value)):
            self.fail(path, f"must rise strictly: {shown(value)}")
            return ()
        return tuple(value)

    def points(self) -> tuple[Point, ...]:
        points: list[Point] = []
        seen: set[str] = set()
        for number, table in enumerate(self.array("points")):
            path: Path = ("points", number)
            point_id = self.ident((*path, "id"), table.get("id"), seen, ID_MAX)
            kind = table.get("kind")
            if not isinstance(kind, str) or kind not in ("start", "split", "finish"):
                self.fail((*path, "kind"), f"must be start, split or finish, not {shown(kind)}")
                kind = "split"
            distance = self.number((*path, "distance_m"), table.get("distance_m"), None,
                                   maximum=DISTANCE_MAX_M)
            points.append(Point(point_id, cast(PointKind, kind), distance))
        if not points:
            self.fail(("points",), "an event needs at least a finish point ([[points]])")
        return tuple(points)

    def gun(self, path: Path, value: object, clock: EventClock,
            window: TimeWindow | None) -> int | None:
        if value is None:
            return None
        moment = parse_local_time(value)
        if moment is None:
            self.fail(path, f"must be a time of day HH:MM[:SS[.fff]] or a local date and time "
                            f"YYYY-MM-DDTHH:MM:SS, not {shown(value)}")
            return None
        if isinstance(moment, time):
            return clock.time_of_day_ms(moment)  # on the event date: inside any window
        if moment.tzinfo is not None:
            # Exact, and safe for any year TOML allows (a float timestamp is neither).
            instant = (moment - _EPOCH) // timedelta(milliseconds=1)
            inside = window is None or window.contains_ms(instant)
        else:
            inside = window is None or window.first_day <= moment.date() <= window.last_day
        if not inside:
            assert window is not None
            self.fail(path, f"{moment.isoformat()} is not within the event's days ({window}): "
                            f"for an event of several days, widen [event] window_days")
            return None
        return instant if moment.tzinfo is not None else clock.local_ms(moment)

    def races(self, points: tuple[Point, ...], clock: EventClock,
              window: TimeWindow | None) -> tuple[Race, ...]:
        races: list[Race] = []
        seen: set[str] = set()
        for number, table in enumerate(self.array("races")):
            races.append(self.race(("races", number), table, points, clock, window, seen))
        if not races:
            self.fail(("races",), "an event needs at least one race ([[races]])")
        return tuple(races)

    def race(self, path: Path, table: dict[str, Any], points: tuple[Point, ...],
             clock: EventClock, window: TimeWindow | None, seen: set[str]) -> Race:
        race_id = self.ident((*path, "id"), table.get("id"), seen, ID_MAX)
        name = self.limited((*path, "name"), table.get("name"), NAME_MAX, free=True,
                            required="name" in table, default=race_id) or race_id
        laps = self.whole((*path, "laps"), table.get("laps", 1), 1, 1, LAPS_MAX)
        rank_by = table.get("rank_by", "gun")
        if rank_by not in ("gun", "chip"):
            self.fail((*path, "rank_by"), f"must be \"gun\" or \"chip\", not {shown(rank_by)}")
            rank_by = "gun"
        min_lap_s = self.number((*path, "min_lap_s"), table.get("min_lap_s"), 0.0,
                                maximum=DAY_MS / 1000) or 0.0
        precision = table.get("precision", "s")
        precision_key = {1: "s", 0.1: "0.1", 0.01: "0.01"}.get(precision, precision) \
            if isinstance(precision, int | float) else precision
        if not isinstance(precision_key, str) or precision_key not in PRECISIONS_MS:
            self.fail((*path, "precision"), f"must be \"s\", \"0.1\" or \"0.01\", "
                                            f"not {shown(precision)}")
            precision_key = "s"
        used = self.race_points(path, table.get("points"), points)
        start = [point.id for point in used if point.kind == "start"]
        finish = [point.id for point in used if point.kind == "finish"]
        if len(finish) != 1 or len(start) > 1:
            self.fail((*path, "points") if "points" in table else path,
                      f"race {race_id!r} must use exactly one finish point and at most one "
                      f"start point (it has finish {finish or 'none'}, start {start or 'none'})"
                      f"; list its points with points = [...]")
        return Race(
            id=race_id, name=name,
            distance_m=self.number((*path, "distance_m"), table.get("distance_m"), None,
                                   maximum=DISTANCE_MAX_M),
            gun_ms=self.gun((*path, "gun"), table.get("gun"), clock, window), laps=laps,
            rank_by=cast(RankBy, rank_by), min_lap_ms=round(min_lap_s * 1000),
            precision_ms=PRECISIONS_MS[precision_key], points=tuple(p.id for p in used),
            start_point=start[0] if start else None, finish_point=finish[0] if finish else "",
            split_points=tuple(point.id for point in used if point.kind == "split"),
            waves=self.waves(path, table.get("waves", []), clock, window),
            record_ms=self.duration((*path, "record"), table.get("record")),
        )

    def waves(self, path: Path, listed: object, clock: EventClock,
              window: TimeWindow | None) -> tuple[Wave, ...]:
        if not isinstance(listed, list):
            self.fail((*path, "waves"), "must be an array of tables ([[races.waves]])")
            return ()
        waves: list[Wave] = []
        wave_ids: set[str] = set()
        for wave_number, wave in enumerate(listed):
            wave_path = (*path, "waves", wave_number)
            if not isinstance(wave, dict):
                self.fail(wave_path, "must be a table ([[races.waves]])")
                continue
            waves.append(Wave(self.ident((*wave_path, "id"), wave.get("id"), wave_ids, ID_MAX),
                              self.gun((*wave_path, "gun"), wave.get("gun"), clock, window)))
        return tuple(waves)

    def race_points(self, path: Path, listed: object,
                    points: tuple[Point, ...]) -> list[Point]:
        if listed is None:
            return list(points)
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            self.fail((*path, "points"), f"must be a list of point ids, not {shown(listed)}")
            return list(points)
        known = {point.id for point in points}
        for missing in dict.fromkeys(item for item in listed if item not in known):
            self.fail((*path, "points"), f"no point has id {shown(missing)}")
        # Event order, whatever order the race lists them in (the CSV's split columns follow it).
        return [point for point in points if point.id in listed]

    def readers(self, points: tuple[Point, ...]) -> tuple[ReaderConfig, ...]:
        readers: list[ReaderConfig] = []
        seen: set[str] = set()
        known_points = {point.id for point in points}
        for number, table in enumerate(self.array("readers")):
            path: Path = ("readers", number)
            reader_id = self.ident((*path, "id"), table.get("id"), seen, ID_MAX)
            point = self.text((*path, "point"), table.get("point"), required=True)
            if point and point not in known_points:
                self.fail((*path, "point"), f"no point has id {shown(point)}")
            reader_format = self.limited((*path, "format"), table.get("format"), FORMAT_MAX,
                                         free=False, required=True)
            if reader_format and self.formats is not None and reader_format not in self.formats:
                self.fail((*path, "format"), f"unknown reader format {reader_format!r} "
                                             f"(known: {', '.join(self.formats)})")
            offset = self.number((*path, "clock_offset_s"), table.get("clock_offset_s"), 0.0,
                                 minimum=-CLOCK_OFFSET_MAX_MS / 1000,
                                 maximum=CLOCK_OFFSET_MAX_MS / 1000) or 0.0
            baud = table.get("baud")
            if baud is not None:
                baud = self.whole((*path, "baud"), baud, 0, 1, BAUD_MAX) or None
            sources = [key for key in ("path", "port", "host") if table.get(key) is not None]
            if len(sources) > 1:
                self.fail(path, f"reader {reader_id!r} names more than one of path, port and "
                                f"host ({', '.join(sources)}): give one")
            where = {key: self.limited((*path, key), table.get(key), LOCATION_MAX, free=False)
                     or None for key in ("path", "port", "host")}
            readers.append(ReaderConfig(
                id=reader_id, point=point, format=reader_format,
                clock_offset_ms=round(offset * 1000), path=where["path"], port=where["port"],
                baud=baud, host=where["host"]))
        return tuple(readers)


__all__ = ["EventFileError", "EventFiles", "load_event", "parse_event_toml",
           "parse_local_time"]
