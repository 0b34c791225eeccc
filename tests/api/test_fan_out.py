"""The fan-out's passes over time: a client gets at most one message per interval, a frame
cut in the middle of a long pass reaches the rest of that pass, and the server's process
collects young objects less often (a full collection would stop the feed)."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import pytest

from api.broadcast import Broadcaster
from api.runtime import Options
from timing.replay import GC_THRESHOLDS

from .conftest import Served
from .test_broadcaster import connected, frame, row, state


@pytest.fixture
def options() -> Options:
    return Options(frame_interval=1.0, health_interval=5.0)


async def test_passes_are_an_interval_apart_and_a_refresh_feeds_the_rest_of_a_pass() -> None:
    live = state()
    broadcaster = Broadcaster(live)
    connections = connected(broadcaster, 4)
    refreshed: list[bool] = []

    def refresh() -> None:  # what FrameSource.refresh does when a frame is due: publish it
        if not refreshed:
            refreshed.append(True)
            broadcaster.publish(frame(live, 2, row("mile", "1", 2)))

    pump = asyncio.create_task(broadcaster.run(chunk=2, interval=0.5, refresh=refresh))
    try:
        await asyncio.sleep(0)
        broadcaster.publish(frame(live, 1, row("mile", "1", 1)))
        await asyncio.sleep(0.1)
        first = [connection.messages() for connection in connections]
        # The first chunk got frame 1; the refresh between chunks cut frame 2, which the
        # second chunk got in the same pass (with frame 1's rows folded in).
        assert [[(m["seq"], m["first_seq"]) for m in got] for got in first] == [
            [(1, 1)], [(1, 1)], [(2, 1)], [(2, 1)]]
        # Frame 2 waits for the next pass, 0.5 s after the first began: not yet.
        await asyncio.sleep(0.1)
        assert all(not connection.written for connection in connections)
        assert broadcaster.passes == 1
        await asyncio.sleep(0.45)
        later = [connection.messages() for connection in connections]
        assert [[m["seq"] for m in got] for got in later] == [[2], [2], [], []]
        assert broadcaster.passes == 2
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump


async def test_a_refresh_cuts_a_frame_only_when_one_is_due(served: Served) -> None:
    runtime = served.runtime
    source = runtime.frame_source
    assert source is not None
    gun = (await served.client.get("/api/races")).json()[0]["waves"][0]["gun_ms"]

    async def commit(offset: int) -> int:
        answer = await served.client.post(
            "/api/readers/finish-main/reads", headers=served.admin,
            json={"reads": [{"chip": "058000120007", "time_ms": gun + offset}]})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["seq"])

    seq = await commit(400_000)
    for _ in range(200):  # the frame source's own tick (every 1 s) publishes it
        if runtime.broadcaster.published_seq >= seq:
            break
        await asyncio.sleep(0.02)
    assert runtime.broadcaster.published_seq >= seq
    frames = source.frames
    source.refresh()  # nothing new: no frame
    assert source.frames == frames
    seq = await commit(400_500)
    await asyncio.sleep(0)  # the delta reaches the source's consumer
    source.refresh()  # new, but the last frame is younger than a quarter of the interval
    assert source.frames == frames and runtime.broadcaster.published_seq < seq
    await asyncio.sleep(0.3)
    source.refresh()  # due now, well before the source's own next tick
    assert source.frames == frames + 1 and runtime.broadcaster.published_seq == seq


async def test_the_server_collects_young_objects_less_often(served: Served) -> None:
    assert gc.get_threshold()[0] >= GC_THRESHOLDS[0]
