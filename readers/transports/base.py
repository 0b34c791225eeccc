"""What every transport offers a reader session: bytes in, bytes out, and one error type.

A transport knows nothing of the reader's protocol. `open()` connects (or waits for the reader
to connect), `read()` returns the next bytes that arrived, `write()` sends a command, `close()`
lets go. Every lower-level failure (an OSError, a pyserial error, a closed socket) surfaces as
`LinkDown`, so a session handles one exception, whatever the cable.
"""

from __future__ import annotations

from typing import Literal, Protocol

TransportKind = Literal["serial", "tcp", "file", "sim", "ingest"]
"""The `transport` values of the API's ReaderHealth."""

READ_SIZE = 1 << 16


class LinkDown(ConnectionError):
    """The link to the reader failed or ended: the session reconnects."""


class Transport(Protocol):
    kind: TransportKind

    @property
    def address(self) -> str:
        """Where the reader is, for people: `/dev/ttyUSB0 9600 8N1`, `10.0.0.5:3601`."""
        ...

    async def open(self) -> None:
        """Connect; raises LinkDown when the reader cannot be reached."""
        ...

    async def read(self) -> bytes:
        """The next bytes from the reader (never empty); raises LinkDown when the link ends."""
        ...

    async def write(self, data: bytes) -> None:
        """Send `data` to the reader; raises LinkDown when the link is gone."""
        ...

    async def close(self) -> None:
        """Let go of the link (idempotent, never raises)."""
        ...


__all__ = ["READ_SIZE", "LinkDown", "Transport", "TransportKind"]
