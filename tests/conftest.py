"""Fixtures shared by the database and core tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from timing.store import Store

from .databases import BACKENDS, fresh_url, open_store


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> str:
    """An empty database of each backend (SQLite file, or a reset PostgreSQL schema)."""
    return await fresh_url(backend, tmp_path)


@pytest.fixture
async def store(backend: str, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated store on each backend."""
    async for opened in open_store(backend, tmp_path):
        yield opened
