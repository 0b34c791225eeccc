"""What the migrations must build: the tables, and the single head revision."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from timing.store import MIGRATIONS

TABLES = {"adjustments", "chips", "events", "journal", "participants", "points", "races",
          "readers", "tokens", "waves"}


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]
