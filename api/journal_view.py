"""The journal as a timekeeper reads it (GET /api/journal): each entry in one form, with typed
fields, and every time both as UTC epoch ms and as text in the event's local time.

An entry is a timekeeper's action, a manual entry (a read by bib: hand timing at the desk or a
manual reader file), a chip read or a rejected line. The console words each one in the page's
language from `fields`; `summary` is the one-line English text scripts have read since before
(unchanged). A journal written by an older version may hold values of other types or times no
date can show: such a value is given as null, never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from timing.clock import EventClock
from timing.entries import ActionEntry, Journaled, ReadEntry, RejectedEntry
from timing.limits import DAY_MS, EARLIEST_MS, LATEST_MS
from timing.model import Event

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ATHLETE_FIELDS = ("bib", "first_name", "last_name", "gender", "race", "wave", "chips", "club",
                   "category", "birth_date")

ReaderPlaces = Mapping[str, tuple[str, int]]
"""Reader id -> (its point, its clock offset in ms)."""


class JournalView:
    """Turns journal entries into the API's items for one event."""

    def __init__(self, event: Event, readers: ReaderPlaces,
                 chip_owner: Callable[[str], str | None] | None = None) -> None:
        self.clock = EventClock(event.date, event.timezone)
        self.event_date = event.date
        self.race_names = {race.id: race.name for race in event.races}
        self.readers = readers
        self.chip_owner = chip_owner
        """Who wears a chip now (its reads count for them): from the core; None web-only."""

    def local(self, ms: object) -> str | None:
        """`HH:MM:SS.f` in the event's timezone (tenths cut, as the results do), preceded by
        the date when it is not the event's date; None for no time or one no date can show."""
        value = _int(ms)
        if value is None or not EARLIEST_MS + DAY_MS < value < LATEST_MS - DAY_MS:
            return None
        moment = (_EPOCH + timedelta(milliseconds=value)).astimezone(self.clock.zone)
        text = f"{moment:%H:%M:%S}.{moment.microsecond // 100_000}"
        return text if moment.date() == self.event_date else f"{moment:%Y-%m-%d} {text}"

    def item(self, journaled: Journaled) -> dict[str, Any]:
        entry = journaled.entry
        if isinstance(entry, ReadEntry):
            item = self._read(entry)
        elif isinstance(entry, RejectedEntry):
            item = {"kind": "rejected", "action": None, "at_ms": entry.received_ms, "actor": "",
                    "reason": entry.reason, "bib": None,
                    "fields": {"reader": entry.reader_id, "line": entry.line,
                               "lines": entry.lines, "raw": entry.raw},
                    "summary": f"{entry.reader_id}: {entry.reason}"}
        else:
            bib, fields = self._action(entry)
            item = {"kind": "action", "action": entry.action, "at_ms": entry.at_ms,
                    "actor": entry.actor, "reason": entry.reason, "bib": bib, "fields": fields,
                    "summary": self._summary(entry)}
        item["seq"] = journaled.seq
        item["at_local"] = self.local(item["at_ms"])
        return item

    # -- reads -------------------------------------------------------------------------------

    def _read(self, entry: ReadEntry) -> dict[str, Any]:
        read = entry.read
        point, offset = self.readers.get(entry.reader_id, (None, 0))
        try:
            time_ms: int | None = self.clock.read_ms(read) + offset
        except (OverflowError, ValueError):  # a time no date can show (an old journal)
            time_ms = None
        fields: dict[str, Any] = {"reader": entry.reader_id, "point": point,
                                  "time_ms": time_ms, "time_local": self.local(time_ms)}
        who = f"bib {read.bib}" if read.bib is not None else f"chip {read.chip}"
        item: dict[str, Any] = {"action": None, "at_ms": entry.received_ms,
                                "actor": entry.actor, "reason": "",
                                "summary": f"{entry.reader_id}: {who} at {read.time.isoformat()}"}
        if read.bib is not None:
            fields["bib"] = read.bib
            return {**item, "kind": "manual", "bib": read.bib, "fields": fields}
        fields["chip"] = read.chip
        fields["bib"] = self._owner(read.chip)
        return {**item, "kind": "read", "bib": fields["bib"], "fields": fields}

    def _owner(self, chip: object) -> str | None:
        if self.chip_owner is None or not isinstance(chip, str) or not chip:
            return None
        return self.chip_owner(chip)

    def _stored_read(self, payload: Mapping[str, object]) -> dict[str, Any]:
        """The read a void or a reassignment names, as its payload keeps it (reader, chip or
        bib, reader time in µs and its clock kind)."""
        reader = _str(payload.get("reader"))
        point, offset = self.readers.get(reader or "", (None, 0))
        micros, clock = _int(payload.get("time")), _str(payload.get("clock"))
        time_ms = None
        if micros is not None and clock is not None:
            try:
                time_ms = self.clock.stored_ms(micros, clock) + offset
            except (OverflowError, ValueError):
                time_ms = None
        return {"seq": _int(payload.get("seq")), "reader": reader, "point": point,
                "chip": _str(payload.get("chip")) or None, "bib": _str(payload.get("bib")),
                "time_ms": time_ms, "time_local": self.local(time_ms)}

    # -- actions -----------------------------------------------------------------------------

    def _action(self, entry: ActionEntry) -> tuple[str | None, dict[str, Any]]:
        """(the athlete the action concerns, its typed fields)."""
        payload = entry.payload
        bib = _str(payload.get("bib"))
        name = entry.action
        if name == "gun":
            race, time_ms = _str(payload.get("race")), _int(payload.get("time_ms"))
            return None, {"race": race, "race_name": self.race_names.get(race or "", race),
                          "wave": _str(payload.get("wave")), "time_ms": time_ms,
                          "time_local": self.local(time_ms),
                          "correct": payload.get("correct") is True}
        if name == "status":
            return bib, {"bib": bib, "status": _str(payload.get("status"))}
        if name == "penalty":
            seconds = payload.get("seconds")
            ms = (round(seconds * 1000) if isinstance(seconds, int | float)
                  and not isinstance(seconds, bool) and abs(seconds) < 1e12 else None)
            return bib, {"bib": bib, "ms": ms}
        if name == "chip":
            return bib, {"bib": bib, "chip": _str(payload.get("chip")),
                         "move": payload.get("move") is True}
        if name in ("participant", "edit"):
            fields = {key: payload.get(key) for key in _ATHLETE_FIELDS}
            race = _str(fields["race"])
            fields["race_name"] = self.race_names.get(race or "", race)
            return bib, fields
        if name == "void":
            if "reader" not in payload:  # an entry set aside for good (`void_entry`)
                return None, {"seq": _int(payload.get("seq")), "voided": "entry"}
            voided = self._stored_read(payload)
            voided["voided"] = "read" if voided["bib"] is None else "manual"
            return voided["bib"] or self._owner(voided["chip"]), voided
        if name == "reassign":
            moved = self._stored_read(payload)
            moved["to_bib"] = _str(payload.get("to_bib"))
            return moved["to_bib"], moved
        if name == "reader":
            reader = _str(payload.get("id"))
            return None, {"reader": reader, "point": _str(payload.get("point")),
                          "format": _str(payload.get("format")),
                          "clock_offset_ms": _int(payload.get("clock_offset_ms")) or 0}
        if name == "alarm":
            measure = payload.get("measure")
            return None, {"alarm": _str(payload.get("alarm")),
                          "measure": measure if isinstance(measure, int | float)
                          and not isinstance(measure, bool) else None}
        return bib, dict(payload)  # an action this version does not know: as journaled

    def _summary(self, entry: ActionEntry) -> str:
        """The English line scripts read: `name: key=value, ...` (a gun's time as local)."""
        def shown(key: str, value: object) -> object:
            if entry.action == "gun" and key == "time_ms":
                return self.local(value) or value
            return value

        fields = ", ".join(f"{key}={shown(key, value)}" for key, value in entry.payload.items()
                           if value is not None and value != [] and value != "")
        text = f"{entry.action}: {fields}"
        return f"{text} ({entry.reason})" if entry.reason else text


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
