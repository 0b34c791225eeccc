"""Every rule of SCORING.md on the live standings, one scenario at a time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from timing.model import Adjustment
from timing.results import ResultRow

from .factory import POINTS, at, athlete, event, race, standings


def row(rows: list[ResultRow], bib: str) -> ResultRow:
    return next(r for r in rows if r.bib == bib)


def test_reads_before_the_gun_are_ignored() -> None:
    table = standings(athlete("1"))
    table.add_point_read("finish", at("08:59:59.999"), chip="chip1")
    assert table.result("1").status == "DNS"
    table.add_point_read("finish", at("09:06:40"), chip="chip1")
    assert table.result("1").gun_ms == 400_000


def test_read_exactly_at_the_gun_counts() -> None:
    table = standings(athlete("1"))
    table.add_point_read("start", at("09:00:00"), chip="chip1")
    table.add_point_read("finish", at("09:06:40"), chip="chip1")
    assert table.result("1").chip_ms == 400_000


def test_main_backup_chips_and_manual_merge_per_point() -> None:
    table = standings(athlete("1", "a1", "b1"))
    # Backup line with the second chip reads first; the main line later; a manual entry later.
    table.add_point_read("finish", at("09:06:39.500"), chip="B1")  # chips compare without case
    table.add_point_read("finish", at("09:06:39.700"), chip="a1")
    table.add_point_read("finish", at("09:06:41"), bib="1")
    result = table.result("1")
    assert result.status == "FIN"
    assert result.gun_ms == 399_500
    assert result.laps == 1


def test_min_lap_and_laps_count_the_lapth_passing() -> None:
    ev = event(race(laps=3, min_lap_s=60))
    table = standings(athlete("1"), ev=ev)
    for clock_time in ("09:01:30", "09:01:31", "09:02:00",   # lap 1, then duplicates
                       "09:03:00",                           # lap 2 (90 s after lap 1)
                       "09:03:59.999",                       # 59.999 s later: duplicate
                       "09:04:00"):                          # lap 3: exactly 60 s later
        table.add_point_read("finish", at(clock_time), chip="chip1")
    result = table.result("1")
    assert (result.status, result.laps, result.gun_ms) == ("FIN", 3, 240_000)
    table.add_point_read("finish", at("09:06:00"), chip="chip1")  # a 4th passing is ignored
    assert (table.result("1").laps, table.result("1").gun_ms) == (3, 240_000)


def test_same_instant_on_two_lines_is_one_lap_without_min_lap() -> None:
    table = standings(athlete("1", "a1", "b1"), ev=event(race(laps=2, min_lap_s=0)))
    table.add_point_read("finish", at("09:02:00"), chip="a1")
    assert table.add_point_read("finish", at("09:02:00"), chip="b1").changed is False
    result = table.result("1")
    assert (result.status, result.laps) == ("DNF", 1)
    table.add_point_read("finish", at("09:02:00.001"), chip="a1")  # later: a new passing
    assert (table.result("1").status, table.result("1").laps) == ("FIN", 2)


def test_lapper_short_of_laps_is_dnf_with_laps_counted() -> None:
    table = standings(athlete("1"), ev=event(race(laps=4)))
    table.add_point_read("finish", at("09:01:30"), chip="chip1")
    table.add_point_read("finish", at("09:03:00"), chip="chip1")
    result = table.result("1")
    assert (result.status, result.laps, result.gun_ms, result.place) == ("DNF", 2, None, None)


def test_chip_start_from_start_point_or_the_gun() -> None:
    table = standings(athlete("1"), athlete("2"))
    table.add_point_read("start", at("09:00:12.250"), chip="chip1")
    table.add_point_read("start", at("09:00:40"), chip="chip1")  # a later start read: not used
    table.add_point_read("finish", at("09:07:00"), chip="chip1")
    table.add_point_read("finish", at("09:07:00"), chip="chip2")  # no start read: gun
    assert table.result("1").chip_ms == 420_000 - 12_250
    assert table.result("1").gun_ms == 420_000
    assert table.result("2").chip_ms == 420_000


def test_penalty_added_to_gun_and_chip_time_and_changes_places() -> None:
    table = standings(athlete("1"), athlete("2"))
    table.add_point_read("start", at("09:00:05"), chip="chip1")
    table.add_point_read("finish", at("09:06:00"), chip="chip1")
    table.add_point_read("finish", at("09:06:20"), chip="chip2")
    assert table.result("1").place == 1
    table.apply_adjustment(Adjustment("1", "penalty", penalty_ms=30_000, reason="cut the cone"))
    first = table.result("1")
    assert (first.gun_ms, first.chip_ms) == (390_000, 385_000)
    assert (first.place, table.result("2").place) == (2, 1)
    assert first.adjustments[0].reason == "cut the cone"


def test_rank_by_chip_places_on_chip_time() -> None:
    table = standings(athlete("1"), athlete("2"), ev=event(race(rank_by="chip")))
    table.add_point_read("start", at("09:00:30"), chip="chip1")
    table.add_point_read("finish", at("09:07:00"), chip="chip1")  # chip 6:30, gun 7:00
    table.add_point_read("finish", at("09:06:50"), chip="chip2")  # chip = gun 6:50
    assert (table.result("1").place, table.result("2").place) == (1, 2)


def test_splits_measured_from_the_ranking_origin() -> None:
    by_gun = standings(athlete("1"))
    by_chip = standings(athlete("1"), ev=event(race(rank_by="chip")))
    for table in (by_gun, by_chip):
        table.add_point_read("start", at("09:00:10"), chip="chip1")
        table.add_point_read("half", at("09:03:10"), chip="chip1")
        table.add_point_read("half", at("09:03:20"), chip="chip1")  # first passing counts
    assert by_gun.result("1").split_ms("half") == 190_000
    assert by_chip.result("1").split_ms("half") == 180_000
    assert by_gun.result("1").status == "DNF"


def test_statuses_from_reads_and_overrides() -> None:
    table = standings(athlete("1"), athlete("2"), athlete("3"), athlete("4"))
    table.add_point_read("finish", at("09:06:00"), chip="chip1")
    table.add_point_read("start", at("09:00:02"), chip="chip2")
    table.add_point_read("finish", at("09:05:00"), chip="chip4")
    table.apply_adjustment(Adjustment("4", "status", status="DQ", reason="ran forwards"))
    statuses = {bib: table.result(bib).status for bib in "1234"}
    assert statuses == {"1": "FIN", "2": "DNF", "3": "DNS", "4": "DQ"}
    dq = table.result("4")
    assert (dq.place, dq.gun_ms, dq.laps) == (None, None, 1)
    assert table.result("1").place == 1  # the DQ'd faster athlete takes no place
    table.apply_adjustment(Adjustment("3", "status", status="DNF", reason="seen at the start"))
    assert table.result("3").status == "DNF"
    table.clear_status("4")
    assert table.result("4").place == 1


def test_ties_share_a_place_and_skip_the_next() -> None:
    athletes = [athlete(str(n), gender="F" if n % 2 else "M") for n in range(1, 6)]
    table = standings(*athletes)
    finishes = {"1": "09:06:00", "2": "09:06:10.5", "3": "09:06:10.5", "4": "09:06:20",
                "5": "09:06:10.5"}
    for bib, clock_time in finishes.items():
        table.add_point_read("finish", at(clock_time), chip=f"chip{bib}")
    places = {bib: table.result(bib).place for bib in finishes}
    assert places == {"1": 1, "2": 2, "3": 2, "5": 2, "4": 5}
    gender_places = {bib: table.result(bib).gender_place for bib in finishes}
    assert gender_places == {"1": 1, "3": 2, "5": 2, "2": 1, "4": 2}
    assert [r.bib for r in table.results()] == ["1", "2", "3", "5", "4"]  # ties by bib


def test_ties_at_full_resolution_not_display_resolution() -> None:
    table = standings(athlete("1"), athlete("2"))
    table.add_point_read("finish", at("09:06:39.001"), chip="chip1")
    table.add_point_read("finish", at("09:06:39.002"), chip="chip2")
    assert (table.result("1").place, table.result("2").place) == (1, 2)


def test_category_places_and_empty_category_has_none() -> None:
    table = standings(athlete("1", category="F30-39"), athlete("2", category="F30-39"),
                      athlete("3", category="F40-49"), athlete("4"))
    for bib, clock_time in (("1", "09:07:00"), ("2", "09:06:00"), ("3", "09:06:30"),
                            ("4", "09:05:00")):
        table.add_point_read("finish", at(clock_time), chip=f"chip{bib}")
    assert [table.result(b).category_place for b in "1234"] == [2, 1, 1, None]
    assert [table.result(b).place for b in "1234"] == [4, 2, 3, 1]


def test_waves_use_their_own_gun() -> None:
    ev = event(race(gun="09:00:00", waves=(("elite", "08:55:00"), ("open", None))))
    table = standings(athlete("1", wave="elite"), athlete("2", wave="open"), athlete("3"),
                      ev=ev)
    table.add_point_read("finish", at("08:56:00"), chip="chip2")  # before the open gun
    for bib in "123":
        table.add_point_read("finish", at("09:05:00"), chip=f"chip{bib}")
    assert table.result("1").gun_ms == 600_000   # from 08:55
    assert table.result("2").gun_ms == 300_000   # wave without gun: the race's
    assert table.result("3").gun_ms == 300_000


def test_several_races_rank_apart_and_ignore_points_they_do_not_use() -> None:
    kids_points = (POINTS[2],)  # the kids' race uses the finish only
    ev = event(race("mile"), race("kids", gun="10:00:00", points=kids_points))
    table = standings(athlete("1"), athlete("2", race_id="kids"), ev=ev)
    table.add_point_read("finish", at("09:06:00"), chip="chip1")
    table.add_point_read("half", at("10:00:30"), chip="chip2")   # not on the kids' course
    assert table.add_point_read("half", at("10:00:31"), chip="chip2").kind == "off_course"
    table.add_point_read("finish", at("10:01:09"), chip="chip2")
    assert (table.result("1").place, table.result("2").place) == (1, 1)
    assert table.result("2").gun_ms == 69_000
    assert table.result("2").splits == ()
    assert [r.race for r in table.results()] == ["mile", "kids"]


def test_unknown_chip_is_kept_and_claimed_by_a_late_assignment() -> None:
    table = standings(athlete("1"))
    outcome = table.add_point_read("finish", at("09:06:00"), chip="MYSTERY")
    assert (outcome.kind, outcome.key) == ("unknown_chip", "MYSTERY")
    assert table.unknown_chips() == {"mystery": 1}
    assert [r.bib for r in table.results()] == ["1"]
    table.assign_chip("1", "mystery")
    assert table.result("1").gun_ms == 360_000
    assert table.unknown_chips() == {}
    with pytest.raises(ValueError, match="chip MYSTERY already belongs to bib 1"):
        table.add_athlete(athlete("2", "MYSTERY"))
    assert "2" not in table.athlete_bibs()


def test_manual_read_for_unknown_bib_is_kept_for_a_late_registration() -> None:
    table = standings(athlete("1"))
    assert table.add_point_read("finish", at("09:06:00"), bib="77").kind == "unknown_bib"
    table.add_athlete(athlete("77"))
    assert table.result("77").gun_ms == 360_000


def test_gun_fired_late_rederives_the_race() -> None:
    table = standings(athlete("1"), ev=event(race(gun=None)))
    table.add_point_read("finish", at("09:06:00"), chip="chip1")
    assert table.result("1").status == "DNS"   # no gun yet: every read is before it
    table.set_gun("mile", at("09:00:00"))
    assert table.result("1").gun_ms == 360_000
    table.set_gun("mile", at("09:06:30"))      # a corrected gun after the read
    assert table.result("1").status == "DNS"


def test_out_of_order_read_replaces_the_first_passing() -> None:
    table = standings(athlete("1"), ev=event(race(laps=2, min_lap_s=30)))
    table.add_point_read("finish", at("09:01:00"), chip="chip1")
    table.add_point_read("finish", at("09:01:25"), chip="chip1")   # duplicate of 09:01:00
    table.add_point_read("finish", at("09:01:50"), chip="chip1")   # lap 2
    assert table.result("1").gun_ms == 110_000
    # A backup read arrives late: 09:00:55 is now the first passing, so 09:01:25 (30 s after)
    # becomes lap 2.
    outcome = table.add_point_read("finish", at("09:00:55"), chip="chip1")
    assert outcome.changed
    assert table.result("1").gun_ms == 85_000


def test_repeated_reads_report_no_change() -> None:
    table = standings(athlete("1"))
    assert table.add_point_read("finish", at("09:06:00"), chip="chip1").changed
    assert not table.add_point_read("finish", at("09:06:00.050"), chip="chip1").changed
    assert not table.add_point_read("start", at("08:59:00"), chip="chip1").changed


def test_non_finishers_follow_finishers_dnf_dq_dns_then_bib() -> None:
    table = standings(*(athlete(b) for b in ("5", "4", "3", "2", "1")))
    table.add_point_read("finish", at("09:06:00"), chip="chip5")
    table.add_point_read("start", at("09:00:01"), chip="chip4")
    table.add_point_read("start", at("09:00:01"), chip="chip2")
    table.apply_adjustment(Adjustment("3", "status", status="DQ", reason="r"))
    assert [(r.bib, r.status) for r in table.results()] == [
        ("5", "FIN"), ("2", "DNF"), ("4", "DNF"), ("3", "DQ"), ("1", "DNS")]


def test_a_chip_moved_to_another_athlete_takes_all_its_reads() -> None:
    table = standings(athlete("1", "a1", "shared"), athlete("2", "b2"))
    table.add_point_read("finish", at("09:06:00"), chip="SHARED")
    table.add_point_read("finish", at("09:07:00"), chip="b2")
    assert (table.result("1").gun_ms, table.result("2").gun_ms) == (360_000, 420_000)
    table.assign_chip("2", "shared")           # the desk swapped bib 1's spare chip to bib 2
    assert table.result("1").status == "DNS"
    assert table.result("2").gun_ms == 360_000
    assert table.athlete("1").chips == ("a1",) and table.athlete("2").chips == ("b2", "shared")
    assert (table.chip_owner("Shared"), table.result("2").place) == ("2", 1)
    table.add_point_read("finish", at("09:05:00"), chip="shared")  # and every later read
    assert table.result("2").gun_ms == 300_000


def test_editing_a_participant_moves_reads_with_the_chips() -> None:
    ev = event(race(waves=(("early", "08:50:00"),)))
    table = standings(athlete("1", "a1", "a2"), ev=ev)
    table.add_point_read("finish", at("09:06:00"), chip="a2")
    table.add_point_read("finish", at("09:07:00"), chip="a1")
    edited = replace(table.athlete("1"), chips=("a1",), wave="early", last_name="Bianchi")
    table.update_athlete(edited)
    result = table.result("1")
    assert (result.last_name, result.gun_ms) == ("Bianchi", 1_020_000)  # 09:07 from 08:50
    assert table.unknown_chips() == {"a2": 1}
    with pytest.raises(KeyError):
        table.update_athlete(athlete("404"))


def test_a_voided_read_no_longer_counts() -> None:
    table = standings(athlete("1"))
    table.add_point_read("finish", at("09:05:00"), chip="chip1")   # a stray read: a marshal
    table.add_point_read("finish", at("09:06:00"), chip="chip1")
    assert table.result("1").gun_ms == 300_000
    assert table.remove_point_read("finish", at("09:05:00"), chip="CHIP1")
    assert table.result("1").gun_ms == 360_000
    assert not table.remove_point_read("finish", at("09:05:00"), chip="chip1")  # only once
    assert table.add_point_read("finish", at("09:09:00"), chip="ghost").kind == "unknown_chip"
    assert table.remove_point_read("finish", at("09:09:00"), chip="ghost")
    assert table.unknown_chips() == {}


def test_a_point_left_without_reads_by_a_chip_swap_takes_the_next_read() -> None:
    """Found by the soak test: a chip with bib 1's only finish read is moved to bib 2, then a
    hand time for bib 1 at the finish comes: its finish times were an empty list, and the live
    path read the last of them (IndexError: the core set the hand time aside)."""
    table = standings(athlete("1", "a1", "spare"), athlete("2", "b2"))
    table.add_point_read("finish", at("09:06:00"), chip="spare")
    table.assign_chip("2", "spare")
    outcome = table.add_point_read("finish", at("09:07:00"), bib="1")
    assert outcome.kind == "athlete" and outcome.changed
    assert table.result("1").gun_ms == 420_000 and table.result("2").gun_ms == 360_000
    table.assign_chip("1", "spare")  # and back: both reads are bib 1's, the first counts
    assert table.result("1").gun_ms == 360_000 and table.result("2").status == "DNS"
