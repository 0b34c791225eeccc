"""Every route that changes anything is refused without the right role: the OpenAPI document
is walked, and each mutating route is tried anonymously and with a token one role too weak."""

from __future__ import annotations

import time
from typing import Any

from .conftest import Served

PUBLIC_GETS = {"/api/health", "/api/event", "/api/races", "/api/races/{race_id}/results",
               "/api/races/{race_id}/results.csv", "/api/results.csv", "/api/athletes/{bib}"}
PARAMETERS = {"race_id": "mile", "bib": "1", "reader_id": "finish-main", "token_id": "1"}


def routes(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def concrete(path: str) -> str:
    for name, value in PARAMETERS.items():
        path = path.replace("{" + name + "}", value)
    return path


async def test_every_mutating_route_refuses_anonymous_and_too_weak_callers(
        served: Served) -> None:
    document = (await served.client.get("/openapi.json")).json()
    mutating = [(m, p) for m, p in routes(document) if m != "GET"]
    assert set(mutating) >= {  # the walk really covers the timekeeper API of docs/api.md
        ("POST", "/api/races/{race_id}/gun"), ("POST", "/api/manual"),
        ("POST", "/api/athletes/{bib}/status"), ("POST", "/api/athletes/{bib}/penalty"),
        ("PATCH", "/api/athletes/{bib}"), ("POST", "/api/chips"), ("POST", "/api/participants"),
        ("POST", "/api/readers"), ("POST", "/api/readers/{reader_id}/start"),
        ("POST", "/api/readers/{reader_id}/stop"), ("POST", "/api/readers/{reader_id}/reads"),
        ("POST", "/api/tokens"), ("DELETE", "/api/tokens/{token_id}")}
    reader_token = await served.token("reader", "half-box")  # another reader than finish-main
    timekeeper_token = await served.token("timekeeper")
    seq = (await served.client.get("/api/health")).json()["seq"]
    for method, path in mutating:
        url = concrete(path)
        anonymous = await served.client.request(method, url, json={})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert "token" in anonymous.json()["detail"]
        weaker = timekeeper_token if path.startswith("/api/tokens") else reader_token
        refused = await served.client.request(method, url, json={},
                                              headers=served.auth(weaker))
        assert refused.status_code == 403, (method, path, refused.text)
        revoked = await served.client.request(method, url, json={},
                                              headers=served.auth("gmb_not-a-token"))
        assert revoked.status_code == 401, (method, path)
    assert (await served.client.get("/api/health")).json()["seq"] == seq  # nothing journaled


async def test_only_the_public_routes_answer_without_a_token(served: Served) -> None:
    document = (await served.client.get("/openapi.json")).json()
    gets = [path for method, path in routes(document) if method == "GET"]
    for path in gets:
        answer = await served.client.get(concrete(path))
        if path in PUBLIC_GETS:
            assert answer.status_code == 200, (path, answer.text)
        else:
            assert answer.status_code == 401, (path, answer.text)
    assert set(gets) >= PUBLIC_GETS


async def test_reader_tokens_post_for_their_own_reader_only(served: Served) -> None:
    token = await served.token("reader", "finish-main")
    headers = {**served.auth(token), "Content-Type": "text/plain"}
    own = await served.client.post("/api/readers/finish-main/reads", content=b"",
                                   headers=headers)
    assert own.status_code == 200 and own.json()["accepted"] == 0
    other = await served.client.post("/api/readers/finish-backup/reads", content=b"",
                                     headers=headers)
    assert other.status_code == 403
    assert (await served.client.get("/api/readers/finish-main",
                                    headers=served.auth(token))).status_code == 403
    whoami = await served.client.get("/api/auth/whoami", headers=served.auth(token))
    assert whoami.json() == {"role": "reader", "reader": "finish-main", "label": "reader"}


async def test_tokens_are_stored_hashed_and_can_be_revoked(served: Served) -> None:
    token = await served.token("timekeeper")
    listed = (await served.client.get("/api/tokens", headers=served.admin)).json()
    assert token not in str(listed) and all("hash" not in key for item in listed
                                            for key in item)
    records = await served.runtime.store.tokens()
    assert token not in {record.token_hash for record in records}
    made = next(item for item in listed if item["role"] == "timekeeper")
    assert (await served.client.get("/api/auth/whoami",
                                    headers=served.auth(token))).status_code == 200
    revoked = await served.client.delete(f"/api/tokens/{made['id']}", headers=served.admin)
    assert revoked.json() == {"id": made["id"], "revoked": True}
    assert (await served.client.get("/api/auth/whoami",
                                    headers=served.auth(token))).status_code == 401
    again = await served.client.delete(f"/api/tokens/{made['id']}", headers=served.admin)
    assert again.status_code == 404
    bad = await served.client.post("/api/tokens", headers=served.admin,
                                   json={"role": "reader", "reader": None})
    assert bad.status_code == 400


async def test_wrong_tokens_do_not_reload_the_tokens_table_each_time(served: Served) -> None:
    store = served.runtime.store
    calls = 0
    original = store.tokens

    async def counted() -> Any:
        nonlocal calls
        calls += 1
        return await original()

    store.tokens = counted  # type: ignore[method-assign]
    started = time.monotonic()
    try:
        for number in range(30):
            answer = await served.client.post("/api/races/mile/gun", json={},
                                              headers=served.auth(f"gmb_wrong-{number}"))
            assert answer.status_code == 401
    finally:
        store.tokens = original  # type: ignore[method-assign]
    # at most one reload a second (30 without the limit)
    assert calls <= 2 + int(time.monotonic() - started)
