"""The timekeeper's dry run (`Standings.preview_adjustment`): what it answers is what applying
the status or penalty then does, row for row, and it changes nothing."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from timing.entries import ActionEntry, Applied, adjustment_of, apply_action, penalty, set_status
from timing.results import ResultRow
from timing.standings import Standings

from .factory import at, athlete, event, race, standings

View = dict[str, Any]


def view(row: ResultRow) -> View:
    return {"place": row.place, "gender_place": row.gender_place,
            "category_place": row.category_place, "status": row.status,
            "time_ms": row.gun_ms}  # the race ranks by gun time: the ranking time


def previewed(table: Standings, action: ActionEntry) -> list[tuple[str, View, View]]:
    bib = str(action.payload["bib"])
    return [(change.athlete.bib, change.before._asdict(), change.after._asdict())
            for change in table.preview_adjustment(bib, adjustment_of(action))]


def applied(table: Standings, action: ActionEntry) -> list[tuple[str, View, View]]:
    """Apply `action` to a copy of `table`: the rows of the race that changed, in results
    order after, as the dry run answers them."""
    race_id = table.athlete(str(action.payload["bib"])).race
    before = {row.bib: view(row) for row in table.results(race_id)}
    trial = copy.deepcopy(table)
    apply_action(trial, action, Applied(0))
    return [(row.bib, before[row.bib], view(row)) for row in trial.results(race_id)
            if view(row) != before[row.bib]]


def check(table: Standings, action: ActionEntry) -> list[tuple[str, View, View]]:
    everything = table.results()
    answer = previewed(table, action)
    assert answer == applied(table, action)
    assert table.results() == everything  # the dry run changed nothing
    return answer


def mile_with_finishers() -> Standings:
    """Ten finishers of both genders and three categories (one tie), two non-finishers, and a
    second race the actions must not touch."""
    categories = ["F30-39", "M30-39", "F40-49", ""]
    athletes = [athlete(str(n), gender="F" if n % 3 else "M", category=categories[n % 4])
                for n in range(1, 13)]
    athletes.append(athlete("k1", race_id="kids"))
    table = standings(*athletes, ev=event(race(), race("kids")))
    finishes = {"1": "09:06:00", "2": "09:06:05", "3": "09:06:10", "4": "09:06:10",
                "5": "09:06:20", "6": "09:06:30", "7": "09:06:41", "8": "09:06:50",
                "9": "09:07:00", "10": "09:07:30"}
    for bib, clock_time in finishes.items():
        table.add_point_read("finish", at(clock_time), chip=f"chip{bib}")
    table.add_point_read("start", at("09:00:02"), chip="chip11")  # started: DNF; 12 is a DNS
    table.add_point_read("finish", at("09:08:00"), chip="chipk1")
    return table


def test_status_dq_dnf_dns_of_a_finisher_shift_the_places_behind() -> None:
    for status in ("DQ", "DNF", "DNS"):
        table = mile_with_finishers()
        answer = check(table, set_status("2", status, reason="r"))
        bibs = [bib for bib, _, _ in answer]
        assert bibs == ["3", "4", "5", "6", "7", "8", "9", "10", "2"]  # results order after
        assert answer[0][1]["place"] == 3 and answer[0][2]["place"] == 2  # 3 and 4 tie
        assert answer[-1][2]["status"] == status and answer[-1][2]["place"] is None


def test_a_penalty_moves_the_athlete_back_past_the_ones_it_now_trails() -> None:
    table = mile_with_finishers()
    answer = check(table, penalty("1", 35, reason="cut the course"))  # 09:06:35: sixth
    assert [bib for bib, _, _ in answer] == ["2", "3", "4", "5", "6", "1"]
    assert answer[-1][2]["place"] == 6
    # The last finisher keeps their place; the preview still shows their new time.
    [(bib, before, after)] = check(table, penalty("10", 60, reason="r"))
    assert bib == "10" and before["place"] == after["place"]
    assert after["time_ms"] - before["time_ms"] == 60_000
    assert check(table, penalty("11", 60, reason="r")) == []  # a DNF: no place to lose


def test_clearing_a_status_and_statuses_on_non_finishers() -> None:
    table = mile_with_finishers()
    apply_action(table, set_status("3", "DQ", reason="r"), Applied(0))
    answer = check(table, set_status("3", None, reason="appeal upheld"))
    assert answer[0][0] == "3" and answer[0][2]["place"] == 3
    assert [bib for bib, _, _ in check(table, set_status("12", "DQ", reason="r"))] == ["12"]
    assert check(table, set_status("11", "DNF", reason="r")) == []  # a DNF already


@settings(max_examples=150, deadline=None)
@given(finishes=st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=2, max_size=14),
       genders=st.lists(st.sampled_from("FMX"), min_size=14, max_size=14),
       categories=st.lists(st.sampled_from(["", "A", "B"]), min_size=14, max_size=14),
       pick=st.integers(0, 13), applied_first=st.booleans(),
       kind=st.sampled_from(["DQ", "DNF", "DNS", "clear", "penalty"]),
       seconds=st.integers(0, 13))
def test_the_dry_run_is_what_applying_gives(finishes: list[int | None], genders: list[str],
                                            categories: list[str], pick: int,
                                            applied_first: bool, kind: str,
                                            seconds: int) -> None:
    """Random small races (ties likely, finish times a few seconds apart, non-finishers): any
    status or penalty on anyone, with or without a DQ already applied to them."""
    table = standings(*(athlete(str(n), gender=genders[n], category=categories[n])
                        for n in range(len(finishes))))
    for n, second in enumerate(finishes):
        if second is not None:
            table.add_point_read("finish", at(f"09:06:{second:02d}"), chip=f"chip{n}")
    bib = str(pick % len(finishes))
    if applied_first:
        apply_action(table, set_status(bib, "DQ", reason="r"), Applied(0))
    action = (penalty(bib, seconds, reason="r") if kind == "penalty"
              else set_status(bib, None if kind == "clear" else kind, reason="r"))  # type: ignore[arg-type]
    check(table, action)
