"""The one-pattern fast paths of the line parsers give exactly what the full path gives.

Each line parser reads its common line with a single compiled pattern (`plain_read`,
`plain_passing`) and sends every other line down the full path. For encoded lines, and for the
same lines with one character changed anywhere, the fast path must either decline (None) or
return the very `Read` that `parse_line` returns; for encoded lines it must not decline.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from readers.protocols import ipico, raceresult, ultra
from timing.reads import Read

from .streams import FIXTURES, capture_path

TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59))
MUTATION = st.tuples(st.integers(0, 200), st.sampled_from("0159afAF;,.:- \t\x7fé#-"))


def mutated(line: str, mutation: tuple[int, str] | None) -> str:
    if mutation is None:
        return line
    position, character = mutation
    position %= len(line) + 1
    return line[:position] + character + line[position + 1:]


def agrees(fast: Read | None, full: object) -> bool:
    return fast is None or fast == full


@given(chip=st.text(alphabet="0123456789abcdef", min_size=12, max_size=12), time=TIMES,
       reader_id=st.text(alphabet="0123456789abcdef", min_size=2, max_size=2),
       mutation=st.none() | MUTATION)
def test_ipico_fast_path_agrees(chip: str, time: datetime, reader_id: str,
                                mutation: tuple[int, str] | None) -> None:
    line = ipico.encode_ipico(chip, time, reader_id).decode().strip()
    text = mutated(line, mutation)
    fast = ipico.plain_read(text, 7)
    assert agrees(fast, ipico.parse_line(text, 7))
    if mutation is None:
        assert fast is not None


@given(chip=st.text(alphabet="0123456789ABCDEFxyz-", min_size=1, max_size=12),
       time=st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2099, 12, 31)),
       antenna=st.integers(0, 8), rssi=st.integers(-99, 0), log_id=st.integers(0, 10**9),
       rewind=st.booleans(), mutation=st.none() | MUTATION)
def test_ultra_fast_path_agrees(chip: str, time: datetime, antenna: int, rssi: int,
                                log_id: int, rewind: bool,
                                mutation: tuple[int, str] | None) -> None:
    line = ultra.encode_ultra(chip, time, antenna, rssi, 2, log_id, rewind).decode().strip()
    text = mutated(line, mutation)
    fast = ultra.plain_read(text, 3)
    if not ultra.is_skipped(text):
        assert agrees(fast, ultra.parse_line(text, 3))
    else:
        assert fast is None
    if mutation is None:
        assert fast is not None


@given(number=st.integers(0, 10**7), chip=st.text(alphabet="0123456789ABCDEFGHZ", min_size=1,
                                                  max_size=8),
       time=TIMES, rssi=st.integers(-99, 0), antenna=st.integers(0, 8),
       box=st.sampled_from(["A-1234", "BOX-2", "x"]), mutation=st.none() | MUTATION)
def test_raceresult_fast_path_agrees(number: int, chip: str, time: datetime, rssi: int,
                                     antenna: int, box: str,
                                     mutation: tuple[int, str] | None) -> None:
    line = raceresult.encode_raceresult(number, chip, time, rssi=rssi, box_name=box,
                                        antenna=antenna).decode("latin-1").strip()
    text = mutated(line, mutation)
    fast = raceresult.plain_passing(5, text)
    assert agrees(fast, raceresult.parse_line(5, text))
    if mutation is None:
        assert fast is not None


def test_fast_paths_agree_on_the_fixtures_and_the_capture() -> None:
    checked = 0
    for name, fast_path, full_path in (
            ("ipico-mixed.txt", ipico.plain_read, ipico.parse_line),
            ("ultra-session.txt", ultra.plain_read, ultra.parse_line)):
        text = (FIXTURES / name).read_bytes().decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), start=1):
            fast = fast_path(line, number)
            if fast is not None:
                assert fast == full_path(line, number)
                checked += 1
    for number, line in enumerate(
            (FIXTURES / "raceresult-session.txt").read_text("latin-1").splitlines(), start=1):
        fast = raceresult.plain_passing(number, line)
        if fast is not None:
            assert fast == raceresult.parse_line(number, line)
            checked += 1
    capture = capture_path("ipico-lite-testreads.txt").read_text()
    for number, line in enumerate(capture.splitlines(), start=1):
        fast = ipico.plain_read(line, number)
        assert fast is not None and fast == ipico.parse_line(line, number)
        checked += 1
    assert checked > 4000
