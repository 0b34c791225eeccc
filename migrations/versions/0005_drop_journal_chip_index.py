"""journal: drop the index on (event_id, chip)

No query could use it: the only query by chip (`Store.reads_of_chips`, the timekeeper's
unknown-chips list) compares `lower(chip)`, which an index on `chip` does not serve, so both
SQLite and PostgreSQL scan the event's journal through its primary key with or without it. It
still cost every append: chip codes arrive in random order, so each group commit rewrote pages
all over it (3-4 µs of CPU per read on SQLite, about a seventh of ingest's cost).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_chip")


def downgrade() -> None:
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index("ix_journal_chip", ["event_id", "chip"], unique=False)
