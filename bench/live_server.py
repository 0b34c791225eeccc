"""`gambero serve` with the live feed's fan-out timed, for bench/live.py.

    python bench/live_server.py --stats FRAMES.json [--frame-interval S] -- EVENT.toml --port P

Runs `gambero serve` unchanged except that `Broadcaster.publish` notes, for every frame, its
seq, when the fan-out started and ended (time.perf_counter, the system's monotonic clock:
comparable with the benchmark's), to how many clients and the CPU time it took, and the feed
notes when each commit's delta reached it; both lists are written to FRAMES.json when the
server stops (SIGTERM). `--frame-interval` replaces
`Options.frame_interval`, to compare.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api import live
from api.broadcast import Broadcaster
from api.live import Frame, FrameSource
from gambero.cli import main as gambero
from timing.bus import Lagged
from timing.core import Delta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument("--frame-interval", type=float)
    parser.add_argument("serve", nargs=argparse.REMAINDER, help="gambero serve's arguments")
    args = parser.parse_args()
    frames: list[tuple[int, float, float, int, float]] = []
    commits: list[tuple[int, float]] = []
    publish = Broadcaster.publish
    absorb = live._Pending.absorb

    def timed_absorb(self: live._Pending, message: Delta | Lagged) -> None:
        if isinstance(message, Delta):
            commits.append((message.seq, time.perf_counter()))
        absorb(self, message)

    live._Pending.absorb = timed_absorb  # type: ignore[method-assign]

    def timed_publish(self: Broadcaster, frame: Frame) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        publish(self, frame)
        frames.append((frame.seq, started, time.perf_counter(), len(self.clients),
                       time.thread_time() - cpu))

    Broadcaster.publish = timed_publish  # type: ignore[method-assign]
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
        args.stats.write_text(json.dumps({"frames": frames, "commits": commits}))


if __name__ == "__main__":
    raise SystemExit(main())
