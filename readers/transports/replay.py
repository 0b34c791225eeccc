"""File replay: a capture of a reader's output played back as if the reader sent it.

Line formats are sent a line at a time; between lines the replay waits for the difference of
their read times divided by `speed` (1.0 = real time, 60 = a minute a second, 0 = as fast as
possible). Lines that are not reads are sent without waiting. Binary formats (P3) are sent in
chunks without pacing. At the end of the file the link ends (`LinkDown`), so a session treats it
like a reader that went away; `ended` tells the two apart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from readers.protocols import make_parser
from readers.transports.base import READ_SIZE, LinkDown, TransportKind
from timing.reads import Read

LINE_FORMATS = ("ipico", "ultra", "raceresult", "manual")


class FileReplay:
    kind: TransportKind = "file"

    def __init__(self, path: str | Path, reader_format: str, speed: float = 0.0) -> None:
        self.path = Path(path)
        self.format = reader_format
        self.speed = speed
        self.ended = False
        self._chunks: list[bytes] = []
        self._position = 0
        self._last_time: float | None = None
        self._pacer = make_parser(reader_format)

    @property
    def address(self) -> str:
        pace = "as fast as possible" if self.speed <= 0 else f"x{self.speed:g}"
        return f"{self.path} ({pace})"

    async def open(self) -> None:
        if self._chunks:
            return  # a replay does not start over after its end: the file has been sent
        try:
            data = await asyncio.to_thread(self.path.read_bytes)
        except OSError as error:
            raise LinkDown(f"cannot read {self.path}: {error.strerror or error}") from error
        if self.format in LINE_FORMATS:
            self._chunks = data.splitlines(keepends=True)
        else:
            self._chunks = [data[at:at + READ_SIZE] for at in range(0, len(data), READ_SIZE)]

    async def read(self) -> bytes:
        if self._position >= len(self._chunks):
            self.ended = True
            raise LinkDown(f"end of {self.path}")
        chunk = self._chunks[self._position]
        self._position += 1
        if self.speed > 0 and self.format in LINE_FORMATS:
            await self._pace(chunk)
        return chunk

    async def _pace(self, chunk: bytes) -> None:
        reads = [record for record in self._pacer.feed(chunk) if isinstance(record, Read)]
        if not reads:
            return
        moment = reads[0].time.timestamp() if reads[0].time.tzinfo else \
            (reads[0].time - reads[0].time.min).total_seconds()
        if self._last_time is not None and moment > self._last_time:
            await asyncio.sleep((moment - self._last_time) / self.speed)
        self._last_time = moment if self._last_time is None else max(self._last_time, moment)

    async def write(self, data: bytes) -> None:
        """Commands to a recording go nowhere."""

    async def close(self) -> None:
        """Nothing to let go: the file was read whole at open."""


__all__ = ["FileReplay"]
