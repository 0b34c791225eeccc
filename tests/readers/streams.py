"""Feeding byte streams to reader parsers, shared by the parser tests.

Each helper takes a fresh parser, feeds it and returns every record, `close()` included, so a
test compares a whole-stream parse with a chunked one in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import pytest

from readers.protocols.base import Parser
from timing.reads import Record

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "readers" / "captures"
"""Real reader captures, kept in ../shared beside the checkout (not in the repository)."""
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def capture_path(name: str) -> Path:
    """The capture file `name`, or skip the test when ../shared is not there."""
    path = CAPTURES / name
    if not path.exists():
        pytest.skip("../shared/readers/captures not beside the checkout")
    return path


def parse_whole(parser: Parser, data: bytes) -> list[Record]:
    """`data` fed in one piece, then `close()`."""
    return parser.feed(data) + parser.close()


def parse_chunks(parser: Parser, chunks: Iterable[bytes]) -> list[Record]:
    """Each chunk fed in turn (empty ones too), then `close()`."""
    records: list[Record] = []
    for chunk in chunks:
        records += parser.feed(chunk)
    return records + parser.close()


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """`data` cut at each offset in `cuts` (sorted; a repeated or end offset gives an empty
    chunk), so `b"".join(split_at(data, cuts)) == data`."""
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:end] for start, end in pairwise(bounds)]


def bytewise(data: bytes) -> list[bytes]:
    """`data` one byte at a time."""
    return [data[i:i + 1] for i in range(len(data))]
