"""Journal entries (pure): reader times survive storage exactly, and applying a journal entry by
entry gives the same standings as a rebuild in bulk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timing.checks import check_action
from timing.entries import (
    ActionEntry,
    ActionError,
    Entry,
    Journaled,
    ReadEntry,
    RejectedEntry,
    apply,
    apply_all,
    assign_chip,
    dedup_key,
    edit,
    gun,
    penalty,
    register,
    set_status,
    stored_form,
    void,
)
from timing.reads import Read, undated_time
from timing.results import results_csv
from timing.standings import Standings
from timing.stored_time import decode_time, encode_time

from .factory import CLOCK, at, athlete, event, race

NAIVE = st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2100, 1, 1))


@given(NAIVE)
def test_local_times_round_trip_to_the_microsecond(moment: datetime) -> None:
    read = Read("c", moment)
    assert decode_time(*encode_time(read)) == (moment, True)


@given(NAIVE)
def test_utc_times_round_trip(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    micros, kind = encode_time(Read("c", aware))
    assert kind == "utc"
    assert decode_time(micros, kind) == (aware, True)


@given(st.integers(0, 99), st.integers(0, 86_399_999_999))
def test_undated_times_keep_their_day(day: int, micros: int) -> None:
    read = Read("c", undated_time(day, timedelta(microseconds=micros)), dated=False)
    moment, dated = decode_time(*encode_time(read))
    assert (moment, dated) == (read.time, False)
    assert Read("c", moment, dated=False).day_offset == day


def test_dedup_key_ignores_chip_case_but_not_reader_or_time() -> None:
    moment = datetime(2026, 5, 10, 9, 6, 0, 120_000)
    key = dedup_key("finish", Read("AB12", moment, sequence=5))
    assert key == dedup_key("finish", Read("ab12", moment, sequence=9, line=3, raw="x"))
    assert key != dedup_key("backup", Read("ab12", moment))
    assert key != dedup_key("finish", Read("ab12", moment + timedelta(microseconds=1)))
    assert key != dedup_key("finish", Read("ab12", moment, dated=False))


@pytest.mark.parametrize("read", [
    Read("AB12", datetime(2026, 5, 10, 9, 6, 0, 120_000)),
    Read("ff01", datetime(2026, 5, 10, 7, 6, 0, 1, tzinfo=UTC), sequence=3),
    Read("c", undated_time(2, timedelta(hours=9, seconds=3.25)), dated=False),
    Read("", datetime(2026, 5, 10, 9, 10), bib="42"),
])
def test_the_stored_form_is_the_encoded_time_and_the_dedup_key(read: Read) -> None:
    micros, kind, dedup = stored_form(read)
    assert (micros, kind) == encode_time(read)
    assert ("finish", dedup) == dedup_key("finish", read)


def read_at(clock_time: str, chip: str = "chip1", reader: str = "finish-main") -> ReadEntry:
    moment = datetime.fromisoformat(f"2026-05-10T{clock_time}")
    return ReadEntry(reader, Read(chip, moment), 0)


def journal() -> list[Journaled]:
    entries: list[Entry] = [
        read_at("08:59:50"),                                    # before the (late) gun
        read_at("09:06:00", chip="chip2"),
        gun("mile", at("08:59:30"), reason="fired late, corrected from the video"),
        read_at("09:07:00", chip="new1"),                       # unknown until assigned
        assign_chip("3", "NEW1"),
        RejectedEntry("finish-main", "aa00garbage", "bad LRC", 0, 7),
        penalty("2", 15, reason="obstruction"),
        set_status("1", "DQ", reason="ran forwards"),
        register(athlete("9", "chip9")),
        read_at("09:05:00", chip="chip9"),
        set_status("1", None, reason="appeal upheld"),
    ]
    return [Journaled(seq, entry) for seq, entry in enumerate(entries, start=1)]


def test_entry_by_entry_equals_rebuild_in_bulk() -> None:
    ev = event(race(gun=None))
    athletes = [athlete("1"), athlete("2"), athlete("3")]
    live = Standings(ev, athletes)
    changed: list[set[str]] = []
    for item in journal():
        changed.append(apply(live, item).bibs)
    rebuilt = Standings(ev, athletes)
    assert apply_all(rebuilt, journal()) == []
    assert results_csv(ev, live.results()) == results_csv(ev, rebuilt.results())
    rows = {row.bib: row for row in rebuilt.results()}
    # 08:59:50 was before the planned gun but is 20 s after the corrected one; the DQ was
    # withdrawn on appeal.
    assert (rows["1"].status, rows["1"].gun_ms) == ("FIN", 20_000)
    assert rows["2"].gun_ms == 390_000 + 15_000           # 09:06:00 from 08:59:30, + penalty
    assert rows["3"].gun_ms == 450_000                     # the claimed unknown chip
    assert rows["9"].gun_ms == 330_000
    assert changed[4] == {"3"} and changed[6] == {"2"}


def test_a_read_before_a_corrected_gun_counts_after_the_correction() -> None:
    ev = event(race(gun="09:00:00"))
    table = Standings(ev, [athlete("1")])
    apply_all(table, [Journaled(1, read_at("09:05:00")), Journaled(2, read_at("08:59:50"))])
    assert table.result("1").gun_ms == 300_000
    # Moved to 08:59:40, the gun puts the 08:59:50 read inside the race: it is now the finish.
    apply(table, Journaled(3, gun("mile", at("08:59:40"))))
    assert table.result("1").gun_ms == 10_000


def test_actions_that_cannot_apply_are_reported_not_raised_in_a_rebuild() -> None:
    table = Standings(event(), [athlete("1")])
    errors = apply_all(table, [Journaled(1, penalty("77", 5)),
                               Journaled(2, gun("marathon", at("09:00:00"))),
                               Journaled(3, set_status("1", "DNF"))])
    assert [seq for seq, _ in errors] == [1, 2]
    assert "77" in errors[0][1] and "marathon" in errors[1][1]
    assert table.result("1").status == "DNF"
    with pytest.raises(ActionError):
        apply(table, Journaled(4, assign_chip("404", "x")))


def test_edit_void_and_chip_moves_apply_and_rebuild_the_same() -> None:
    ev = event(race(waves=(("early", "08:50:00"),)))
    athletes = [athlete("1", "a1"), athlete("2", "b2")]
    stray = read_at("09:05:00", chip="a1")
    entries: list[Entry] = [
        stray, read_at("09:06:00", chip="a1"), read_at("09:07:00", chip="b2"),
        void("finish-main", stray.read, seq=1, reason="marshal walked over the mat"),
        edit(replace(athletes[1], wave="early"), reason="started with the early wave"),
        assign_chip("2", "a1", move=True, reason="chips swapped at pick-up"),
        assign_chip("1", "b2", move=True, reason="chips swapped at pick-up"),
    ]
    items = [Journaled(seq, entry) for seq, entry in enumerate(entries, start=1)]
    live = Standings(ev, athletes)
    touched = [apply(live, item).bibs for item in items]
    rebuilt = Standings(ev, athletes)
    assert apply_all(rebuilt, items) == []
    assert results_csv(ev, live.results()) == results_csv(ev, rebuilt.results())
    one, two = rebuilt.result("1"), rebuilt.result("2")
    assert one.gun_ms == 420_000               # b2's 09:07 read, from the race gun
    assert two.gun_ms == 960_000               # a1's 09:06 read (not the voided 09:05), from 08:50
    assert touched[3] == {"1"} and touched[5] == {"1", "2"}


def test_check_action_refuses_what_cannot_apply() -> None:
    table = Standings(event(), [athlete("1", "a1"), athlete("2", "b2")])
    refused = [
        (assign_chip("2", "A1"), "already belongs to bib 1"),
        (edit(athlete("3")), "no participant has bib '3'"),
        (edit(athlete("2", "a1")), "chip a1 already belongs to bib 1"),
        (edit(athlete("2", race_id="marathon")), "marathon"),
        (penalty("1", -3), "seconds must be a number from 0 to under a day"),
        (ActionEntry("status", {"bib": "1", "status": "WIN"}, "", 0), "DQ, DNF or DNS"),
        (gun("mile", 0, wave="elite"), "has no wave 'elite'"),
    ]
    for action, message in refused:
        with pytest.raises(ActionError, match=message):
            check_action(table, action)
    check_action(table, assign_chip("2", "a1", move=True))
    check_action(table, edit(athlete("2", "b2", last_name="New")))


@given(st.sampled_from(["local", "utc", "undated"]),
       st.integers(0, 3 * 86_400_000_000).map(lambda m: m + 1_778_371_200_000_000))
def test_stored_times_place_like_the_reads_they_came_from(clock: str, micros: int) -> None:
    if clock == "undated":
        micros -= 1_778_371_200_000_000  # days and a time of day after the reader's day 0
    moment, dated = decode_time(micros, clock)
    read = Read("c", moment, dated)
    assert CLOCK.stored_ms(*encode_time(read)) == CLOCK.read_ms(read)
