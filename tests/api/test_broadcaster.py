"""The fan-out rules without sockets: bounded outboxes, resync, drop, encode once, resume."""

from __future__ import annotations

import json
from typing import Any

from api.live import Broadcaster, Frame
from api.view import LiveState
from timing.eventfile import load_event

from .conftest import EXAMPLE


def state() -> LiveState:
    live = LiveState(load_event(EXAMPLE).event)
    live.put([row("mile", "1"), row("kids", "501")])
    return live


def row(race: str, bib: str, place: int | None = None) -> dict[str, Any]:
    return {"race": race, "bib": bib, "place": place, "status": "DNS"}


def frame(live: LiveState, seq: int, *rows: dict[str, Any]) -> Frame:
    live.put(rows)
    first = live.seq + 1
    live.advance(seq)
    return Frame(seq, first, list(rows))


def drain(queue: Any) -> list[Any]:
    out = []
    while not queue.empty():
        item = queue.get_nowait()
        out.append(item if item is None else json.loads(item))
    return out


def test_a_full_outbox_gets_a_snapshot_and_a_repeat_offender_is_dropped() -> None:
    live = state()
    broadcaster = Broadcaster(live, outbox=2, max_resyncs=2)
    slow = broadcaster.connect(None, None)
    fast = broadcaster.connect(None, None)
    assert [m["type"] for m in drain(fast.outbox)] == ["snapshot"]
    seq = 0
    for _ in range(2):
        seq += 1
        broadcaster.publish(frame(live, seq, row("mile", "1", seq)))
    # slow: snapshot + one delta filled its outbox of 2; the second delta made it resync.
    assert [m["type"] for m in drain(slow.outbox)] == ["snapshot"]
    assert [m["seq"] for m in drain(fast.outbox)] == [1, 2]
    assert broadcaster.resyncs == 1
    for _ in range(6):  # slow stops reading altogether
        seq += 1
        broadcaster.publish(frame(live, seq, row("mile", "1", seq)))
        assert [m["seq"] for m in drain(fast.outbox)] == [seq]
    assert slow.dropped and slow not in broadcaster.clients and broadcaster.drops == 1
    assert drain(slow.outbox) == [None]  # the sender closes the socket


def test_each_frame_is_encoded_once_per_race_filter() -> None:
    live = state()
    broadcaster = Broadcaster(live)
    clients = [broadcaster.connect(None, None) for _ in range(50)]
    kids = [broadcaster.connect(frozenset({"kids"}), None) for _ in range(50)]
    before = broadcaster.encodes
    broadcaster.publish(frame(live, 1, row("mile", "1", 1), row("kids", "501", 1)))
    assert broadcaster.encodes - before == 2
    assert drain(kids[0].outbox)[-1]["rows"] == [row("kids", "501", 1)]
    assert len(drain(clients[0].outbox)[-1]["rows"]) == 2


def test_resume_from_history_or_a_snapshot() -> None:
    live = state()
    broadcaster = Broadcaster(live, history=2)
    for seq in (3, 5, 9):
        broadcaster.publish(frame(live, seq, row("mile", "1", seq)))
    resumed = drain(broadcaster.connect(None, 5).outbox)
    assert resumed == [{"type": "delta", "seq": 9, "first_seq": 6,
                        "rows": [row("mile", "1", 9)], "reload": []}]
    # The frame that held seq 3 is no longer kept (history of 2): a snapshot instead.
    assert drain(broadcaster.connect(None, 2).outbox)[0]["type"] == "snapshot"
    assert drain(broadcaster.connect(None, 3).outbox)[0]["type"] == "delta"
    assert drain(broadcaster.connect(None, 10).outbox)[0]["type"] == "snapshot"
    assert drain(broadcaster.connect(None, 9).outbox)[0]["rows"] == []


def test_a_resume_goes_up_to_the_last_frame_published_not_beyond() -> None:
    live = state()
    broadcaster = Broadcaster(live)
    broadcaster.publish(frame(live, 4, row("mile", "1", 1)))
    frame(live, 6, row("mile", "1", 2))  # worked out for a request: its frame waits
    assert live.seq == 6 and broadcaster.published_seq == 4
    resumed = drain(broadcaster.connect(None, 2).outbox)[0]
    assert (resumed["seq"], resumed["first_seq"]) == (4, 3)
    assert resumed["rows"] == [row("mile", "1", 1)]
    assert drain(broadcaster.connect(None, 4).outbox)[0]["rows"] == []
    assert drain(broadcaster.connect(None, 5).outbox)[0]["type"] == "snapshot"
