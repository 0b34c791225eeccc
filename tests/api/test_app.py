"""The app around the routes: the pages of display/, body size and public rate limits, and
the OpenAPI document's errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running

from .conftest import ADMIN, app_with_pages


@pytest.fixture
async def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    async with app_with_pages(tmp_path, max_body=1000, public_rate=1.0, public_burst=5) as http:
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


def _document() -> dict[str, Any]:
    return create_app(lambda: running("", None, Options())).openapi()


def test_the_openapi_document_shows_every_error_body_as_answered() -> None:
    """One body for every error, {"detail": str}: FastAPI's own 422 (a list) is nowhere."""
    document = _document()
    assert "ValidationError" not in json.dumps(document)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                assert answer["content"] == {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Error"}}}, (method, path, status)
            assert "413" in operation["responses"], (method, path)


def test_the_openapi_document_lists_the_answers_issue_12_found_missing() -> None:
    paths = _document()["paths"]

    def statuses(method: str, path: str) -> set[int]:
        return {int(status) for status in paths[path][method]["responses"]}

    assert {400, 503} <= statuses("post", "/api/participants")
    assert 404 in statuses("get", "/api/races/{race_id}/results.csv")
    assert {501, 503} <= statuses("post", "/api/readers")
    assert {409, 415, 422, 503} <= statuses("post", "/api/readers/{reader_id}/reads")
    for path in ("/api/manual", "/api/chips", "/api/races/{race_id}/gun",
                 "/api/athletes/{bib}/status", "/api/athletes/{bib}/penalty"):
        assert {400, 401, 403, 409, 422, 503} <= statuses("post", path), path
    for path, item in paths.items():
        if "get" in item and item["get"]["tags"] == ["public"]:
            assert 429 in statuses("get", path), path
    # a route whose only parameter is a plain string cannot answer 422; it does not say so
    assert 422 not in statuses("get", "/api/athletes/{bib}")
    assert 422 not in statuses("post", "/api/readers/{reader_id}/start")
    csv = paths["/api/races/{race_id}/results.csv"]["get"]["responses"]["200"]
    assert list(csv["content"]) == ["text/csv"]


async def test_limits_answer_the_error_body(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "text/plain"}
    big = await client.post("/api/readers/finish-main/reads", content=b"x" * 1001,
                            headers=auth)
    assert big.status_code == 413 and set(big.json()) == {"detail"}
    odd = await client.post("/api/readers/finish-main/reads", content=b"x",
                            headers={**auth, "Content-Type": "image/png"})
    assert odd.status_code == 415 and set(odd.json()) == {"detail"}
    answers = [await client.get("/api/races") for _ in range(8)]
    assert answers[-1].status_code == 429 and set(answers[-1].json()) == {"detail"}
