"""`gambero serve` with the live feed's fan-out timed, for bench/live.py.

    python bench/live_server.py --stats FRAMES.json [--frame-interval S] -- EVENT.toml --port P

Runs `gambero serve` unchanged except that `Broadcaster.send` notes, for every chunk of
clients a pass of the fan-out writes to, the seq it brought them to, when it started and
ended (time.perf_counter, the system's monotonic clock: comparable with the benchmark's), to
how many clients, the CPU time it took, and which pass and chunk it was; and the feed notes
when each commit's delta reached it; both lists are written to FRAMES.json when the server
stops (SIGTERM). `--frame-interval` replaces
`Options.frame_interval`, to compare.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import time
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import CollectionTimer

from api import live
from api.broadcast import Broadcaster
from api.live import FrameSource
from gambero.cli import main as gambero
from timing.bus import Lagged
from timing.core import Delta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument("--frame-interval", type=float)
    parser.add_argument("--chunk", type=int, help="clients written per turn of the event loop")
    parser.add_argument("serve", nargs=argparse.REMAINDER, help="gambero serve's arguments")
    args = parser.parse_args()
    chunks: list[tuple[int, float, float, int, float, int, int]] = []
    commits: list[tuple[int, float]] = []
    send = Broadcaster.send
    absorb = live._Pending.absorb
    position = {"pass": -1, "chunk": 0}

    def timed_absorb(self: live._Pending, message: Delta | Lagged) -> None:
        if isinstance(message, Delta):
            commits.append((message.seq, time.perf_counter()))
        absorb(self, message)

    live._Pending.absorb = timed_absorb  # type: ignore[method-assign]

    def timed_send(self: Broadcaster, clients: Iterable[Any]) -> None:
        clients = list(clients)
        if position["pass"] != self.passes:
            position["pass"], position["chunk"] = self.passes, 0
        started, cpu = time.perf_counter(), time.thread_time()
        send(self, clients)
        chunks.append((self.published_seq, started, time.perf_counter(), len(clients),
                       time.thread_time() - cpu, self.passes, position["chunk"]))
        position["chunk"] += 1

    Broadcaster.send = timed_send  # type: ignore[method-assign]
    collections = CollectionTimer()
    objects: list[tuple[float, int, int]] = []
    count_send = Broadcaster.send

    def counting_send(self: Broadcaster, clients: Iterable[Any]) -> None:
        if not objects or time.perf_counter() - objects[-1][0] > 2:
            objects.append((time.perf_counter(), len(gc.get_objects()), len(self.clients)))
        count_send(self, clients)

    Broadcaster.send = counting_send  # type: ignore[method-assign]
    if args.chunk is not None:
        run = Broadcaster.run
        chunk: int = args.chunk

        def run_in_chunks(self: Broadcaster, **named: Any) -> Coroutine[Any, Any, None]:
            return run(self, chunk, **named)

        Broadcaster.run = run_in_chunks  # type: ignore[method-assign, assignment]
    if args.frame_interval is not None:
        source_init = FrameSource.__init__
        interval: float = args.frame_interval

        def init(self: FrameSource, *given: Any, **named: Any) -> None:
            source_init(self, *given, **named)
            self.interval = interval

        FrameSource.__init__ = init  # type: ignore[method-assign]
    serve = [item for item in args.serve if item != "--"]
    # uvicorn stops on SIGTERM and then raises it again with the handler found before it
    # started: this one, so that the figures are written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return gambero(["serve", *serve])
    finally:
        args.stats.write_text(json.dumps({"chunks": chunks, "commits": commits,
                                          "collections": collections.collections,
                                          "objects": objects}))


if __name__ == "__main__":
    raise SystemExit(main())
