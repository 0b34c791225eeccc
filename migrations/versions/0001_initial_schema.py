"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 12:46:44.995171
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("age_bounds", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("name", name=op.f("uq_events_name")),
    )
    op.create_table(
        "adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("bib", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=True),
        sa.Column("penalty_ms", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_adjustments_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustments")),
    )
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adjustments_event_id"), ["event_id"], unique=False)

    op.create_table(
        "journal",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("recorded_ms", sa.BigInteger(), nullable=False),
        sa.Column("reader_key", sa.String(length=64), nullable=True),
        sa.Column("chip", sa.String(length=64), nullable=True),
        sa.Column("bib", sa.String(length=32), nullable=True),
        sa.Column("reader_time", sa.BigInteger(), nullable=True),
        sa.Column("clock", sa.String(length=8), nullable=True),
        sa.Column("reader_seq", sa.BigInteger(), nullable=True),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("antenna", sa.Integer(), nullable=True),
        sa.Column("rssi", sa.Float(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("dedup", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_journal_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "seq", name=op.f("pk_journal")),
        sa.UniqueConstraint(
            "event_id", "reader_key", "dedup", name=op.f("uq_journal_event_id_reader_key_dedup")
        ),
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index("ix_journal_chip", ["event_id", "chip"], unique=False)

    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("bib", sa.String(length=32), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("race_key", sa.String(length=64), nullable=False),
        sa.Column("wave_key", sa.String(length=64), nullable=True),
        sa.Column("club", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_participants_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("event_id", "bib", name=op.f("uq_participants_event_id_bib")),
    )
    op.create_table(
        "points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_points_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points")),
        sa.UniqueConstraint("event_id", "key", name=op.f("uq_points_event_id_key")),
    )
    op.create_table(
        "races",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("gun_ms", sa.BigInteger(), nullable=True),
        sa.Column("laps", sa.Integer(), nullable=False),
        sa.Column("rank_by", sa.String(length=8), nullable=False),
        sa.Column("min_lap_ms", sa.Integer(), nullable=False),
        sa.Column("precision_ms", sa.Integer(), nullable=False),
        sa.Column("point_keys", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_races_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_races")),
        sa.UniqueConstraint("event_id", "key", name=op.f("uq_races_event_id_key")),
    )
    op.create_table(
        "readers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("point_key", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("clock_offset_ms", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("port", sa.Text(), nullable=True),
        sa.Column("baud", sa.Integer(), nullable=True),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_readers_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readers")),
        sa.UniqueConstraint("event_id", "key", name=op.f("uq_readers_event_id_key")),
    )
    op.create_table(
        "chips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("code_key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_chips_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_chips_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chips")),
        sa.UniqueConstraint("event_id", "code_key", name=op.f("uq_chips_event_id_code_key")),
    )
    with op.batch_alter_table("chips", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chips_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "waves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("gun_ms", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_waves_race_id_races"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waves")),
        sa.UniqueConstraint("race_id", "key", name=op.f("uq_waves_race_id_key")),
    )


def downgrade() -> None:
    op.drop_table("waves")
    with op.batch_alter_table("chips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chips_participant_id"))

    op.drop_table("chips")
    op.drop_table("readers")
    op.drop_table("races")
    op.drop_table("points")
    op.drop_table("participants")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_chip")

    op.drop_table("journal")
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustments_event_id"))

    op.drop_table("adjustments")
    op.drop_table("events")
