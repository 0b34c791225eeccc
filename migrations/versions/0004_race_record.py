"""races: the course record (event.toml `record`), for the scoreboard's record flag

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("races") as batch:
        batch.add_column(sa.Column("record_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("races") as batch:
        batch.drop_column("record_ms")
