"""Running the server of `gambero serve` and `gambero demo` so that a start-up error ends the
command with one line saying what is wrong and what to do, not with uvicorn's traceback.

Left to uvicorn, the runtime (database, event import, the journal's writer lock, Redis) would be
opened in the app's lifespan, where any error becomes uvicorn's "Exception in 'lifespan'"
traceback, and the port would be bound only after it. Here the port is bound first (a port in
use is found at once, before the 5 s wait for a writer lock held elsewhere), then the runtime is
opened, then uvicorn serves the app over both. Loaded only by those two commands (it loads
uvicorn and the app).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import uvicorn

from api.app import create_app
from api.runtime import Runtime
from api.server import ServeError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
log = logging.getLogger("gambero.server")


class ListenError(Exception):
    """The address and port cannot be listened on; the message says why and what to do."""


def listen(host: str, port: int) -> list[socket.socket]:
    """Bound, listening sockets for `host` (every address it resolves to, as uvicorn would
    bind them) and `port`."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on {host}: {error.strerror} - give --host an "
                          "address of this machine (127.0.0.1, or 0.0.0.0 for the LAN)"
                          ) from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, protocol, _, address in dict.fromkeys(
                (info[0], info[1], info[2], "", info[4]) for info in infos):
            sock = socket.socket(family, kind, protocol)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # as asyncio does: IPv4 gets a socket of its own
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError as error:
        for sock in sockets:
            sock.close()
        raise ListenError(_listen_failure(host, port, error)) from None
    return sockets


def _listen_failure(host: str, port: int, error: OSError) -> str:
    where = f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (another gambero serve or demo, or "
                f"another server) - stop that one, or choose another port with --port")
    if error.errno == errno.EACCES:
        return (f"not allowed to listen on {where} (ports below 1024 need root) - use a port "
                "above 1024 with --port")
    if error.errno == errno.EADDRNOTAVAIL:
        return (f"{host} is not an address of this machine - give --host one of its "
                "addresses (127.0.0.1, or 0.0.0.0 for the LAN)")
    return f"cannot listen on {where}: {error.strerror or error} - check --host and --port"


RuntimeFactory = Callable[[], AbstractAsyncContextManager[Runtime]]


def serve(command: str, open_runtime: RuntimeFactory, *, host: str, port: int,
          log_level: str, debug: bool = False, started: Callable[[], None] | None = None,
          uvicorn_options: dict[str, Any] | None = None) -> int:
    """Listen, open the runtime, serve until stopped (Ctrl-C, SIGTERM); the exit status.

    A start-up error is one line on stderr, `gambero COMMAND: ...`, and status 1 (2 for input
    that cannot be used); `debug` adds its traceback. `started` is called once listening."""
    try:
        sockets = listen(host, port)
    except ListenError as error:
        return _failed(command, str(error), EXIT_FAILED)
    if started is not None:
        started()
    runtime_box: list[Runtime] = []
    try:
        config = uvicorn.Config(create_app(lambda: _opened(runtime_box)), log_level=log_level,
                                **(uvicorn_options or {}))
        return asyncio.run(_serve(command, open_runtime, runtime_box, config, sockets, debug))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C or SIGTERM while starting
        print(f"gambero {command}: stopped before it had started", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        for sock in sockets:
            sock.close()


async def _serve(command: str, open_runtime: RuntimeFactory, runtime_box: list[Runtime],
                 config: uvicorn.Config, sockets: list[socket.socket], debug: bool) -> int:
    async with contextlib.AsyncExitStack() as stack:
        with _sigterm_cancels_start_up():
            try:
                runtime_box.append(await stack.enter_async_context(open_runtime()))
            except ServeError as error:
                if debug:
                    traceback.print_exc()
                return _failed(command, str(error), error.status)
            except Exception as error:  # a bug, not the operator's doing: say where to look
                if debug:
                    traceback.print_exc()
                else:
                    log.debug("start-up failed", exc_info=True)
                return _failed(command, f"could not start: {type(error).__name__}: {error} - "
                                        "run it again with --debug for the details",
                               EXIT_FAILED)
        await _Server(config).serve(sockets=sockets)
    return EXIT_OK


@asynccontextmanager
async def _opened(runtime_box: list[Runtime]) -> AsyncIterator[Runtime]:
    """The app's lifespan over the runtime `_serve` opened (and will stop) itself."""
    yield runtime_box[0]


@contextlib.contextmanager
def _sigterm_cancels_start_up() -> Iterator[None]:
    """SIGTERM while the runtime opens (an import, a journal replay) stops it cleanly: the
    start-up is cancelled and what was opened is closed. (Ctrl-C does the same by itself.)"""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:
            _log_listening(sockets)  # uvicorn says it only for sockets it binds itself

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, without raising the signal again once it has stopped: that would end the
        process (SIGTERM) or cancel it (Ctrl-C) before `_serve` has stopped the runtime, whose
        last journal commits must be waited for."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {number: signal.signal(number, self.handle_exit) for number in handled}
        try:
            yield
        finally:
            for number, handler in original.items():
                signal.signal(number, handler)


def _log_listening(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
        logging.getLogger("uvicorn.error").info(
            "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, port)


def _failed(command: str, message: str, status: int) -> int:
    print(f"gambero {command}: {message}", file=sys.stderr, flush=True)
    return status
