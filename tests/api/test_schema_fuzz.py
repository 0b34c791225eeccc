"""Every operation of the app's own OpenAPI document, fuzzed (schemathesis): valid and invalid
parameters and bodies, each sent with no token, an invalid one and an admin's (and, to the
reads route, a reader's). No answer may be a 5xx, and every answer must be as the document
says: a documented status, its content type, a body matching its schema, its headers.

The app runs in-process (as conftest's `served` does) on an event loop of its own, in a thread:
schemathesis drives its tests synchronously, and the app's runtime (the core, the live feed)
must live on one loop from start to stop. One app for all the operations, on each database
(PostgreSQL when GAMBERO_TEST_POSTGRES_URL is set): what one example changed, the next meet.

Bounded and reproducible: a fixed number of examples per operation, derandomized (the same
examples on every run), no example database (nothing written anywhere). About half the values
that name something (a bib, a race, a reader, a time) are steered to ones the example event
has, as a function of the generated value: the routes get past their 404s and 422s."""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import io
import threading
import zlib
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running
from readers.protocols import FORMATS

from ..databases import BACKENDS, fresh_url
from .conftest import ADMIN, EXAMPLE

EXAMPLES = 40
"""Examples generated per operation; the schema's examples and boundary values come on top
(about 70 cases per operation in all, each sent three or four times)."""
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
ANSWERED_5XX = {("POST", "/api/readers"): {501}}
"""The 5xx answered on purpose (documented): 501, a reader with a link (port, host, path) on
a server that runs no live readers, as this one (`Options.live_readers` off)."""
READER = "finish-main"
MORNING_MS = 1778396400000
"""09:00 on the example's race day, Europe/Rome: times are steered into the four hours after."""
KNOWN: dict[str, list[Any]] = {
    "race_id": ["mile", "kids"], "race": ["mile", "kids"], "bib": ["1", "2", "12", "40"],
    "reader_id": [READER, "half-box", "finish-hand"], "reader": [READER, "half-box"],
    "point": ["finish", "half", "start"], "format": list(FORMATS), "wave": ["elite", "open"],
    "chip": ["058000120007", "05800012002d"], "gender": ["F", "M", "X"],
    "birth_date": ["1990-02-03", ""], "port": [None], "host": [None], "path": [None],
}
"""Values the example event knows, by parameter or field name (None: leave the field out)."""

Case = schemathesis.Case[Any]
DOCUMENT = create_app(lambda: running("", None, Options())).openapi()
"""What GET /openapi.json answers (`test_the_document_fuzzed_is_the_one_served`)."""
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True, database="none",
                                with_security_parameters=False)


class Server:
    """The app, started on its own event loop in a thread; `send` is called from the test's."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-app",
                                       daemon=True)
        self.stop = asyncio.Event()
        self.client: httpx.AsyncClient | None = None
        self.served: concurrent.futures.Future[None] | None = None
        self.reader_token = ""
        self.kept: set[str] = set()
        """Token ids never to revoke (the admin's, the reader's)."""
        self.spare: list[str] = []
        """Token ids to revoke."""

    def __enter__(self) -> Server:
        self.thread.start()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.served = asyncio.run_coroutine_threadsafe(self._serve(ready), self.loop)
        ready.result(timeout=120)
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        try:
            assert self.served is not None
            self.served.result(timeout=120)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()

    async def _serve(self, ready: concurrent.futures.Future[None]) -> None:
        """Start and stop in one task, as a server's lifespan does."""
        try:
            app = create_app(lambda: running(self.url, EXAMPLE, Options(
                frame_interval=0.05, health_interval=0.2)), public_rate=1e9, public_burst=10**9)
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(app.router.lifespan_context(app))
                self.client = await stack.enter_async_context(httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://gambero"))
                await self._tokens()
                ready.set_result(None)
                await self.stop.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            raise

    async def _tokens(self) -> None:
        assert self.client is not None
        for role, reader in (("reader", READER), ("timekeeper", None), ("timekeeper", None)):
            made = await self.client.post("/api/tokens", headers=auth(ADMIN), json={
                "role": role, "reader": reader, "label": "fuzz"})
            assert made.status_code == 201, made.text
            if role == "reader":
                self.reader_token = made.json()["token"]
                self.kept.add(str(made.json()["id"]))
            else:
                self.spare.append(str(made.json()["id"]))
        listed = await self.client.get("/api/tokens", headers=auth(ADMIN))
        self.kept |= {str(token["id"]) for token in listed.json() if token["role"] == "admin"}

    def send(self, request: requests.PreparedRequest) -> httpx.Response:
        assert self.client is not None
        headers = {name: value.decode("latin-1") if isinstance(value, bytes) else value
                   for name, value in request.headers.items()}
        call = self.client.request(request.method or "GET", request.url or "/",
                                   headers=headers, content=_bytes(request.body))
        return asyncio.run_coroutine_threadsafe(call, self.loop).result(timeout=120)

    def get(self, path: str) -> httpx.Response:
        assert self.client is not None
        return asyncio.run_coroutine_threadsafe(self.client.get(path),
                                                self.loop).result(timeout=120)


def _bytes(body: object) -> bytes:
    """A prepared request's body (requests prepares bytes, or str, or nothing)."""
    if isinstance(body, str):
        return body.encode()
    assert body is None or isinstance(body, bytes), type(body)
    return body or b""


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    url = asyncio.run(fresh_url(request.param, tmp_path_factory.mktemp("fuzz")))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ADMIN_ENV, ADMIN)
        with Server(url) as started:
            yield started


def _pick(seed: int, name: str, value: object) -> tuple[bool, Any]:
    """(whether to steer, to what): a function of the case (`seed`) and the value."""
    choices = KNOWN.get(name)
    if name == "time_ms" and isinstance(value, int) and not isinstance(value, bool):
        choices = [MORNING_MS + value % (4 * 3_600_000)]
    if choices is None:
        return False, None
    pick = zlib.crc32(f"{seed}:{name}={value!r}".encode())
    return pick % 2 == 1, choices[pick // 2 % len(choices)]


def _steered(seed: int, value: Any) -> Any:
    if isinstance(value, list):
        return [_steered(seed, item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        steer, known = _pick(seed, key, item) if isinstance(key, str) else (False, None)
        if not steer:
            out[key] = _steered(seed, item)
        elif known is not None:
            out[key] = known
    return out


def _participants(text: str) -> str:
    """A participants list whose one row carries the generated text as names and club."""
    out = io.StringIO()
    table = csv.writer(out, lineterminator="\n")
    table.writerow(["bib", "first_name", "last_name", "gender", "race", "club"])
    table.writerow([str(900 + zlib.crc32(text.encode("utf-8", "replace")) % 100), text, text,
                    "F", "mile", text])
    return out.getvalue()


def steer(case: Case, server: Server) -> None:
    """About half the names in paths and JSON bodies become ones the event knows; half the
    participants lists carry the generated text in a well-formed row."""
    body = None if isinstance(case.body, NotSet) else case.body  # its repr has an address
    seed = zlib.crc32(repr((case.method, case.path_parameters, case.query, body)).encode())
    for name, value in list((case.path_parameters or {}).items()):
        go, known = _pick(seed, name, value)
        if name == "token_id":
            go, known = True, value
            if str(value) in server.kept or seed % 2:
                known = server.spare[seed // 2 % len(server.spare)]
        if case.operation.path.endswith("/stop") and known == READER:
            known = "half-box"  # keep the reads route's reader running
        if go:
            case.path_parameters[name] = known
    if isinstance(case.body, dict | list):
        case.body = _steered(seed, case.body)
    elif (case.operation.path == "/api/participants" and case.media_type == "text/csv"
          and isinstance(case.body, str | bytes) and seed % 2):
        text = case.body.decode("utf-8", "replace") if isinstance(case.body, bytes) else case.body
        case.body = _participants(text)


def _callers(case: Case, server: Server) -> list[tuple[str, dict[str, str]]]:
    callers = [("no token", {}), ("an invalid token", auth("gmb_not-a-valid-token")),
               ("the admin token", auth(ADMIN))]
    if case.operation.path.endswith("/reads"):
        callers.append(("the reader's token", auth(server.reader_token)))
    return callers


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_every_operation_answers_as_documented(case: Case, server: Server) -> None:
    steer(case, server)
    for caller, headers in _callers(case, server):
        sent = case.as_transport_kwargs(base_url="http://gambero")
        sent["headers"].update(headers)
        request = requests.Request(sent["method"], sent["url"], headers=sent["headers"],
                                   params=sent.get("params"), cookies=sent.get("cookies"),
                                   json=sent.get("json"), data=sent.get("data"),
                                   files=sent.get("files")).prepare()
        answer = server.send(request)
        try:
            assert answer.status_code < 500 or answer.status_code in ANSWERED_5XX.get(
                (case.method, case.operation.path), ()), "a server error"
            case.validate_response(answer, checks=CHECKS, headers=sent["headers"])
        except Exception as failure:
            failure.add_note(f"sent with {caller}: {request.method} {request.url}\n"
                             f"{_bytes(request.body)[:2000]!r}\n-> {answer.status_code} "
                             f"{answer.text[:2000]}")
            raise


def test_the_document_fuzzed_is_the_one_served(server: Server) -> None:
    served = server.get("/openapi.json").json()
    assert served == DOCUMENT
    assert "ValidationError" not in str(served)  # FastAPI's 422 body: not what the app answers
