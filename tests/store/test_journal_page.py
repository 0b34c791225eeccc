"""Store.journal_page reads actions and manual entries through their partial indexes: a journal
is millions of chip reads, and the desk's journal must not read them all to find the last 50
actions. SQLite, with no statistics (as a live event's database has), is where it went wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from timing.store import Store


async def plans(tmp_path: Path, kinds: list[str], **options: Any) -> list[str]:
    """SQLite's plan of each query `journal_page(1, kinds, **options)` runs."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM journal" in statement:
            statements.append((statement, parameters))

    try:
        sa_event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
        assert await store.journal_page(1, kinds, limit=50, **options) == []
        sa_event.remove(store.engine.sync_engine, "before_cursor_execute", seen)
        async with store.engine.connect() as connection:
            return [" ".join(str(row[-1]) for row in (await connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters)).all())
                for statement, parameters in statements]
    finally:
        await store.close()


@pytest.mark.parametrize(("kinds", "options", "index"), [
    (["action"], {}, "ix_journal_actions"),
    (["action"], {"before": 1000}, "ix_journal_actions"),
    (["action"], {"actions": ["gun", "void"]}, "ix_journal_actions"),
    (["action"], {"bib": "12", "chips": ["AB01"], "before": 9}, "ix_journal_actions"),
    (["manual"], {}, "ix_journal_bibs"),
    (["manual"], {"before": 1000}, "ix_journal_bibs"),
    (["manual"], {"bib": "12"}, "ix_journal_bibs"),
])
async def test_actions_and_manual_entries_are_read_through_their_indexes(
        tmp_path: Path, kinds: list[str], options: dict[str, Any], index: str) -> None:
    [plan] = await plans(tmp_path, kinds, **options)
    assert f"USING INDEX {index}" in plan, plan


async def test_chip_reads_and_rejected_lines_come_newest_first_by_the_key(
        tmp_path: Path) -> None:
    """The kinds that are most of the journal stop after `limit` rows of the primary key,
    read backwards (no sort of the whole event)."""
    found = await plans(tmp_path, ["read", "rejected"], before=500)
    assert len(found) == 2
    for plan in found:
        assert "seq<?" in plan and "TEMP B-TREE" not in plan, plan
