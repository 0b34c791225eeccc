"""Participants at the desk across processes: a `--web-only` process given EVENT.toml lists the
files' problems too (without printing them: the core's process imported), and makes reader
tokens for a reader the core's process added while the event runs. Needs Redis
(GAMBERO_TEST_REDIS_URL), as tests/api/test_redis.py."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from api.server import ADMIN_ENV

from .conftest import ADMIN
from .processes import free_port, start, stop, wait_up
from .test_people import event_with_problems
from .test_redis import REDIS_URL, redis_unreachable

pytestmark = pytest.mark.skipif(redis_unreachable() is not None,
                                reason=redis_unreachable() or "")
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def test_a_web_only_process_lists_the_problems_and_knows_added_readers(tmp_path: Path) -> None:
    event = event_with_problems(tmp_path / "race")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}", "REDIS_URL": REDIS_URL,
           "GAMBERO_REDIS_PREFIX": f"gambero-test-{secrets.token_hex(6)}", ADMIN_ENV: ADMIN}
    core_port, web_port = free_port(), free_port()
    core_log, web_log = tmp_path / "core.log", tmp_path / "web.log"
    core = start(["serve", str(event), "--no-readers", "--port", str(core_port)], env, core_log)
    web = None
    try:
        core_url, web_url = f"http://127.0.0.1:{core_port}", f"http://127.0.0.1:{web_port}"
        wait_up(core_url, core, core_log)
        web = start(["serve", str(event), "--web-only", "--port", str(web_port)], env, web_log)
        wait_up(web_url, web, web_log)
        problems = httpx.get(f"{web_url}/api/participants/problems", headers=AUTH).json()
        assert {problem["bib"] for problem in problems["problems"]} == {"901", "902", "1"}
        assert problems["source"] == str(event)
        added = httpx.post(f"{core_url}/api/readers", headers=AUTH,
                           json={"id": "finish-late", "point": "finish", "format": "ipico"})
        assert added.status_code == 201, added.text
        made = httpx.post(f"{web_url}/api/tokens", headers=AUTH,
                          json={"role": "reader", "reader": "finish-late", "label": "late"})
        assert made.status_code == 201, made.text
        refused = httpx.post(f"{web_url}/api/tokens", headers=AUTH,
                             json={"role": "reader", "reader": "finish-nope", "label": "x"})
        assert refused.status_code == 400 and "finish-late" in refused.json()["detail"]
    finally:
        if web is not None:
            stop(web)
        stop(core)
    assert "3 problems in the event's files" in core_log.read_text()
    assert "problems in the event's files" not in web_log.read_text()
