"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect, text
from sqlalchemy.engine import Connection

from timing.journal import Base
from timing.store import Store

from .schema import TABLES, head_revision


def schema_diff(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def diff_against(store: Store, metadata: MetaData) -> list[Any]:
    async with store.engine.connect() as connection:
        return await connection.run_sync(schema_diff, metadata)


async def test_migrated_schema_equals_the_models(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        async with store.engine.connect() as connection:
            tables = await connection.run_sync(table_names)
        assert tables == TABLES | {"alembic_version"}
        diff = await diff_against(store, Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        await store.close()


async def test_the_comparison_sees_a_column_the_migrations_lack(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        changed = MetaData(naming_convention=Base.metadata.naming_convention)
        for table in Base.metadata.sorted_tables:
            copy = table.to_metadata(changed)
            if table.name == "participants":
                copy.append_column(Column("nickname", String(40), nullable=True))
        diff = await diff_against(store, changed)
        assert len(diff) == 1, diff
        operation, schema, table_name, column = diff[0]
        assert (operation, schema, table_name, column.name) == (
            "add_column", None, "participants", "nickname")
    finally:
        await store.close()


async def test_the_comparison_sees_a_table_the_migrations_lack(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        missing = [table for table in Base.metadata.sorted_tables if table.name != "waves"]
        assert len(missing) == len(TABLES) - 1
        changed = MetaData(naming_convention=Base.metadata.naming_convention)
        for table in missing:
            table.to_metadata(changed)
        diff = await diff_against(store, changed)
        assert [(entry[0], entry[1].name) for entry in diff] == [("remove_table", "waves")]
    finally:
        await store.close()


async def test_upgrade_is_idempotent_and_records_the_head(database_url: str) -> None:
    first = await Store.open(database_url)
    await first.close()
    second = await Store.open(database_url)
    try:
        await second.upgrade()
        async with second.engine.connect() as connection:
            versions = (await connection.execute(
                text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert versions == [head_revision()]
        assert await diff_against(second, Base.metadata) == []
    finally:
        await second.close()


async def test_upgrade_keeps_the_data(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        async with store.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO events (id, name, date, timezone, age_bounds, source) "
                "VALUES (7, 'kept', '2026-05-10', 'UTC', '[]', '')"))
    finally:
        await store.close()
    again = await Store.open(database_url)
    try:
        assert await again.event_ids() == {"kept": 7}
    finally:
        await again.close()


async def test_open_without_migrate_leaves_the_database_empty(database_url: str) -> None:
    store = await Store.open(database_url, migrate=False)
    try:
        async with store.engine.connect() as connection:
            assert await connection.run_sync(table_names) == set()
        await store.upgrade()
        async with store.engine.connect() as connection:
            assert await connection.run_sync(table_names) == TABLES | {"alembic_version"}
    finally:
        await store.close()


async def test_sqlite_store_connections_are_wal_and_fully_synchronous(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'gambero.db'}")
    try:
        async with store.engine.connect() as connection:
            mode = await connection.scalar(text("PRAGMA journal_mode"))
            synchronous = await connection.scalar(text("PRAGMA synchronous"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
        assert (mode, synchronous, foreign_keys) == ("wal", 2, 1)
    finally:
        await store.close()
