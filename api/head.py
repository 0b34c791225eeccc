"""HEAD wherever GET works: the request is answered as the GET would be (same status, same
headers, Content-Length included), without the body.

FastAPI's routes answer only the methods they declare, and declaring HEAD beside GET would
make a second OpenAPI operation with the same id; one middleware covers every route instead,
the pages and /static too, and HEAD is limited as a GET is (it runs inside as one)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_EXTENSIONS = ("http.response.pathsend", "http.response.zerocopysend")
"""Server extensions by which a response may send a file instead of body messages: hidden
from a HEAD, so that its body can only come as messages, which are dropped."""


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server keeps the original scope, and must still see a HEAD.
        inner = {**scope, "method": "GET"}
        if "extensions" in scope:
            inner["extensions"] = {name: value for name, value in scope["extensions"].items()
                                   if name not in BODY_EXTENSIONS}

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(inner, receive, headers_only)
