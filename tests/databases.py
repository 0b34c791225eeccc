"""The databases tests run on: SQLite always, PostgreSQL when `GAMBERO_TEST_POSTGRES_URL`
names a reachable server (`.ci/run` sets it for the server on the CI machine)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from timing.store import Store, database_url

POSTGRES_ENV = "GAMBERO_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str:
    """The PostgreSQL test server's URL, or a skip that says why there is none."""
    raw = os.environ.get(POSTGRES_ENV, "").strip()
    if not raw:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. "
                    "postgresql://postgres@127.0.0.1:5432/test); it is not set")
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = raw
    try:
        return database_url()
    finally:
        if previous is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = previous


async def reset_postgres(url: str) -> None:
    """An empty public schema: every test starts from a database with no tables."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    except OSError as error:
        pytest.skip(f"PostgreSQL at {url} is not reachable: {error}")
    finally:
        await engine.dispose()


async def fresh_url(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'gambero.db'}"
    url = postgres_url()
    await asyncio.wait_for(reset_postgres(url), 30)
    return url


async def open_store(backend: str, folder: Path) -> AsyncIterator[Store]:
    store = await Store.open(await fresh_url(backend, folder))
    try:
        yield store
    finally:
        await store.close()
