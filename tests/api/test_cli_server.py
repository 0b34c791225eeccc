"""`gambero token create` and the checks `gambero serve` makes before it starts."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from api.auth import Tokens
from gambero.cli import main
from timing.store import Store

from .conftest import EXAMPLE


def test_token_create_prints_a_token_that_works(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    event = tmp_path / "race" / "event.toml"
    shutil.copytree(EXAMPLE.parent, event.parent)
    assert main(["token", "create", str(event), "--role", "reader", "--reader",
                 "finish-main", "--label", "box 2"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("gmb_") and len(token) > 40

    async def check() -> tuple[str, str | None, str]:
        store = await Store.open(f"sqlite+aiosqlite:///{event.parent / 'gambero.db'}")
        try:
            found = await Tokens(store).check(token)
            assert found is not None
            assert token not in {record.token_hash for record in await store.tokens()}
            return found.role, found.reader, found.label
        finally:
            await store.close()

    assert asyncio.run(check()) == ("reader", "finish-main", "box 2")
    assert main(["token", "create", str(event), "--role", "reader"]) == 2
    assert "--reader" in capsys.readouterr().err


def test_serve_refuses_what_it_cannot_serve(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["serve", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["serve"]) == 2
    assert "DATABASE_URL" in capsys.readouterr().err
    assert main(["serve", str(EXAMPLE), "--web-only"]) == 2
    assert "REDIS_URL" in capsys.readouterr().err


def test_tokens_in_logged_urls_are_hidden() -> None:
    import logging

    from api.server import RedactTokens

    record = logging.LogRecord("uvicorn.error", logging.INFO, "x", 1,
                               '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5", "/ws/live?race=mile&token=gmb_secret&since=4"),
                               None)
    assert RedactTokens().filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5 - "WebSocket /ws/live?race=mile&token=***&since=4" [accepted]')


async def test_the_first_start_makes_an_admin_token_and_shows_it_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.runtime import Options
    from api.server import ADMIN_ENV, running

    monkeypatch.delenv(ADMIN_ENV, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    shown: list[str] = []
    async with running(url, EXAMPLE, Options(), announce=shown.append) as runtime:
        token = shown[0].rsplit(" ", 1)[1]
        assert token.startswith("gmb_")
        found = await Tokens(runtime.store).check(token)
        assert found is not None and found.role == "admin"
    async with running(url, EXAMPLE, Options(), announce=shown.append):
        pass
    assert len(shown) == 1  # not again
    monkeypatch.setenv(ADMIN_ENV, "gmb_chosen-by-the-operator")
    async with running(url, EXAMPLE, Options(), announce=shown.append) as runtime:
        chosen = await Tokens(runtime.store).check("gmb_chosen-by-the-operator")
        assert chosen is not None and chosen.role == "admin"
    assert len(shown) == 1
