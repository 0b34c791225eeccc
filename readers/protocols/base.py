"""The shape every sans-IO reader parser has, and the line framing most of them share.

A parser owns no socket, port or file: `feed(bytes)` buffers what it is given and returns every
record completed so far; `close()` flushes a last record that had no line ending (end of a file).
Feeding a stream whole or one byte at a time gives the same records (tests check every parser).
Bad records come back as `Rejected` with a reason; a parser never raises on input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from timing.reads import Record, Rejected

MAX_LINE_BYTES = 4096
"""Longest record a line-based reader sends is well under 200 bytes; anything longer than this is
noise (a wrong baud rate, binary garbage) and is rejected rather than buffered without bound."""


class Parser(Protocol):
    """A sans-IO reader protocol parser."""

    def feed(self, data: bytes) -> list[Record]: ...

    def close(self) -> list[Record]: ...


class LineFramer:
    """Splits a byte stream into lines on LF (a CR before it is dropped; a lone CR also ends a
    line, since some readers and terminals send CR only).

    Yields `(line_number, text_or_None, raw_bytes)`: text is None when the line is over-long or is
    not valid ASCII/UTF-8, so the caller can reject it with the raw bytes shown.
    """

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._max_line = max_line
        self._line_number = 0
        self._overlong = False
        self._after_cr = False

    def feed(self, data: bytes) -> Iterator[tuple[int, str | None, bytes]]:
        # Split at once, not walked line by line: this runs for every byte every reader sends.
        if not data:
            return
        if self._after_cr:
            self._after_cr = False
            if data[0] == 0x0A:  # CR LF: the CR already ended the line
                data = data[1:]
        # A CR last may be the first half of a CR LF: the LF that may follow adds no line.
        self._after_cr = data[-1:] == b"\r"
        pieces = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        tail = pieces.pop()
        max_line = self._max_line
        for piece in pieces:
            if self._buffer or self._overlong:  # the line began in an earlier chunk
                self._keep(piece)
                yield from self._emit()
                continue
            self._line_number += 1
            if len(piece) > max_line:
                yield self._line_number, None, piece[:max_line + 1]
            elif piece and not piece.isspace():  # blank lines carry nothing (but count)
                try:
                    yield self._line_number, piece.decode("utf-8"), piece
                except UnicodeDecodeError:
                    yield self._line_number, None, piece
        self._keep(tail)

    def _keep(self, piece: bytes) -> None:
        if self._overlong or not piece:
            return
        self._buffer += piece
        if len(self._buffer) > self._max_line:
            self._overlong = True
            del self._buffer[self._max_line + 1:]

    def close(self) -> Iterator[tuple[int, str | None, bytes]]:
        if self._buffer or self._overlong:
            yield from self._emit()

    def _emit(self) -> Iterator[tuple[int, str | None, bytes]]:
        raw = bytes(self._buffer)
        overlong = self._overlong
        self._buffer.clear()
        self._overlong = False
        self._line_number += 1
        if overlong:
            yield self._line_number, None, raw
            return
        if not raw.strip():
            return  # blank lines carry nothing; they still count as lines for locating problems
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield self._line_number, None, raw
            return
        yield self._line_number, text, raw


def undecodable(line_number: int, raw: bytes, max_line: int = MAX_LINE_BYTES) -> Rejected:
    """The rejection for a line the framer could not hand over as text."""
    if len(raw) > max_line:
        return Rejected(raw=shown(raw[:64]) + "…", reason=f"line longer than {max_line} bytes",
                        line=line_number)
    return Rejected(raw=shown(raw), reason="line is not valid text (binary noise?)",
                    line=line_number)


def shown(raw: bytes) -> str:
    """Bytes as readable text for a report: printable ASCII kept, the rest as \\xNN escapes
    (control bytes too: a NUL or an ESC must not reach a terminal or a report raw)."""
    return "".join(chr(byte) if 0x20 <= byte < 0x7F else f"\\x{byte:02x}" for byte in raw)


def printable(text: str) -> str:
    """Text for a report: printable characters kept (accented letters too), control
    characters escaped so that they cannot reach a terminal raw."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)
