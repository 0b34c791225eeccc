"""journal: the replay-identity unique key ordered by reader time

The unique key that makes a replayed read impossible to store twice was (event_id, reader_key,
dedup). `dedup` starts with the chip code, so consecutive reads landed on random pages of that
index and every group commit rewrote hundreds of index pages (most of the cost of an append).
The key is now (event_id, reader_key, reader_time, dedup): `reader_time` is a function of
`dedup` (its microseconds), so exactly the same rows are unique, and reads, which arrive roughly
in their reader's time order, land at the end of their reader's part of the index.
On SQLite, changing a constraint means copying the table (Alembic's batch mode): on a large
journal, run `gambero db upgrade` before race day, not at the start line.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD = ("event_id", "reader_key", "dedup")
NEW = ("event_id", "reader_key", "reader_time", "dedup")


def upgrade() -> None:
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_journal_event_id_reader_key_dedup"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_journal_event_id_reader_key_reader_time_dedup"), list(NEW))


def downgrade() -> None:
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_journal_event_id_reader_key_reader_time_dedup"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_journal_event_id_reader_key_dedup"), list(OLD))
