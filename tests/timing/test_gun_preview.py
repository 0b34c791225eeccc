"""The dry run of a gun (`Standings.preview_gun`, `timing.gun_preview`): what it answers is what
setting the gun then does, row for row, and it changes nothing; and the typed times a gun
correction takes (`timing.time_of_day`)."""

from __future__ import annotations

import copy
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timing.gun_preview import with_gun
from timing.model import Adjustment
from timing.results import ResultRow
from timing.standings import Standings
from timing.time_of_day import parse_stopwatch, parse_time_of_day, time_of_day_text

from .factory import CLOCK, at, athlete, event, race, standings

View = dict[str, Any]
Seen = tuple[str, View, View]


def view(row: ResultRow, rank_by: str) -> View:
    ranked = row.gun_ms if rank_by == "gun" else row.chip_ms
    return {"place": row.place, "gender_place": row.gender_place,
            "category_place": row.category_place, "status": row.status, "time_ms": ranked}


def previewed(table: Standings, race_id: str, gun_ms: int | None,
              wave: str | None) -> tuple[list[Seen], int]:
    answer = table.preview_gun(race_id, gun_ms, wave)
    return ([(change.athlete.bib, change.before._asdict(), change.after._asdict())
             for change in answer.changes], answer.retimed)


def applied(table: Standings, race_id: str, gun_ms: int | None,
            wave: str | None) -> tuple[list[Seen], int]:
    """Set the gun on a copy of `table`: the rows of the race whose place or status changed,
    in results order after (with their times), and how many rows changed at all."""
    before = {row.bib: row for row in table.results(race_id)}
    trial = copy.deepcopy(table)
    trial.set_gun(race_id, gun_ms, wave)
    after = trial.results(race_id)
    rank_by = table.race(race_id).rank_by

    def placing(row: ResultRow) -> tuple[Any, ...]:
        return row.place, row.gender_place, row.category_place, row.status

    moved = [(row.bib, view(before[row.bib], rank_by), view(row, rank_by)) for row in after
             if placing(row) != placing(before[row.bib])]
    retimed = sum((row.status, row.gun_ms, row.chip_ms, row.laps, row.splits)
                  != (before[row.bib].status, before[row.bib].gun_ms, before[row.bib].chip_ms,
                      before[row.bib].laps, before[row.bib].splits) for row in after)
    return moved, retimed


def check(table: Standings, race_id: str, gun: str | None, wave: str | None = None
          ) -> list[Seen]:
    everything = table.results()
    gun_ms = None if gun is None else at(gun)
    answer = previewed(table, race_id, gun_ms, wave)
    assert answer == applied(table, race_id, gun_ms, wave)
    assert table.results() == everything  # the dry run changed nothing
    assert table.race(race_id) == copy.deepcopy(table).race(race_id)
    return answer[0]


def waves_race() -> Standings:
    """A mile whose elite wave has its own gun (09:00) and whose open wave starts with the
    race's (09:05); a kids race the guns must not touch."""
    mile = race(gun="09:05:00", waves=(("elite", "09:00:00"), ("open", None)))
    athletes = [athlete(f"e{n}", wave="elite", gender="FM"[n % 2]) for n in range(4)]
    athletes += [athlete(f"o{n}", wave="open", gender="FM"[n % 2], category="A" if n else "")
                 for n in range(4)]
    athletes += [athlete("k1", race_id="kids")]
    table = standings(*athletes, ev=event(mile, race("kids", gun="10:00:00")))
    finishes = {"e0": "09:06:00", "e1": "09:06:30", "e2": "09:07:00", "e3": "09:10:00",
                "o0": "09:11:00", "o1": "09:11:20", "o2": "09:11:40", "o3": "09:12:30",
                "k1": "10:03:00"}
    for bib, clock_time in finishes.items():
        table.add_point_read("finish", at(clock_time), chip=f"chip{bib}")
    return table


def test_a_wave_gun_moves_only_that_wave_and_the_places_around_it() -> None:
    table = waves_race()
    # The elite wave's gun 2 minutes later: its times shrink by 2 minutes.
    answer = check(table, "mile", "09:02:00", "elite")
    assert answer, "places change"
    assert all(bib.startswith("e") or before["place"] != after["place"]
               for bib, before, after in answer)
    elite = {bib: (before, after) for bib, before, after in answer if bib.startswith("e")}
    for before, after in elite.values():
        assert after["time_ms"] == before["time_ms"] - 120_000
    assert "k1" not in {bib for bib, _, _ in answer}


def test_the_race_gun_moves_the_waves_that_inherit_it_not_the_others() -> None:
    table = waves_race()
    # After o0's finish: their only read is before the gun, a DNS; the other open athletes
    # now have the best times, and the elite wave keeps its times but loses places.
    answer = check(table, "mile", "09:11:10")
    after = {bib: placed for bib, _, placed in answer}
    assert after["o0"]["status"] == "DNS" and after["o0"]["place"] is None
    assert after["o1"]["place"] == 1 and after["o1"]["time_ms"] == 10_000
    assert {bib for bib in after if bib.startswith("e")} == {"e0", "e1", "e2", "e3"}
    assert all(before["time_ms"] == after[bib]["time_ms"]
               for bib, before, _ in answer if bib.startswith("e"))
    assert table.preview_gun("mile", table.race("mile").gun_ms).changes == []  # the same gun


def test_taking_a_gun_back_and_firing_a_race_not_fired() -> None:
    table = waves_race()
    check(table, "mile", None, "elite")  # the elite wave then inherits the race's gun
    table.set_gun("kids", None)
    assert {row.status for row in table.results("kids")} == {"DNS"}
    fired = check(table, "kids", "10:00:00")
    assert [(bib, after["status"], after["place"]) for bib, _, after in fired] == [
        ("k1", "FIN", 1)]


def test_an_unknown_wave_is_refused() -> None:
    with pytest.raises(KeyError):
        with_gun(race(), "nope", at("09:00:00"))
    with pytest.raises(KeyError):
        waves_race().preview_gun("mile", at("09:00:00"), "nope")


def test_chip_ranking_and_a_start_mat() -> None:
    """Ranked by chip time, a gun moved before everyone's start changes no place, yet every
    gun time: nothing to list, everything retimed; moved after some starts, those starts do
    not count (reads before the gun are ignored)."""
    mile = race(gun="09:00:00", rank_by="chip")
    table = standings(*(athlete(str(n)) for n in range(5)), ev=event(mile))
    for n in range(5):
        table.add_point_read("start", at(f"09:00:{10 + n * 5:02d}"), chip=f"chip{n}")
        table.add_point_read("finish", at(f"09:07:{50 - n * 7:02d}"), chip=f"chip{n}")
    changes, retimed = previewed(table, "mile", at("09:00:05"), None)
    assert changes == [] and retimed == 5
    check(table, "mile", "09:00:05")
    check(table, "mile", "09:00:22")


@settings(max_examples=120, deadline=None)
@given(finishes=st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=2, max_size=12),
       waves=st.lists(st.sampled_from([None, "a", "b"]), min_size=12, max_size=12),
       genders=st.lists(st.sampled_from("FMX"), min_size=12, max_size=12),
       dq=st.lists(st.booleans(), min_size=12, max_size=12),
       wave_gun=st.one_of(st.none(), st.integers(0, 30)),
       target=st.sampled_from([None, "a", "b"]), new_gun=st.one_of(st.none(), st.integers(0, 40)))
def test_the_dry_run_is_what_setting_the_gun_gives(
        finishes: list[int | None], waves: list[str | None], genders: list[str],
        dq: list[bool], wave_gun: int | None, target: str | None, new_gun: int | None) -> None:
    """Random small races in two waves (one with a gun of its own or not), ties likely,
    DQs and non-finishers: any gun, of the race or a wave, moved anywhere or taken back."""
    wave_a = None if wave_gun is None else f"09:00:{wave_gun:02d}"
    mile = race(gun="09:00:10", waves=(("a", wave_a), ("b", None)))
    table = standings(*(athlete(str(n), wave=waves[n], gender=genders[n],
                                category="A" if n % 3 else "")
                        for n in range(len(finishes))), ev=event(mile))
    for n, second in enumerate(finishes):
        if second is not None:
            table.add_point_read("finish", at(f"09:00:{second:02d}"), chip=f"chip{n}")
    for n in range(len(finishes)):
        if dq[n]:
            table.apply_adjustment(Adjustment(str(n), "status", status="DQ"))
    check(table, "mile", None if new_gun is None else f"09:00:{new_gun:02d}", target)


def test_typed_times_of_day() -> None:
    assert parse_time_of_day("09:00:00") == (time(9, 0, 0), None)
    assert parse_time_of_day(" 9:05:07.25 ") == (time(9, 5, 7, 250_000), None)
    assert parse_time_of_day("23:59:59.999")[0] == time(23, 59, 59, 999_000)
    for bad in ("9:00", "24:00:00", "09:60:00", "09:00:61", "09:00:00.1234", "nine", "",
                "-1:00:00", "09:00:00.", "\u0660\u0669:\u0660\u0660:\u0660\u0660"):  # Arabic digits
        value, problem = parse_time_of_day(bad)
        assert value is None and problem is not None and repr(bad) in problem, bad


def test_stopwatch_readings() -> None:
    assert parse_stopwatch("12:34") == (754_000, None)
    assert parse_stopwatch("1:02:03.4") == (3_723_400, None)
    assert parse_stopwatch("75:30") == (4_530_000, None)
    assert parse_stopwatch("0:00.05") == (50, None)
    for bad in ("12", "1:60:00", "12:60", "1:2:3", "12:34.5678", "x"):
        value, problem = parse_stopwatch(bad)
        assert value is None and problem is not None and repr(bad) in problem, bad


def test_time_of_day_text_cuts_tenths_in_the_event_zone() -> None:
    zone = ZoneInfo("Europe/Rome")
    assert time_of_day_text(at("09:00:00.999"), zone) == "09:00:00.9"
    assert time_of_day_text(at("13:02:03.05"), zone) == "13:02:03.0"
    assert time_of_day_text(CLOCK.time_of_day_ms(time(0, 0, 0, 100_000)), zone) == "00:00:00.1"
