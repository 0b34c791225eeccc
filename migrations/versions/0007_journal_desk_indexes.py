"""journal: partial indexes for the desk's lookups

The timekeeper's desk looks up actions by name (guns, alarm acknowledgements) and hand-timed
entries by bib (an athlete's passings, the unknown bibs). Both are few among millions of chip
reads: partial indexes hold only those rows, so a lookup does not scan the journal and an
append of chip reads does not touch them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_journal_actions", "journal", ["event_id", "action"],
                    sqlite_where=sa.text("action IS NOT NULL"),
                    postgresql_where=sa.text("action IS NOT NULL"))
    op.create_index("ix_journal_bibs", "journal", ["event_id", "bib"],
                    sqlite_where=sa.text("bib IS NOT NULL"),
                    postgresql_where=sa.text("bib IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_journal_bibs", table_name="journal")
    op.drop_index("ix_journal_actions", table_name="journal")
