"""A server over the example event, in-process (httpx over ASGI), with known tokens."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.runtime import Options, Runtime
from api.server import ADMIN_ENV, running

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "backwards-mile" / "event.toml"
ADMIN = "gmb_test-admin-token-for-the-api-tests"


@dataclass
class Served:
    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.auth(ADMIN)

    async def token(self, role: str, reader: str | None = None) -> str:
        answer = await self.client.post("/api/tokens", headers=self.admin,
                                        json={"role": role, "reader": reader, "label": role})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])


@pytest.fixture
def options() -> Options:
    return Options(frame_interval=0.05, health_interval=0.2)


@pytest.fixture
async def served(database_url: str, monkeypatch: pytest.MonkeyPatch,
                 options: Options) -> AsyncIterator[Served]:
    """On each database (SQLite, and PostgreSQL when GAMBERO_TEST_POSTGRES_URL is set)."""
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    app = create_app(lambda: running(database_url, EXAMPLE, options))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gambero") as client:
            yield Served(app, client, app.state.runtime)


@contextlib.asynccontextmanager
async def app_with_pages(tmp_path: Path, **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app over a display/ folder of one page and one static file, on SQLite, with the
    given limits (`max_body`, `public_rate`, `public_burst`); GAMBERO_ADMIN_TOKEN must be set."""
    display = tmp_path / "display"
    (display / "static").mkdir(parents=True)
    (display / "scoreboard.html").write_text("<h1>scoreboard</h1>", encoding="utf-8")
    (display / "static" / "app.js").write_text("console.log(1)", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    app = create_app(lambda: running(url, EXAMPLE, Options()), display=display, **limits)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://g") as http:
            yield http


def reader_file(reader_id: str) -> bytes:
    """The example's file for a reader."""
    from timing.eventfile import load_event

    files = load_event(EXAMPLE)
    for reader in files.event.readers:
        if reader.id == reader_id:
            assert reader.path is not None
            return (files.directory / reader.path).read_bytes()
    raise KeyError(reader_id)


def reader_ids() -> list[str]:
    from timing.eventfile import load_event

    return [reader.id for reader in load_event(EXAMPLE).event.readers]
