"""The database schema (SQLAlchemy 2.x, typed declarative models).

The event's configuration (races, waves, points, readers), its participants and their chips are
ordinary tables, loaded by `gambero import` and re-imported when the files change. The
`journal` table is the event's append-only history: every read, every rejected line, every
timekeeper action, each with a per-event sequence number. Journal rows are never updated or
deleted; a correction is a new entry. Alembic migrations (`migrations/`) create all of it; a
test fails when these models and the migrations disagree.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from timing.limits import BIB_MAX, CHIP_MAX, DEVICE_MAX, WINDOW_DAYS

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    age_bounds: Mapped[list[Any]] = mapped_column(JSON)
    window_days: Mapped[int] = mapped_column(Integer, default=WINDOW_DAYS,
                                             server_default=str(WINDOW_DAYS))
    source: Mapped[str] = mapped_column(Text, default="")
    """The event.toml it was imported from."""


class PointRow(Base):
    __tablename__ = "points"
    __table_args__ = (UniqueConstraint("event_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    distance_m: Mapped[float | None] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer)


class RaceRow(Base):
    __tablename__ = "races"
    __table_args__ = (UniqueConstraint("event_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    distance_m: Mapped[float | None] = mapped_column(Float)
    gun_ms: Mapped[int | None] = mapped_column(BigInteger)
    """The gun as event.toml gives it; guns fired live are journal entries."""
    laps: Mapped[int] = mapped_column(Integer)
    rank_by: Mapped[str] = mapped_column(String(8))
    min_lap_ms: Mapped[int] = mapped_column(Integer)
    precision_ms: Mapped[int] = mapped_column(Integer)
    point_keys: Mapped[list[Any]] = mapped_column(JSON)
    record_ms: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)


class WaveRow(Base):
    __tablename__ = "waves"
    __table_args__ = (UniqueConstraint("race_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    gun_ms: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)


class ReaderRow(Base):
    __tablename__ = "readers"
    __table_args__ = (UniqueConstraint("event_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    point_key: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    clock_offset_ms: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str | None] = mapped_column(Text)
    port: Mapped[str | None] = mapped_column(Text)
    baud: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)


class ParticipantRow(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("event_id", "bib"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    bib: Mapped[str] = mapped_column(String(32))
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    race_key: Mapped[str] = mapped_column(String(64))
    wave_key: Mapped[str | None] = mapped_column(String(64))
    club: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)


class ChipRow(Base):
    __tablename__ = "chips"
    __table_args__ = (UniqueConstraint("event_id", "code_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    code_key: Mapped[str] = mapped_column(String(64))
    """The code in lower case: chip codes compare case-insensitively."""
    position: Mapped[int] = mapped_column(Integer)


class AdjustmentRow(Base):
    """adjustments.csv as last imported (DQ / DNF / DNS, penalties): configuration like the
    participants; adjustments made live are journal actions."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    bib: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str | None] = mapped_column(String(8))
    penalty_ms: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)


class JournalRow(Base):
    """One journal entry. `kind` says which columns mean something:
    - "read": reader_key, chip or bib, reader_time + clock, reader_seq, device, antenna, rssi;
    - "rejected": reader_key, raw, reason, line, lines;
    - "action": action, payload, actor, reason.
    """

    __tablename__ = "journal"
    __table_args__ = (
        # Replays of a read (a reconnect, a rewind) carry the same key: never stored twice.
        # `reader_time` adds nothing to what is unique (`dedup` holds it) but orders the index
        # by time, so that appends touch its last pages rather than random ones (0002).
        UniqueConstraint("event_id", "reader_key", "reader_time", "dedup"),
        # No index on chip: the one query by chip compares lower(chip), which it would not
        # serve, and random chip codes made every append rewrite pages all over it (0005).
        # Partial indexes hold only the few rows that are not chip reads (0007): the desk's
        # lookups (actions by name, hand-timed entries by bib) without a scan of millions of
        # reads, and appends of chip reads never touch them.
        Index("ix_journal_actions", "event_id", "action",
              sqlite_where=text("action IS NOT NULL"),
              postgresql_where=text("action IS NOT NULL")),
        Index("ix_journal_bibs", "event_id", "bib", sqlite_where=text("bib IS NOT NULL"),
              postgresql_where=text("bib IS NOT NULL")),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8))
    recorded_ms: Mapped[int] = mapped_column(BigInteger)
    """When the host received the read or took the action (ms since 1970 UTC)."""
    reader_key: Mapped[str | None] = mapped_column(String(64))
    chip: Mapped[str | None] = mapped_column(String(CHIP_MAX))
    bib: Mapped[str | None] = mapped_column(String(BIB_MAX))
    reader_time: Mapped[int | None] = mapped_column(BigInteger)
    """The reader's own time in microseconds, read as `clock` says (`timing.entries`)."""
    clock: Mapped[str | None] = mapped_column(String(8))
    reader_seq: Mapped[int | None] = mapped_column(BigInteger)
    device: Mapped[str | None] = mapped_column(String(DEVICE_MAX))
    antenna: Mapped[int | None] = mapped_column(Integer)
    rssi: Mapped[float | None] = mapped_column(Float)
    line: Mapped[int | None] = mapped_column(Integer)
    lines: Mapped[int | None] = mapped_column(Integer)
    """A rejected entry standing for more than one line (null: one): see `timing.reject_limit`."""
    raw: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    actor: Mapped[str | None] = mapped_column(String(64))
    dedup: Mapped[str | None] = mapped_column(String(160))


class TokenRow(Base):
    """An API token: only its SHA-256 hash is kept (the token itself is shown once). Revoked
    tokens stay, with when they were revoked, for the audit."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    reader: Mapped[str | None] = mapped_column(String(64))
    """For the role "reader": the one reader it may post reads for."""
    label: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger)
