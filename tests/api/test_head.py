"""HEAD wherever GET works (api.head): the same status and headers as the GET, no body; on the
public routes, the timekeeper's, the pages and /static; limited as a GET is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.runtime import Options
from api.server import ADMIN_ENV

from .conftest import ADMIN, EXAMPLE, Served, app_with_pages
from .uvicorn_server import serving

PUBLIC = ["/api/health", "/api/event", "/api/races", "/api/races/mile/results?limit=3",
          "/api/races/kids/results.csv", "/api/athletes/1", "/api/races/nope/results",
          "/api/races/nope/results.csv", "/api/athletes/no-such-bib", "/openapi.json"]


async def same_as_get(client: httpx.AsyncClient, path: str,
                      headers: dict[str, str] | None = None) -> httpx.Response:
    got = await client.get(path, headers=headers)
    head = await client.head(path, headers=headers)
    assert head.status_code == got.status_code, path
    assert head.headers == got.headers, path
    assert head.content == b"", path
    assert int(head.headers["content-length"]) == len(got.content), path
    return head


async def test_public_routes_answer_head_as_get(served: Served) -> None:
    for path in PUBLIC:
        await same_as_get(served.client, path)
    assert (await served.client.head("/api/races/nope/results")).status_code == 404
    csv = await served.client.head("/api/races/kids/results.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")


async def test_token_routes_answer_head_as_get(served: Served) -> None:
    journal = await same_as_get(served.client, "/api/journal", served.admin)
    assert journal.status_code == 200
    refused = await same_as_get(served.client, "/api/journal")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    await same_as_get(served.client, "/api/readers/finish-main", served.admin)
    await same_as_get(served.client, "/api/tokens", served.admin)


async def test_head_where_get_is_not_allowed_answers_as_get_would(served: Served) -> None:
    head = await same_as_get(served.client, "/api/manual", served.admin)
    assert head.status_code == 405 and head.headers["allow"] == "POST"
    assert (await same_as_get(served.client, "/api/nothing-here")).status_code == 404


@pytest.fixture
async def pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    async with app_with_pages(tmp_path, public_rate=1.0, public_burst=3) as http:
        yield http


async def test_pages_and_static_files_answer_head(pages: httpx.AsyncClient) -> None:
    page = await same_as_get(pages, "/scoreboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    script = await same_as_get(pages, "/static/app.js")
    assert script.status_code == 200 and "etag" in script.headers
    assert (await same_as_get(pages, "/announcer")).status_code == 404
    assert (await same_as_get(pages, "/static/none.js")).status_code == 404


async def test_head_counts_against_the_public_rate_limit(pages: httpx.AsyncClient) -> None:
    answers = [(await pages.head("/api/races")).status_code for _ in range(5)]
    assert answers[:3] == [200] * 3 and answers[3:] == [429, 429]
    limited = await pages.head("/api/health")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.content == b""


async def test_head_over_a_real_server_keeps_the_connection_usable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn sends no body after a HEAD's headers (the Content-Length is the GET's): the
    next request on the same connection is answered as usual."""
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    async with serving(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE,
                       Options()) as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(b"HEAD /api/races HTTP/1.1\r\nHost: g\r\n\r\n"
                         b"GET /api/health HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n")
            received = await asyncio.wait_for(reader.read(), 10)  # to the server's close
        finally:
            writer.close()
        head, rest = received.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        assert length > 100
        assert rest.startswith(b"HTTP/1.1 200"), rest[:200]  # no body between the two
        assert rest.endswith(b"}") and b'"status":"ok"' in rest
