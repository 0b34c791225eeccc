"""/ws/live hardening (issue 12): a token given under an encoded parameter name is still kept
out of the logs (case 6), and an upgrade request too large for websockets' parser is answered
and closed at once instead of being left open without a word (case 7).

The server tests run a real uvicorn with `gambero serve`'s websocket protocol on 127.0.0.1;
every wait is bounded."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.http11 import MAX_LINE_LENGTH

from api.runtime import Options
from api.server import ADMIN_ENV, RedactTokens

from .conftest import ADMIN, EXAMPLE
from .uvicorn_server import serving

SECRET = "gmb_s3cret-value-never-to-be-logged"
LOGGERS = ("uvicorn.error", "uvicorn.access")

# -- case 6: the redaction filter on strings ------------------------------------------------------

TOKEN_NAMES = ["token", "tok%65n", "%74oken", "TOKEN", "ToKeN", "%54%4F%4B%45%4E",
               "t%6fk%45n", "to%E2%84%AAen"]  # the last: KELVIN SIGN, whose lower() is "k"


def redacted(msg: str, args: Any = ()) -> str:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)
    assert RedactTokens().filter(record)
    return record.getMessage()


@pytest.mark.parametrize("name", TOKEN_NAMES)
def test_a_token_is_redacted_whatever_the_spelling_of_its_name(name: str) -> None:
    line = f'127.0.0.1:5 - "WebSocket /ws/live?race=mile&{name}={SECRET}&since=3" [accepted]'
    for shown in (redacted(line), redacted("%s", (line,)),
                  redacted("%(path)s", ({"path": line},))):
        assert SECRET not in shown
        assert "race=mile" in shown and "&since=3" in shown and "***" in shown


@pytest.mark.parametrize("value", [quote(SECRET, safe=""),  # nothing to encode: as is
                                   "".join(f"%{byte:02X}" for byte in SECRET.encode()),
                                   SECRET.replace("_", "%5F").replace("-", "%2d")])
def test_a_percent_encoded_token_is_redacted_whole(value: str) -> None:
    for name in ("token", "tok%65n"):
        shown = redacted(f"GET /ws/live?{name}={value} HTTP/1.1")
        assert shown == f"GET /ws/live?{name}=*** HTTP/1.1"


def test_other_parameters_and_text_are_left_alone() -> None:
    line = "GET /ws/live?tokens=1&broken=2&race=token&tok%65=3&toke%6E HTTP/1.1"
    assert redacted(line) == line
    assert redacted("%d clients, %s", (3, line)) == f"3 clients, {line}"
    assert redacted("GET /?token=abc&since=%d", (3,)) == "GET /?token=***&since=3"


def test_a_token_parameter_in_the_template_is_redacted_once_formatted() -> None:
    """Redacting the template alone would replace the placeholder (the secret in the
    argument then logged, or the formatting failing, whose report shows the arguments)."""
    assert redacted("GET /ws/live?token=%s&since=%d", (SECRET, 3)) == \
        "GET /ws/live?token=***&since=3"
    assert redacted("%s?TOKEN=%s", ("/ws/live", SECRET)) == "/ws/live?TOKEN=***"
    assert SECRET not in redacted("token=%s %s", (SECRET,))  # a template that cannot be used


# -- case 6: through a real server ----------------------------------------------------------------


class Kept(logging.Handler):
    """Every record of the loggers it is put on, formatted (after their filters ran)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def logged_at_debug() -> Iterator[Kept]:
    """Everything uvicorn (and websockets, which logs through uvicorn.error) logs, down to
    debug: the request lines and the accepted websockets' paths included."""
    kept = Kept()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(kept)
    try:
        yield kept
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(kept)
            logger.setLevel(level)


def ws_url(base: str, query: str) -> str:
    return base.replace("http://", "ws://") + "/ws/live?" + query


async def health_arrives(ws: ClientConnection, timeout: float = 5.0) -> bool:
    """Whether a health message (sent only to a timekeeper or an admin) arrives in time."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            return False
        if message["type"] == "health":
            return True
    return False


async def test_a_token_under_an_encoded_name_is_accepted_and_never_logged(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    options = Options(frame_interval=0.05, health_interval=0.1)
    async with serving(database_url, EXAMPLE, options) as base, \
            httpx.AsyncClient(base_url=base) as http:
        answer = await http.post("/api/tokens", headers={"Authorization": f"Bearer {ADMIN}"},
                                 json={"role": "timekeeper", "label": "hardening"})
        assert answer.status_code == 201, answer.text
        timekeeper = str(answer.json()["token"])
        encoded = "".join(f"%{byte:02x}" for byte in timekeeper.encode())
        secrets = [ADMIN, timekeeper, encoded]
        with logged_at_debug() as kept:
            for query in (f"tok%65n={ADMIN}", f"token={timekeeper}",
                          f"race=mile&%74oken={encoded}"):
                async with connect(ws_url(base, query), open_timeout=5, close_timeout=2) as ws:
                    assert await health_arrives(ws), query  # accepted as a timekeeper
            for query in (f"tok%65n={ADMIN}", f"TOKEN={timekeeper}"):
                assert (await http.get(f"/api/health?{query}")).status_code == 200
    assert any("WebSocket /ws/live?tok%65n=" in line for line in kept.lines), \
        "the accepted websocket's path was not logged: the test saw nothing"
    leaked = [line for line in kept.lines if any(secret in line for secret in secrets)]
    assert leaked == []
    assert any("WebSocket /ws/live?tok%65n=***" in line for line in kept.lines)
    assert any("/api/health?tok%65n=***" in line for line in kept.lines)


# -- case 7: upgrade requests too large for websockets' parser ------------------------------------

HEADERS = (b"Host: gambero\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
PROMPTLY = 3.0


def upgrade(target: bytes = b"/ws/live", extra: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\n" + HEADERS + extra + b"\r\n"


def target_of_line(length: int) -> bytes:
    """/ws/live with a query making the request line (CRLF included) `length` bytes long."""
    fixed = len(b"GET /ws/live?pad= HTTP/1.1\r\n")
    return b"/ws/live?pad=" + b"a" * (length - fixed)


@asynccontextmanager
async def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[int]:
    """A real server's port (SQLite: the database plays no part in the handshake)."""
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    async with serving(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", EXAMPLE,
                       Options(frame_interval=0.05)) as base:
        yield int(base.rsplit(":", 1)[1])


async def exchange(port: int, request: bytes, timeout: float = PROMPTLY) -> tuple[bytes, bool]:
    """Sends `request` on a raw socket; what came back within `timeout`, and whether the
    server closed the connection by then."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
    received = b""
    closed = False
    try:
        writer.write(request)
        await asyncio.wait_for(writer.drain(), timeout)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except TimeoutError:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
            if received.startswith(b"HTTP/1.1 101 "):
                break  # upgraded: a websocket stays open, that is for the caller to know
    finally:
        writer.close()
    return received, closed


@pytest.mark.parametrize(("request_bytes", "status"), [
    (upgrade(b"/ws/live?pad=" + b"a" * 10_000), b"414"),  # the reviewer's 10 KB request line
    (upgrade(target_of_line(MAX_LINE_LENGTH + 1)), b"414"),  # one byte over
    (upgrade(extra=b"X-Pad: " + b"a" * 9_000 + b"\r\n"), b"431"),  # one header line too long
    (upgrade(extra=b"".join(b"X-%d: a\r\n" % n for n in range(130))), b"431"),  # > 128 headers
    (upgrade(extra=b"Content-Length: 4\r\n"), b"400"),  # h11 takes it, websockets does not
], ids=["10KB-line", "line-over-limit", "long-header", "too-many-headers", "a-body"])
async def test_an_upgrade_request_websockets_refuses_is_answered_and_closed_promptly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request_bytes: bytes,
        status: bytes) -> None:
    async with server(tmp_path, monkeypatch) as port:
        started = time.monotonic()
        received, closed = await exchange(port, request_bytes)
        assert received.startswith(b"HTTP/1.1 " + status + b" "), received[:100]
        assert closed and time.monotonic() - started < PROMPTLY
        # and the server still serves upgrades afterwards
        received, _ = await exchange(port, upgrade())
        assert received.startswith(b"HTTP/1.1 101 ")


async def test_upgrades_of_normal_size_and_just_under_the_limit_are_served(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with server(tmp_path, monkeypatch) as port:
        for request in (upgrade(), upgrade(target_of_line(MAX_LINE_LENGTH)),
                        upgrade(extra=b"".join(b"X-%d: a\r\n" % n for n in range(100)))):
            received, closed = await exchange(port, request)
            assert received.startswith(b"HTTP/1.1 101 "), received[:100]
            assert not closed
        base = f"http://127.0.0.1:{port}"
        async with connect(ws_url(base, "pad=" + "a" * 7_000), open_timeout=5,
                           close_timeout=2) as ws:  # a real client gets the feed
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] == "snapshot"


async def test_the_server_stops_while_a_refused_upgrade_is_still_connected(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client does not hang up: before the fix the connection was left open, and stopping
    the server then failed (uvicorn answered it a second time: websockets' AssertionError)."""
    holder: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        async with server(tmp_path, monkeypatch) as port:
            connection = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
            holder.append(connection)
            connection[1].write(upgrade(b"/ws/live?pad=" + b"a" * 10_000))
            await asyncio.wait_for(connection[1].drain(), 2)
            await asyncio.sleep(0.3)  # the server has the request by now
        # leaving `server` stopped uvicorn without an error, within serving's 15 s bound
        answer = await asyncio.wait_for(holder[0][0].read(), 2)
        assert answer.startswith(b"HTTP/1.1 414 ")
    finally:
        for _, writer in holder:
            writer.close()
