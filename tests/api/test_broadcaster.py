"""The fan-out rules without sockets: bounded outboxes, resync, drop, encode once, resume;
for detached websockets too (written to at once, a backlog only while the socket is full)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from typing import Any

import pytest

from api.broadcast import Broadcaster
from api.live import Frame, next_frame_due
from api.subscribers import DirectClient, is_ping
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


class FakeConnection:
    """What a detached websocket offers the feed (`api.subscribers.LiveConnection`)."""

    def __init__(self, deflate: bool = False) -> None:
        self.deflate = deflate
        self.writing_paused = False
        self.written: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def messages(self) -> list[Any]:
        out = [json.loads(decode_frame(data)) for data in self.written]
        self.written.clear()
        return out


def decode_frame(data: bytes) -> bytes:
    """A server's text frame (RFC 6455 5.2), compressed or not (RFC 7692): its payload."""
    assert data[0] & 0x0F == 0x1 and data[0] & 0x80  # text, final
    length, start = data[1] & 0x7F, 2
    if length == 126:
        length, start = int.from_bytes(data[2:4], "big"), 4
    elif length == 127:
        length, start = int.from_bytes(data[2:10], "big"), 10
    payload = data[start:]
    assert len(payload) == length
    if data[0] & 0x40:
        return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
    return payload


def connected(broadcaster: Broadcaster, count: int) -> list[FakeConnection]:
    """`count` detached clients, their snapshots already taken."""
    connections = [FakeConnection() for _ in range(count)]
    for connection in connections:
        direct(broadcaster, connection)
        connection.messages()
    return connections


def direct(broadcaster: Broadcaster, connection: FakeConnection,
           races: frozenset[str] | None = None, since: int | None = None) -> DirectClient:
    client = DirectClient(broadcaster, races, False)
    client.connection = connection
    broadcaster.attach(client, since)
    return client


def test_a_detached_client_is_written_each_frame_at_once_compressed_if_it_asked() -> None:
    live = state()
    broadcaster = Broadcaster(live)
    plain, deflate = FakeConnection(), FakeConnection(deflate=True)
    direct(broadcaster, plain)
    direct(broadcaster, deflate)
    queued = broadcaster.connect(None, None)
    big = [row("mile", str(bib), bib) for bib in range(1, 200)]
    broadcaster.publish(frame(live, 1, *big))
    expected = drain(queued.outbox)
    assert [m["type"] for m in expected] == ["snapshot", "delta"]
    assert plain.messages() == expected
    compressed = list(deflate.written)
    assert deflate.messages() == expected
    assert all(data[0] & 0x40 for data in compressed)  # both large enough to be compressed
    assert len(compressed[1]) < len(json.dumps(expected[1])) / 2
    # One frame, encoded and compressed once: the same bytes object for every such client.
    others = [FakeConnection(deflate=True) for _ in range(3)]
    for connection in others:
        direct(broadcaster, connection)
    broadcaster.publish(frame(live, 2, row("mile", "1", 2)))
    assert len({id(connection.written[-1]) for connection in others}) == 1


def test_a_detached_client_that_is_not_keeping_up_waits_then_resyncs_then_is_closed() -> None:
    live = state()
    broadcaster = Broadcaster(live, outbox=2, max_resyncs=1)
    connection = FakeConnection()
    client = direct(broadcaster, connection)
    assert [m["type"] for m in connection.messages()] == ["snapshot"]
    connection.writing_paused = True  # its socket's buffer is full
    broadcaster.publish(frame(live, 1, row("mile", "1", 1)))
    broadcaster.publish(frame(live, 2, row("mile", "1", 2)))
    assert connection.written == [] and client.backlog is not None and len(client.backlog) == 2
    connection.writing_paused = False
    client.writable()  # drained: what waited goes out, in order
    assert [m["seq"] for m in connection.messages()] == [1, 2]
    assert client.backlog is None
    connection.writing_paused = True
    for seq in range(3, 6):  # the third overflows the backlog of 2: a snapshot instead
        broadcaster.publish(frame(live, seq, row("mile", "1", seq)))
    assert broadcaster.resyncs == 1 and client.backlog is not None
    assert [json.loads(message.text)["type"] for message in client.backlog] == ["snapshot"]
    for seq in range(6, 9):  # falls behind again before catching up: closed
        broadcaster.publish(frame(live, seq, row("mile", "1", seq)))
    assert client.dropped and client not in broadcaster.clients and broadcaster.drops == 1
    assert connection.closed == (1013, "too slow: reconnect with since=")


def test_a_detached_client_is_answered_pong_and_forgotten_when_lost() -> None:
    live = state()
    broadcaster = Broadcaster(live)
    connection = FakeConnection()
    client = direct(broadcaster, connection, since=0)
    assert connection.messages()[0]["type"] == "delta"  # resumed: nothing missed
    client.received('{"type":"ping"}')
    client.received("not json")
    client.received('["ping"]')
    assert connection.messages() == [{"type": "pong"}]
    client.lost()
    client.lost()  # may come twice
    assert client not in broadcaster.clients


def test_frames_come_further_apart_when_sending_them_takes_long() -> None:
    assert next_frame_due(10.0, 10.02, 0.1) == pytest.approx(10.1)  # quick: an interval on
    assert next_frame_due(10.0, 10.15, 0.1) == pytest.approx(10.3)  # slow: as long again


def test_only_a_short_ping_is_parsed() -> None:
    assert is_ping('{"type": "ping"}') and is_ping('{"type":"ping"}')
    assert not is_ping('{"type": "pong"}') and not is_ping("ping") and not is_ping("[]")
    assert not is_ping("[" * 200_000)  # nested past the recursion limit: ignored, no error
    assert not is_ping('{"type": "ping", "pad": "' + "x" * 100 + '"}')


def test_a_client_whose_connection_fails_costs_the_others_nothing() -> None:
    live = state()
    broadcaster = Broadcaster(live)
    broken, healthy = broadcaster.connect(None, None), broadcaster.connect(None, None)
    drain(healthy.outbox)

    def fail(*_: object) -> bool:
        raise RuntimeError("socket gone")

    broken.take = fail  # type: ignore[method-assign, assignment]
    for seq in (1, 2):
        broadcaster.publish(frame(live, seq, row("mile", "1", seq)))
    assert [m["seq"] for m in drain(healthy.outbox)] == [1, 2]
    assert broken.dropped and broken not in broadcaster.clients


async def test_a_pass_writes_a_chunk_per_turn_and_later_chunks_get_the_newer_frame() -> None:
    live = state()
    broadcaster = Broadcaster(live)
    connections = connected(broadcaster, 5)
    pump = asyncio.create_task(broadcaster.run(chunk=2, interval=0))
    await asyncio.sleep(0)  # the pump waits for a frame
    broadcaster.publish(frame(live, 1, row("mile", "1", 1)))
    assert all(not connection.written for connection in connections)  # not at once
    await asyncio.sleep(0)  # the pass starts: the first chunk of 2
    assert [len(connection.written) for connection in connections] == [1, 1, 0, 0, 0]
    broadcaster.publish(frame(live, 2, row("mile", "1", 2)))  # published mid-pass
    for _ in range(6):
        await asyncio.sleep(0)
    received = [connection.messages() for connection in connections]
    # The first chunk: frame 1, then frame 2 in the next pass. The later chunks: one message
    # with both frames (seq 2, from 1), never frame 1 on its own any more.
    for messages in received[:2]:
        assert [(m["seq"], m["first_seq"]) for m in messages] == [(1, 1), (2, 2)]
    for messages in received[2:]:
        assert [(m["seq"], m["first_seq"]) for m in messages] == [(2, 1)]
        assert messages[0]["rows"] == [row("mile", "1", 2)]
    assert broadcaster.passes == 2
    for _ in range(3):  # nothing new: no more passes, nothing written
        await asyncio.sleep(0)
    assert broadcaster.passes == 2 and all(not c.written for c in connections)
    pump.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pump
    broadcaster.publish(frame(live, 3, row("mile", "1", 3)))  # no pump: sent at once
    assert all(c.messages()[0]["seq"] == 3 for c in connections)


async def test_clients_that_need_the_same_message_share_one_encoding() -> None:
    live = state()
    broadcaster = Broadcaster(live, history=8)
    ahead, behind = connected(broadcaster, 2), connected(broadcaster, 3)
    pump = asyncio.create_task(broadcaster.run(chunk=64, interval=0))
    await asyncio.sleep(0)  # the pump waits: publishing no longer sends at once
    try:
        broadcaster.publish(frame(live, 1, row("mile", "1", 1)))
        broadcaster.send(list(broadcaster.clients)[:2])  # a first chunk took frame 1
        broadcaster.publish(frame(live, 2, row("kids", "501", 2)))
        before = broadcaster.encodes
        broadcaster.send(list(broadcaster.clients))  # seq 1 -> 2 for two, 0 -> 2 for three
        assert broadcaster.encodes - before == 2
        assert len({id(c.written[-1]) for c in behind}) == 1  # the same bytes for all three
        assert ahead[1].written[-1] is not behind[1].written[-1]
        assert [(m["first_seq"], m["seq"]) for m in ahead[0].messages()] == [(1, 1), (2, 2)]
        assert [(m["first_seq"], m["seq"]) for m in behind[0].messages()] == [(1, 2)]
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
