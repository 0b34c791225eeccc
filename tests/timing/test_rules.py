"""The small rules of SCORING.md, each with a case that fails if the rule is wrong."""

from __future__ import annotations

from datetime import date

import pytest

from timing.rules import (
    age_on,
    bib_order,
    category_for,
    first_passing,
    format_duration,
    passings,
    round_up,
)

BOUNDS = (0, 20, 30, 40, 50, 60, 70)
RACE_DAY = date(2026, 5, 10)


@pytest.mark.parametrize(("ms", "precision", "shown"), [
    (399_001, 1000, "6:40"),        # 6:39.001 rounds UP to 6:40 (TR 19)
    (399_000, 1000, "6:39"),        # an exact second stays
    (399_999, 1000, "6:40"),
    (3_723_000, 1000, "1:02:03"),   # hours appear only when needed
    (3_600_000, 1000, "1:00:00"),
    (399_301, 100, "6:39.4"),       # tenths, rounded up
    (399_300, 100, "6:39.3"),
    (399_411, 10, "6:39.42"),
    (45_000, 1000, "0:45"),         # under a minute: M:SS
    (59_001, 1000, "1:00"),         # rounding up carries into the minutes
    (0, 1000, "0:00"),
])
def test_display_rounds_up_to_the_race_precision(ms: int, precision: int, shown: str) -> None:
    assert format_duration(ms, precision) == shown


def test_round_up_keeps_exact_multiples() -> None:
    assert round_up(2000, 1000) == 2000
    assert round_up(2001, 1000) == 3000
    assert round_up(1, 10) == 10


@pytest.mark.parametrize(("birth", "category"), [
    (date(1990, 5, 10), "F30-39"),   # 36 on the day
    (date(1996, 5, 10), "F30-39"),   # turns 30 on race day: full years on the day
    (date(1996, 5, 11), "F20-29"),   # turns 30 the day after
    (date(2006, 5, 11), "F0-19"),
    (date(1950, 1, 1), "F70+"),      # the last bound is open
    (date(1956, 5, 10), "F70+"),
    (date(1956, 5, 11), "F60-69"),
])
def test_category_from_age_on_the_event_day(birth: date, category: str) -> None:
    assert category_for("F", birth, RACE_DAY, BOUNDS) == category


def test_category_empty_without_birth_date_or_bounds() -> None:
    assert category_for("M", None, RACE_DAY, BOUNDS) == ""
    assert category_for("M", date(1990, 1, 1), RACE_DAY, ()) == ""
    assert category_for("X", date(1990, 1, 1), RACE_DAY, BOUNDS) == "X30-39"
    assert category_for("M", date(2020, 1, 1), RACE_DAY, (10, 20)) == ""  # below the lowest


def test_age_on_leap_day_birthday() -> None:
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26


def test_passings_drop_reads_before_the_gun_and_apply_min_lap() -> None:
    gun = 1000
    times = [400, 999, 1000, 1500, 30_999, 31_000, 31_001, 90_000]
    # 400 and 999 are before the gun; 1000 (exactly at the gun) is the first passing;
    # 30_999 is 29.999 s after it: a duplicate; 31_000 is exactly 30 s after: a new passing.
    assert passings(times, gun, 30_000, 10) == [1000, 31_000, 90_000]
    assert passings(times, gun, 30_000, 2) == [1000, 31_000]
    assert passings(times, 100_000, 30_000, 10) == []
    assert first_passing(times, gun) == 1000
    assert first_passing(times, 1001) == 1500
    assert first_passing([], gun) is None


def test_reads_at_the_same_instant_are_one_passing_even_without_min_lap() -> None:
    # Main and backup line read the chip at the same millisecond: not "a later read".
    assert passings([0, 0, 0, 500, 500], 0, 0, 10) == [0, 500]


def test_min_lap_measures_from_the_last_passing_not_the_last_read() -> None:
    # Reads every 20 s: with a 30 s min lap, 20 s is a duplicate of 0, 40 s a new passing
    # (40 s after 0), 60 s a duplicate of 40 s.
    assert passings([0, 20_000, 40_000, 60_000, 80_000], 0, 30_000, 10) == [0, 40_000, 80_000]


def test_bibs_sort_numerically_then_as_text() -> None:
    assert sorted(["10", "9", "A1", "100", "B"], key=bib_order) == ["9", "10", "100", "A1", "B"]
