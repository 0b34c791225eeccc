"""events: the days either side of the event date that times may take; journal: how many
rejected lines an entry stands for

`window_days` (event.toml `[event] window_days`, 7 unless set) bounds every gun, read and hand
time (`timing.limits.TimeWindow`). `lines` is set on the summary entry of rejected lines that
were counted but not journaled (a reader sending garbage: `timing.reject_limit`); null means 1.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("window_days", sa.Integer(), nullable=False,
                                   server_default="7"))
    with op.batch_alter_table("journal") as batch:
        batch.add_column(sa.Column("lines", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal") as batch:
        batch.drop_column("lines")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("window_days")
