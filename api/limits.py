"""Limits on requests: body size (all routes) and request rate (public routes, per client)."""

from __future__ import annotations

import time

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PREFIXES = ("/api/health", "/api/event", "/api/races", "/api/athletes")


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._too_large(send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse({"detail": f"request body over {self.limit} bytes"}, 413)
        await response({"type": "http"}, _nothing, send)


class _TooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing passes it on (as 413) instead of
    answering 400 "error parsing the body" for a streamed body that grew too large."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


class RateLimit:
    """A token bucket per client address for the public GET routes: `rate` requests a second
    on average, bursts of `burst`; over that, 429 with Retry-After. Tokens make no difference
    (an unchecked header would let anyone past). Behind a reverse proxy every client has
    the proxy's address unless the proxy sends X-Forwarded-For (docs/deploy.md)."""

    def __init__(self, app: ASGIApp, rate: float, burst: int, max_clients: int = 100_000
                 ) -> None:
        self.app = app
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "GET"
                and scope["path"].startswith(PUBLIC_PREFIXES)):
            client = scope.get("client")
            wait = self._take(client[0] if client else "")
            if wait > 0:
                response = JSONResponse({"detail": "too many requests: slow down"}, 429,
                                        headers={"Retry-After": str(max(1, round(wait)))})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _take(self, key: str) -> float:
        """Seconds to wait before a request is allowed (0: allowed now, and counted)."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self._buckets) >= self.max_clients and key not in self._buckets:
            self._buckets.clear()  # a flood of addresses: forget them all rather than grow
        self._buckets[key] = (tokens - 1, now)
        return 0.0
