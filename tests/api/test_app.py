"""The app around the routes: the pages of display/, body size and public rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running

from .conftest import ADMIN, EXAMPLE


@pytest.fixture
async def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    display = tmp_path / "display"
    (display / "static").mkdir(parents=True)
    (display / "scoreboard.html").write_text("<h1>scoreboard</h1>", encoding="utf-8")
    (display / "static" / "app.js").write_text("console.log(1)", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    app = create_app(lambda: running(url, EXAMPLE, Options()), display=display,
                     max_body=1000, public_rate=1.0, public_burst=5)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://g") as http:
            yield http


async def test_pages_are_served_where_display_has_them(client: httpx.AsyncClient) -> None:
    page = await client.get("/scoreboard")
    assert page.status_code == 200 and page.text == "<h1>scoreboard</h1>"
    assert page.headers["content-type"].startswith("text/html")
    assert (await client.get("/static/app.js")).text == "console.log(1)"
    assert (await client.get("/announcer")).status_code == 404  # no announcer.html there


async def test_bodies_over_the_limit_are_refused(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "text/plain"}
    big = await client.post("/api/readers/finish-main/reads", content=b"x" * 1001,
                            headers=auth)
    assert big.status_code == 413 and "1000 bytes" in big.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(3):
            yield b"y" * 400

    streamed = await client.post("/api/readers/finish-main/reads", content=chunks(),
                                 headers=auth)
    assert streamed.status_code == 413
    small = await client.post("/api/readers/finish-main/reads", content=b"x\n", headers=auth)
    assert small.status_code == 200
    json_route = await client.post("/api/manual", content=chunks(), headers={
        "Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    assert json_route.status_code == 413  # FastAPI's own body parsing: not a 400


async def test_public_routes_are_rate_limited_per_client(client: httpx.AsyncClient) -> None:
    answers = [(await client.get("/api/races")).status_code for _ in range(8)]
    assert answers[:5] == [200] * 5 and 429 in answers[5:]
    limited = await client.get("/api/health")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    for header in ("Bearer not-a-token", f"Bearer {ADMIN}"):  # a header is no way past it
        with_header = await client.get("/api/races", headers={"Authorization": header})
        assert with_header.status_code == 429
