"""The websocket protocol `gambero serve` runs under uvicorn: uvicorn's websockets-sansio
protocol plus one ASGI extension, `gambero.detach`, with which /ws/live hands an accepted
connection over to the live feed and returns.

Why: a websocket held by an ASGI app keeps the app's whole call chain alive for as long as it
is open (uvicorn's task, the middlewares, FastAPI's routing and dependency frames, the receive
queue): about 20 KB per idle client, more than everything else about it. Detached, a
connection is the transport, this protocol and websockets' parser; the feed writes frames
(encoded and framed once for all clients) straight to the transport, and this protocol calls
the handler back when the client sends a message, when the transport can take more after
having been full, and when the connection is gone.

Under another server (or another uvicorn protocol) the extension is absent and /ws/live
serves the same feed as a plain ASGI endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from uvicorn.config import Config
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.http11 import Request
from websockets.server import ServerProtocol

from api.subscribers import DEFLATE_BITS

DETACH = "gambero.detach"
"""scope["extensions"][DETACH]["detach"](handler) -> the connection (a `LiveWebSocket`)."""
INVALID_DATA = 1007
BAD_REQUEST = 400
DEFLATE = ServerPerMessageDeflateFactory(server_no_context_takeover=True,
                                         client_no_context_takeover=True)
"""permessage-deflate with every message compressed on its own, both ways (RFC 7692 lets a
server ask for both): a connection then holds no compressor or decompressor between
messages (uvicorn's own settings keep both: about 40 KB per connection), and a message
compressed once suits every client."""


class ConnectionHandler(Protocol):
    """What a detached connection calls back (each call must return at once)."""

    def received(self, text: str) -> None:
        """A text message from the client."""

    def writable(self) -> None:
        """The transport's buffer, full before, has drained: it can take more."""

    def lost(self) -> None:
        """The connection is closed (may be called more than once)."""


class _Discard:
    """Stands in for the receive queue of a detached connection: no app receives any more."""

    def put_nowait(self, message: object) -> None:
        pass

    def empty(self) -> bool:
        return True


_DISCARD = _Discard()


class LiveWebSocket(WebSocketsSansIOProtocol):
    handler: ConnectionHandler | None = None
    """Set by `detach`; called back once the app has returned."""
    handed_over = False
    writing_paused = False
    """The transport's buffer is above its high-water mark: the client is not keeping up (a
    plain attribute, read once per client per pass)."""
    deflate = False
    """The client negotiated permessage-deflate as `DEFLATE` offers it, with a window the
    feed's compressed messages fit (set by `detach`)."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if config.ws_per_message_deflate:  # the same compression, without its memory
            self.conn = ServerProtocol(extensions=[DEFLATE], max_size=config.ws_max_size,
                                       logger=logging.getLogger("uvicorn.error"))

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if (not self.handshake_initiated and self.conn.handshake_exc is not None
                and not self.close_sent):
            self._refuse_request()

    def _refuse_request(self) -> None:
        """Answer and close a request websockets could not read as a handshake.

        uvicorn's HTTP protocol hands the upgrade request over whole, but websockets limits
        it more tightly (a line of 8 KB, 128 headers) and takes no body: it then queues a 414,
        a 431, or (for a request it cannot parse at all) only the end of the stream, and
        yields no request. uvicorn 0.54 acts only on a request, so nothing was ever written:
        the connection stayed open, unanswered, for as long as the client kept it, and
        stopping the server then failed (its `shutdown` tried to answer with a 500, which
        tripped websockets' `assert not self.eof_sent`). Here the answer is written and the
        connection closed, as uvicorn does for a handshake websockets refuses
        (`handle_connect`).
        `handshake_initiated`, `handshake_complete` and `close_sent` are uvicorn's internals."""
        answer = b"".join(self.conn.data_to_send())  # the response, if any, then b"" (EOF)
        if not answer:  # as uvicorn answers a request h11 cannot parse
            answer = self.conn.reject(BAD_REQUEST, "Invalid WebSocket request.\n").serialize()
        self.logger.warning("Invalid WebSocket request received: %s",
                            answer.split(b"\r\n", 1)[0].decode("ascii", "replace"))
        self.handshake_complete = True  # so that `shutdown` does not answer again
        self.close_sent = True
        self.transport.write(answer)
        self.transport.close()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if not self.close_sent:  # upgraded: the app is about to run with this scope
            self.scope["extensions"][DETACH] = {"detach": self.detach}

    def detach(self, handler: ConnectionHandler) -> LiveWebSocket:
        """Called by the app after `websocket.accept`; the app must then return without
        receiving or sending through ASGI. The connection stays open; `handler` gets its
        events from then on (what arrived meanwhile too)."""
        if not self.handshake_complete or self.initial_response is not None:
            raise RuntimeError("detach a websocket only after accepting it")
        self.handler = handler
        self.deflate = any(isinstance(extension, PerMessageDeflate)
                           and extension.local_no_context_takeover
                           and extension.local_max_window_bits >= DEFLATE_BITS
                           for extension in self.conn.extensions)
        return self

    # -- what the feed uses --------------------------------------------------------------------


    def write(self, data: bytes) -> None:
        """Bytes already framed (a whole websocket message), straight to the transport."""
        if not (self.close_sent or self.transport.is_closing()):
            self.transport.write(data)

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake (the transport is closed if the client does not
        answer within the close timeout)."""
        if self.close_sent or self.transport.is_closing():
            return
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        # abort, not close: close() waits for the buffer to drain, which a client that
        # stopped reading never lets happen.
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    # -- uvicorn's protocol, with a detached connection outliving its app ------------------------

    async def run_asgi(self) -> None:
        failed = False
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            result = None
        except BaseException:
            failed = True
            result = None
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        if self.handler is not None:
            if not failed and result is None:
                self._hand_over()
                return
            handler, self.handler = self.handler, None
            handler.lost()  # the connection is closed below after all
        if not self.handshake_complete:
            self.logger.error("ASGI callable returned without completing handshake.")
            self.send_500_response()
        elif result is not None:
            self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.close_timer is None:
            self.transport.close()

    def _hand_over(self) -> None:
        handler = self.handler
        assert handler is not None
        waiting: Any = self.queue
        self.queue = _DISCARD  # type: ignore[assignment]
        self.handed_over = True
        # Kept by uvicorn for the app (the scope, the handshake), which has returned.
        del self.scope, self.request, self.response
        while not waiting.empty():
            message = waiting.get_nowait()
            if message["type"] == "websocket.receive" and message.get("text") is not None:
                handler.received(message["text"])
        if self.disconnected:
            handler.lost()
        elif self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()

    def send_receive_event_to_app(self) -> None:
        if not self.handed_over:
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent or self.curr_msg_data_type != "text" or self.handler is None:
            return  # closing, or a binary message: the feed takes text only
        try:
            text = bytes(data).decode()
        except UnicodeDecodeError:
            self.close(INVALID_DATA, "invalid UTF-8")
            return
        self.handler.received(text)

    def pause_writing(self) -> None:
        super().pause_writing()
        self.writing_paused = True

    def resume_writing(self) -> None:
        super().resume_writing()
        self.writing_paused = False
        if self.handler is not None:
            self.handler.writable()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.writing_paused = False  # as uvicorn unblocks its senders: the buffer is gone
        if self.handed_over and self.handler is not None:
            self.handler.lost()
