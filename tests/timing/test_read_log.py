"""The standings' compact record of reads (`timing.read_log`): what goes in comes out, and the
per-read storage is nothing the garbage collector has to scan."""

from __future__ import annotations

import gc

import pytest

from timing.read_log import POINT_BITS, ReadLog

from .factory import at, athlete, standings


def test_reads_come_back_with_their_points_in_arrival_order() -> None:
    log = ReadLog()
    reads = [("finish", at("09:06:40")), ("start", at("09:00:01")), ("finish", -1_234),
             ("half", 0), ("finish", at("09:06:40"))]  # a repeat too, and times before 1970
    for point, ms in reads:
        log.add("chip1", point, ms)
    log.add("chip2", "half", 5)
    assert list(log.reads("chip1")) == reads
    assert list(log.reads("chip2")) == [("half", 5)]
    assert list(log.reads("nobody")) == []
    assert dict(log.counts()) == {"chip1": 5, "chip2": 1}


def test_removing_takes_one_read_of_that_point_and_time_only() -> None:
    log = ReadLog()
    for point, ms in (("finish", 100), ("start", 100), ("finish", 100), ("finish", 200)):
        log.add("chip1", point, ms)
    assert log.remove("chip1", "finish", 100)
    assert list(log.reads("chip1")) == [("start", 100), ("finish", 100), ("finish", 200)]
    assert not log.remove("chip1", "half", 100)     # no such point logged
    assert not log.remove("chip1", "start", 101)    # no such time
    assert not log.remove("chip2", "start", 100)    # no such identity
    assert log.remove("chip1", "start", 100) and log.remove("chip1", "finish", 100)
    assert log.remove("chip1", "finish", 200)
    assert dict(log.counts()) == {}                 # an identity with no reads left is not counted


def test_an_event_may_have_as_many_points_as_a_logged_read_can_name() -> None:
    log = ReadLog()
    for number in range(1 << POINT_BITS):
        log.add("chip", f"p{number}", number)
    assert list(log.reads("chip"))[-1] == (f"p{(1 << POINT_BITS) - 1}", (1 << POINT_BITS) - 1)
    with pytest.raises(ValueError, match="more than 4096 timing points"):
        log.add("chip", "one too many", 0)


def test_the_standings_keep_reads_where_the_collector_does_not_look() -> None:
    """Every collection that reaches a list visits everything in it, once per read; an array
    is visited as one object."""
    table = standings(athlete("1", "chip1"))
    for second in range(10):
        table.add_point_read("finish", at(f"09:06:{40 + second}"), chip="chip1")
    table.add_point_read("finish", at("09:07:00"), chip="unknown")
    state = table._states["1"]
    logged = [table._log._reads[key] for key in ("chip1", "unknown")]
    # What a collection visits in each: nothing per read (an array shows it only its type).
    assert [len(gc.get_referents(kept)) for kept in (state.times["finish"], *logged)] \
        == [1, 1, 1]
    assert len(state.times["finish"]) == 10 and table.unknown_chips() == {"unknown": 1}
