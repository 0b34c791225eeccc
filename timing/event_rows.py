"""Event configuration and participants to and from their tables (used by `timing.store`).

Importing an event folder replaces its configuration rows (races, waves, points, readers) and
brings the participants table in line with participants.csv: new bibs are added, changed ones
updated, bibs no longer in the file removed. The journal is never touched: reads of a removed
participant's chips become unknown chips, and come back if the participant does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from timing.eventfile import EventFiles
from timing.journal import (
    AdjustmentRow,
    ChipRow,
    EventRow,
    ParticipantRow,
    PointRow,
    RaceRow,
    ReaderRow,
    WaveRow,
)
from timing.model import (
    ADJUSTABLE_STATUSES,
    Adjustment,
    Athlete,
    Event,
    Point,
    PointKind,
    Race,
    RankBy,
    ReaderConfig,
    Status,
    Wave,
)

COMPARED_FIELDS = ("first_name", "last_name", "gender", "birth_date", "race", "wave", "chips",
                   "club", "category")


@dataclass
class ImportReport:
    event_id: int
    created: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Bibs not removed although their row was skipped for a mistake (fix the row)."""
    changed: dict[str, list[str]] = field(default_factory=dict)
    """bib -> the fields that changed, e.g. ["wave", "chips"]."""
    adjustments_before: int = 0
    adjustments: int = 0

    def summary(self) -> str:
        verb = "created" if self.created else "updated"
        text = (f"event {verb}: {len(self.added)} participants added, {len(self.changed)} "
                f"changed, {len(self.removed)} removed; {self.adjustments} adjustments")
        if self.kept:
            text += f"; {len(self.kept)} kept unchanged because their rows have mistakes"
        if self.adjustments != self.adjustments_before:
            text += f" (were {self.adjustments_before})"
        return text


def save_event(connection: Connection, files: EventFiles, source: str) -> ImportReport:
    event = files.event
    with Session(bind=connection) as session:
        row = session.scalar(select(EventRow).where(EventRow.name == event.name))
        created = row is None
        if row is None:
            row = EventRow(name=event.name, date=event.date, timezone=event.timezone,
                           age_bounds=list(event.age_bounds), window_days=event.window_days,
                           source=source)
            session.add(row)
        else:
            row.date, row.timezone = event.date, event.timezone
            row.age_bounds, row.source = list(event.age_bounds), source
            row.window_days = event.window_days
        session.flush()
        event_id = row.id
        _replace_configuration(session, event_id, event)
        report = ImportReport(event_id, created)
        _sync_participants(session, event_id, files.athletes, files.skipped_bibs, report)
        _replace_adjustments(session, event_id, files.adjustments, report)
        session.commit()
    return report


def _replace_configuration(session: Session, event_id: int, event: Event) -> None:
    race_ids = select(RaceRow.id).where(RaceRow.event_id == event_id)
    session.execute(delete(WaveRow).where(WaveRow.race_id.in_(race_ids)))
    session.execute(delete(RaceRow).where(RaceRow.event_id == event_id))
    session.execute(delete(PointRow).where(PointRow.event_id == event_id))
    session.execute(delete(ReaderRow).where(ReaderRow.event_id == event_id))
    for position, point in enumerate(event.points):
        session.add(PointRow(event_id=event_id, key=point.id, kind=point.kind,
                             distance_m=point.distance_m, position=position))
    for position, race in enumerate(event.races):
        race_row = RaceRow(event_id=event_id, key=race.id, name=race.name,
                           distance_m=race.distance_m, gun_ms=race.gun_ms, laps=race.laps,
                           rank_by=race.rank_by, min_lap_ms=race.min_lap_ms,
                           precision_ms=race.precision_ms, point_keys=list(race.points),
                           record_ms=race.record_ms,
                           position=position)
        session.add(race_row)
        session.flush()
        for wave_position, wave in enumerate(race.waves):
            session.add(WaveRow(race_id=race_row.id, key=wave.id, gun_ms=wave.gun_ms,
                                position=wave_position))
    for position, reader in enumerate(event.readers):
        session.add(ReaderRow(event_id=event_id, key=reader.id, point_key=reader.point,
                              format=reader.format, clock_offset_ms=reader.clock_offset_ms,
                              path=reader.path, port=reader.port, baud=reader.baud,
                              host=reader.host, position=position))


def _sync_participants(session: Session, event_id: int, athletes: list[Athlete],
                       skipped: set[str], report: ImportReport) -> None:
    existing = {row.bib: row for row in session.scalars(
        select(ParticipantRow).where(ParticipantRow.event_id == event_id))}
    chips = _chips_by_participant(session, event_id)
    wanted = {athlete.bib: athlete for athlete in athletes}
    for bib, row in existing.items():
        if bib in wanted:
            continue
        if bib in skipped:  # a typo in the row is not a withdrawal
            report.kept.append(bib)
            continue
        session.delete(row)
        report.removed.append(bib)
    written: list[tuple[ParticipantRow, Athlete]] = []
    for bib, athlete in wanted.items():
        found = existing.get(bib)
        if found is None:
            row = ParticipantRow(event_id=event_id, bib=bib, extra={})
            session.add(row)
            report.added.append(bib)
        else:
            row = found
            before = _as_athlete(row, chips.get(row.id, []))
            changed = [name for name in COMPARED_FIELDS
                       if getattr(before, name) != getattr(athlete, name)]
            if before.extra != athlete.extra:  # not part of Athlete equality
                changed.append("extra")
            if not changed:
                continue
            report.changed[bib] = changed
            session.execute(delete(ChipRow).where(ChipRow.participant_id == row.id))
        _fill(row, athlete)
        written.append((row, athlete))
    # Chips freed by removed or changed participants may now go to others (a swap).
    session.flush()
    for row, athlete in written:
        for position, chip in enumerate(athlete.chips):
            session.add(ChipRow(event_id=event_id, participant_id=row.id, code=chip,
                                code_key=chip.lower(), position=position))
    session.flush()


def _replace_adjustments(session: Session, event_id: int, adjustments: list[Adjustment],
                         report: ImportReport) -> None:
    report.adjustments_before = len(session.scalars(
        select(AdjustmentRow.id).where(AdjustmentRow.event_id == event_id)).all())
    session.execute(delete(AdjustmentRow).where(AdjustmentRow.event_id == event_id))
    for position, adjustment in enumerate(adjustments):
        session.add(AdjustmentRow(event_id=event_id, bib=adjustment.bib, kind=adjustment.kind,
                                  status=adjustment.status, penalty_ms=adjustment.penalty_ms,
                                  reason=adjustment.reason, position=position))
    report.adjustments = len(adjustments)


def _fill(row: ParticipantRow, athlete: Athlete) -> None:
    row.first_name, row.last_name, row.gender = athlete.first_name, athlete.last_name, \
        athlete.gender
    row.birth_date, row.race_key, row.wave_key = athlete.birth_date, athlete.race, athlete.wave
    row.club, row.category = athlete.club, athlete.category
    row.extra = dict(athlete.extra)


def _chips_by_participant(session: Session, event_id: int) -> dict[int, list[str]]:
    chips: dict[int, list[str]] = {}
    for chip in session.scalars(select(ChipRow).where(ChipRow.event_id == event_id)
                                .order_by(ChipRow.participant_id, ChipRow.position)):
        chips.setdefault(chip.participant_id, []).append(chip.code)
    return chips


def _as_athlete(row: ParticipantRow, chips: list[str]) -> Athlete:
    extra: dict[str, Any] = row.extra or {}
    return Athlete(bib=row.bib, first_name=row.first_name, last_name=row.last_name,
                   gender=row.gender, race=row.race_key, birth_date=row.birth_date,
                   wave=row.wave_key, chips=tuple(chips), club=row.club,
                   category=row.category, extra=tuple((str(k), str(v)) for k, v in extra.items()))


def load_event_rows(connection: Connection,
                    event_id: int) -> tuple[Event, list[Athlete], list[Adjustment]]:
    with Session(bind=connection) as session:
        row = session.get(EventRow, event_id)
        if row is None:
            raise KeyError(f"no event with id {event_id}")
        points = tuple(Point(p.key, _kind(p.kind), p.distance_m) for p in session.scalars(
            select(PointRow).where(PointRow.event_id == event_id).order_by(PointRow.position)))
        kinds = {point.id: point.kind for point in points}
        races = []
        for race in session.scalars(select(RaceRow).where(RaceRow.event_id == event_id)
                                    .order_by(RaceRow.position)):
            waves = tuple(Wave(w.key, w.gun_ms) for w in session.scalars(
                select(WaveRow).where(WaveRow.race_id == race.id).order_by(WaveRow.position)))
            keys = tuple(str(key) for key in race.point_keys)
            races.append(Race(
                id=race.key, name=race.name, distance_m=race.distance_m, gun_ms=race.gun_ms,
                laps=race.laps, rank_by=_rank_by(race.rank_by), min_lap_ms=race.min_lap_ms,
                precision_ms=race.precision_ms, points=keys,
                start_point=next((k for k in keys if kinds[k] == "start"), None),
                finish_point=next((k for k in keys if kinds[k] == "finish"), ""),
                split_points=tuple(k for k in keys if kinds[k] == "split"), waves=waves,
                record_ms=race.record_ms))
        readers = tuple(ReaderConfig(r.key, r.point_key, r.format, r.clock_offset_ms, r.path,
                                     r.port, r.baud, r.host) for r in session.scalars(
            select(ReaderRow).where(ReaderRow.event_id == event_id)
            .order_by(ReaderRow.position)))
        chips = _chips_by_participant(session, event_id)
        athletes = [_as_athlete(p, chips.get(p.id, [])) for p in session.scalars(
            select(ParticipantRow).where(ParticipantRow.event_id == event_id)
            .order_by(ParticipantRow.id))]
        adjustments = [
            Adjustment(a.bib, "status" if a.kind == "status" else "penalty",
                       status=_status(a.status), penalty_ms=a.penalty_ms, reason=a.reason)
            for a in session.scalars(select(AdjustmentRow).where(
                AdjustmentRow.event_id == event_id).order_by(AdjustmentRow.position))]
        event = Event(name=row.name, date=row.date, timezone=row.timezone, races=tuple(races),
                      points=points, readers=readers,
                      age_bounds=tuple(int(b) for b in row.age_bounds),
                      window_days=int(row.window_days))
    return event, athletes, adjustments


def _status(value: str | None) -> Status | None:
    return next((status for status in ADJUSTABLE_STATUSES if status == value), None)


def _kind(value: str) -> PointKind:
    for kind in ("start", "split", "finish"):
        if value == kind:
            return kind
    raise ValueError(f"point kind {value!r}")


def _rank_by(value: str) -> RankBy:
    return "chip" if value == "chip" else "gun"
