"""Cheap websocket clients for bench/live.py: one process holds thousands of them.

No websocket library and no task per client: plain non-blocking sockets and one epoll loop.
Each client sends a minimal handshake (offering permessage-deflate as browsers do, unless
told not to), then reads whole frames, notes the `seq` and arrival time of every snapshot and
delta, and answers the server's pings. Compressed messages are inflated only as far as their
first bytes (where the seq is). Every client reads every frame: a client that stopped reading
would measure itself, not the server.

The websocket format (RFC 6455, section 5.2): a server's frame is one byte FIN/RSV1/opcode,
one byte of length (126: 16-bit length follows, 127: 64-bit), then the payload, unmasked; a
client's frame is masked (a 4-byte key follows the length; a key of zeros leaves the payload
as it is). Compressed messages (RFC 7692) have RSV1 set; their payload is a raw deflate
stream without its final empty block.
"""

from __future__ import annotations

import base64
import errno
import os
import re
import select
import socket
import time
import zlib
from array import array
from dataclasses import dataclass, field

SEQ = re.compile(rb'"seq":(\d+)')
PENDING_HANDSHAKES = 200
"""Handshakes in flight at once (under the server's listen backlog)."""
OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING = 0x1, 0x8, 0x9
RSV1 = 0x40
MILLIS = 1000.0


@dataclass
class Client:
    sock: socket.socket
    open: bool = False
    closed: bool = False
    buffer: bytearray = field(default_factory=bytearray)
    seqs: array[int] = field(default_factory=lambda: array("q"))
    times: array[float] = field(default_factory=lambda: array("d"))


@dataclass
class Report:
    """What one process's clients saw."""

    clients: int
    frames: int
    """Messages read since the first measured post."""
    closed: int
    histogram: array[int]
    """Post-to-frame latencies: count per millisecond."""
    missing: int
    """(post, client) pairs with no frame that includes the post."""
    spread: dict[int, tuple[float, float, int]]
    """Per frame seq: first and last arrival among this process's clients, and how many."""
    cpu_s: float
    """This process's CPU time while the reads were posted."""


def handshake(port: int, path: str, deflate: bool) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    extensions = ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                  if deflate else "")
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"{extensions}\r\n").encode()


def pong(payload: bytes) -> bytes:
    return bytes((0x80 | 0xA, 0x80 | len(payload))) + b"\0\0\0\0" + payload


def first_bytes(payload: bytes, compressed: bool) -> bytes:
    if not compressed:
        return payload[:64]
    try:
        return zlib.decompressobj(-15).decompress(payload, 64)
    except zlib.error:
        return b""


class Clients:
    def __init__(self, port: int, path: str, count: int, deflate: bool) -> None:
        self.port, self.path, self.count, self.deflate = port, path, count, deflate
        self.poll = select.epoll()
        self.clients: dict[int, Client] = {}
        self.connected = 0

    def connect_all(self) -> None:
        opened = 0
        while self.connected < self.count:
            while opened < self.count and opened - self.connected < PENDING_HANDSHAKES:
                sock = socket.create_connection(("127.0.0.1", self.port))
                sock.sendall(handshake(self.port, self.path, self.deflate))
                sock.setblocking(False)
                self.clients[sock.fileno()] = Client(sock)
                self.poll.register(sock.fileno(), select.EPOLLIN)
                opened += 1
            self.step(0.05)
            if any(client.closed for client in self.clients.values()):
                raise ConnectionError("the server closed a connection while connecting")

    def step(self, timeout: float) -> None:
        for fd, _ in self.poll.poll(timeout):
            client = self.clients[fd]
            try:
                data = client.sock.recv(1 << 18)
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    continue
                data = b""
            if not data:
                self.close(fd, client)
                continue
            client.buffer += data
            self.parse(fd, client, time.perf_counter())

    def close(self, fd: int, client: Client) -> None:
        client.closed = True
        self.poll.unregister(fd)
        client.sock.close()

    def parse(self, fd: int, client: Client, now: float) -> None:
        buffer = client.buffer
        if not client.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(f"handshake refused: {bytes(buffer[:80])!r}")
            del buffer[:end + 4]
            client.open = True
            self.connected += 1
        start = 0
        while len(buffer) - start >= 2:
            first, length = buffer[start], buffer[start + 1] & 0x7F
            header = 2
            if length == 126:
                header = 4
                if len(buffer) - start < header:
                    break
                length = int.from_bytes(buffer[start + 2:start + 4], "big")
            elif length == 127:
                header = 10
                if len(buffer) - start < header:
                    break
                length = int.from_bytes(buffer[start + 2:start + 10], "big")
            end = start + header + length
            if end > len(buffer):
                break
            opcode = first & 0x0F
            payload = bytes(buffer[start + header:end])
            start = end
            if opcode == OPCODE_TEXT:
                found = SEQ.search(first_bytes(payload, bool(first & RSV1)))
                if found:
                    client.seqs.append(int(found.group(1)))
                    client.times.append(now)
            elif opcode == OPCODE_PING:
                client.sock.send(pong(payload))
            elif opcode == OPCODE_CLOSE:
                self.close(fd, client)
                return
        del buffer[:start]

    def report(self, sent: list[tuple[float, int]], cpu_s: float) -> Report:
        histogram = array("q", bytes(8 * 60_000))
        missing = frames = 0
        spread: dict[int, tuple[float, float, int]] = {}
        measured_from = min((t0 for t0, _ in sent), default=0.0)
        for client in self.clients.values():
            frames += sum(1 for at in client.times if at >= measured_from)
            for seq, at in zip(client.seqs, client.times, strict=True):
                low, high, count = spread.get(seq, (at, at, 0))
                spread[seq] = (min(low, at), max(high, at), count + 1)
            position = 0
            for t0, seq in sent:
                while position < len(client.seqs) and client.seqs[position] < seq:
                    position += 1
                if position == len(client.seqs):
                    missing += 1
                    continue
                millis = int((client.times[position] - t0) * MILLIS)
                histogram[min(max(millis, 0), len(histogram) - 1)] += 1
        closed = sum(client.closed for client in self.clients.values())
        return Report(len(self.clients), frames, closed, histogram, missing, spread, cpu_s)
