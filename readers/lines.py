"""Splitting a byte stream into text lines, for the line-based replies and commands of readers
(sessions listen for replies with it, simulators for commands)."""

from __future__ import annotations


class LineSplitter:
    """Lines end with CR, LF or both; each comes back decoded (latin-1, which never fails),
    stripped, and only if not blank. A run of more than `limit` bytes without a line end is
    not a line anyone sends: it is dropped, so noise cannot grow the buffer without bound."""

    def __init__(self, limit: int = 512) -> None:
        self.limit = limit
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        *lines, rest = self._buffer.replace(b"\r", b"\n").split(b"\n")
        self._buffer = bytearray(rest[-self.limit:])
        return [text for line in lines if len(line) <= self.limit
                if (text := line.decode("latin-1").strip())]


__all__ = ["LineSplitter"]
