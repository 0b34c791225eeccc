"""event.toml, participants.csv and adjustments.csv: what loads, and where errors point."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from timing.eventfile import EventFileError, load_event, parse_event_toml
from timing.participants import CsvHeaderError, parse_adjustments, parse_participants

from .factory import at

GOOD = """\
[event]
name = "Backwards Mile 2026"
date = "2026-05-10"
timezone = "Europe/Rome"

[categories]
age_bounds = [0, 20, 30, 40]

[[races]]
id = "mile"
name = "Backwards Mile"
distance_m = 1609.344
gun = "09:00:00"
laps = 1
rank_by = "chip"
min_lap_s = 30
precision = "0.1"

  [[races.waves]]
  id = "elite"
  gun = "08:55:00.5"

  [[races.waves]]
  id = "open"

[[races]]
id = "kids"
gun = 2026-05-10T10:00:00
points = ["finish", "start"]

[[points]]
id = "start"
kind = "start"
[[points]]
id = "half"
kind = "split"
distance_m = 804.672
[[points]]
id = "finish"
kind = "finish"

[[readers]]
id = "finish-main"
point = "finish"
format = "ipico"
path = "reads/finish-main.txt"
clock_offset_s = -1.5
"""


def test_a_good_event_loads() -> None:
    event = parse_event_toml(GOOD)
    mile, kids = event.races
    assert (event.name, event.date, event.timezone) == ("Backwards Mile 2026", date(2026, 5, 10),
                                                        "Europe/Rome")
    assert event.age_bounds == (0, 20, 30, 40)
    assert mile.gun_ms == at("09:00:00")
    assert mile.wave("elite") is not None and mile.gun_for("elite") == at("08:55:00.500")
    assert mile.gun_for("open") == at("09:00:00")
    assert (mile.rank_by, mile.min_lap_ms, mile.precision_ms) == ("chip", 30_000, 100)
    assert (mile.start_point, mile.split_points, mile.finish_point) == ("start", ("half",),
                                                                       "finish")
    assert kids.points == ("start", "finish")  # event order, whatever the race lists
    assert kids.gun_ms == at("10:00:00")
    assert kids.name == "kids"
    reader = event.readers[0]
    assert (reader.clock_offset_ms, reader.path, reader.format) == (-1500, "reads/finish-main.txt",
                                                                    "ipico")


def errors_of(text: str, formats: tuple[str, ...] | None = None) -> list[str]:
    with pytest.raises(EventFileError) as caught:
        parse_event_toml(text, "event.toml", formats)
    return [str(problem) for problem in caught.value.problems]


def test_a_bad_gun_names_its_line() -> None:
    text = GOOD.replace('gun = "08:55:00.5"', 'gun = "9am"')
    assert errors_of(text) == ['event.toml:21: races[0].waves[0].gun: must be a time of day '
                               'HH:MM[:SS[.fff]] or a local date and time YYYY-MM-DDTHH:MM:SS, '
                               "not '9am'"]


@pytest.mark.parametrize(("given", "expected"), [
    ('"6:40"', 400_000), ('"1:02:03.4"', 3_723_400), ('"0:59.25"', 59_250), ("69", 69_000)])
def test_a_course_record_is_a_time_like_the_results_show(given: str, expected: int) -> None:
    text = GOOD.replace('precision = "0.1"', f'precision = "0.1"\nrecord = {given}')
    event = parse_event_toml(text, "event.toml")
    assert [race.record_ms for race in event.races] == [expected, None]


def test_a_bad_course_record_names_its_line() -> None:
    text = GOOD.replace('precision = "0.1"', 'precision = "0.1"\nrecord = "6:4"')
    assert errors_of(text) == ['event.toml:18: races[0].record: must be a time under a day like '
                               '"6:40" or "1:02:03.4" (or seconds), not \'6:4\'']


def test_every_mistake_is_reported_at_once_with_lines() -> None:
    text = (GOOD.replace('timezone = "Europe/Rome"', 'timezone = "Europe/Atlantis"')
            .replace('rank_by = "chip"', 'rank_by = "net"')
            .replace('point = "finish"\nformat', 'point = "finnish"\nformat')
            .replace('format = "ipico"', 'format = "ipicoo"'))
    errors = errors_of(text, formats=("ipico", "ultra"))
    assert errors == [
        "event.toml:4: event.timezone: unknown time zone 'Europe/Atlantis'",
        "event.toml:15: races[0].rank_by: must be \"gun\" or \"chip\", not 'net'",
        "event.toml:44: readers[0].point: no point has id 'finnish'",
        "event.toml:45: readers[0].format: unknown reader format 'ipicoo' (known: ipico, ultra)",
    ]


def test_toml_syntax_error_has_its_line() -> None:
    errors = errors_of(GOOD.replace('laps = 1', 'laps = = 1'))
    assert errors[0].startswith("event.toml:14: not valid TOML")


def test_race_needs_one_finish_point() -> None:
    text = GOOD.replace('points = ["finish", "start"]', 'points = ["start", "half"]')
    assert errors_of(text) == [
        "event.toml:29: races[1].points: race 'kids' must use exactly one finish point and at "
        "most one start point (it has finish none, start ['start']); list its points with "
        "points = [...]"]


def test_duplicate_ids_and_missing_sections() -> None:
    text = GOOD.replace('id = "kids"', 'id = "mile"')
    assert "event.toml:27: races[1].id: id 'mile' is used twice" in errors_of(text)
    assert errors_of('[event]\nname = "x"\ndate = "2026-05-10"\ntimezone = "UTC"\n') == [
        "event.toml: points: an event needs at least a finish point ([[points]])",
        "event.toml: races: an event needs at least one race ([[races]])"]


PARTICIPANTS = """\
bib,first_name,last_name,gender,birth_date,race,wave,chips,club,shirt
1,Ada,Rossi,F,1990-05-10,mile,elite,AA01 aa02,Retro Club,M
2,Bea,Bianchi,f,,mile,,BB01,,S
2,Dup,Licate,F,,mile,,ZZ01,,S
3,Cora,Neri,Q,1990-01-01,mile,,CC01,,S
4,Dino,Verdi,M,10/05/1990,mile,bogus,aa01 DD01,,L

5,Ezio,Gialli,M,1950-01-01,marathon,,EE01,,L
6,Fede,Blu,X,2000-01-01,kids,,FF01,,L,extra
"""


def test_participants_good_rows_and_every_bad_row_located() -> None:
    event = parse_event_toml(GOOD)
    athletes, problems = parse_participants(PARTICIPANTS, event)
    assert [a.bib for a in athletes] == ["1", "2", "4"]
    ada, bea, dino = athletes
    assert (ada.category, ada.wave, ada.chips, ada.club) == ("F30-39", "elite",
                                                            ("AA01", "aa02"), "Retro Club")
    assert ada.extra == (("shirt", "M"),)
    assert (bea.gender, bea.category, bea.birth_date) == ("F", "", None)
    assert (dino.wave, dino.chips, dino.birth_date) == (None, ("DD01",), None)
    assert [str(p) for p in problems] == [
        "participants.csv:4: row skipped: bib 2 appears twice",
        "participants.csv:5: bib 3 skipped: gender must be F, M or X, not 'Q'",
        "participants.csv:6: bib 4: birth_date '10/05/1990' is not YYYY-MM-DD; kept without it "
        "(no age category)",
        "participants.csv:6: bib 4: race mile has no wave 'bogus'; the race's gun applies",
        "participants.csv:6: bib 4: chip aa01 already belongs to bib 1; not assigned",
        "participants.csv:8: bib 5 skipped: no race has id 'marathon' (races: mile, kids)",
        "participants.csv:9: row skipped: 11 fields for 10 columns",
    ]


def test_category_column_overrides_the_computed_one() -> None:
    event = parse_event_toml(GOOD)
    text = "bib,first_name,last_name,gender,birth_date,race,category\n" \
           "1,A,B,F,1990-01-01,mile,Elite\n2,C,D,M,1990-01-01,mile,\n"
    athletes, problems = parse_participants(text, event)
    assert [a.category for a in athletes] == ["Elite", "M30-39"]
    assert problems == []


def test_participants_header_must_have_required_columns() -> None:
    event = parse_event_toml(GOOD)
    with pytest.raises(CsvHeaderError, match=r"participants\.csv:1: header lacks column"):
        parse_participants("bib,name,gender,race\n1,A,F,mile\n", event)


def test_adjustments_apply_and_bad_rows_are_located() -> None:
    text = ("bib,kind,value,reason\n1,status,dq,ran forwards\n2,penalty,30,cut\n"
            "9,status,DQ,x\n1,penalty,-5,y\n1,status,WIN,z\n1,bonus,3,q\n2,penalty,1.5,\n")
    adjustments, problems = parse_adjustments(text, {"1", "2"})
    assert [(a.bib, a.kind, a.status, a.penalty_ms, a.reason) for a in adjustments] == [
        ("1", "status", "DQ", 0, "ran forwards"), ("2", "penalty", None, 30_000, "cut"),
        ("2", "penalty", None, 1500, "")]
    assert [str(p) for p in problems] == [
        "adjustments.csv:4: adjustment skipped: no participant has bib '9'",
        "adjustments.csv:5: adjustment for bib 1 skipped: a penalty is a number of seconds from 0"
        " to under 86400, not '-5'",
        "adjustments.csv:6: adjustment for bib 1 skipped: status must be DQ, DNF or DNS, "
        "not 'WIN'",
        "adjustments.csv:7: adjustment for bib 1 skipped: kind must be status or penalty, "
        "not 'bonus'",
        "adjustments.csv:8: adjustment for bib 2 has no reason (applied; please give one)",
    ]


def test_load_event_reads_the_directory(tmp_path: Path) -> None:
    (tmp_path / "event.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "participants.csv").write_text("\ufeff" + PARTICIPANTS, encoding="utf-8")
    (tmp_path / "adjustments.csv").write_text("bib,kind,value,reason\n1,penalty,10,late\n",
                                              encoding="utf-8")
    files = load_event(tmp_path / "event.toml")
    assert len(files.athletes) == 3
    assert files.adjustments[0].penalty_ms == 10_000
    assert files.problems[0].file.endswith("participants.csv")


def test_load_event_missing_participants_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "event.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(EventFileError, match=r"participants\.csv: cannot read"):
        load_event(tmp_path / "event.toml")


# -- Limits (docs/scoring.md, "Limits"): every value out of range is a located problem --------

def only_error(text: str) -> str:
    """The one problem `text` has (anything else, an exception above all, fails the test)."""
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]


def with_key(after: str, line: str) -> str:
    """GOOD with `line` added right after its line `after` (which must be there once)."""
    assert GOOD.count(after + "\n") == 1
    return GOOD.replace(after + "\n", f"{after}\n{line}\n")


OFFSET = "clock_offset_s = -1.5"


@pytest.mark.parametrize(("text", "expected"), [
    # [event] window_days: a whole number of days, 0 to 366
    (with_key('timezone = "Europe/Rome"', "window_days = 367"),
     "event.toml:5: event.window_days: must be a whole number from 0 to 366, not 367"),
    (with_key('timezone = "Europe/Rome"', "window_days = -1"),
     "event.toml:5: event.window_days: must be a whole number from 0 to 366, not -1"),
    (with_key('timezone = "Europe/Rome"', 'window_days = "7"'),
     "event.toml:5: event.window_days: must be a whole number from 0 to 366, not '7'"),
    (with_key('timezone = "Europe/Rome"', "window_days = 1.5"),
     "event.toml:5: event.window_days: must be a whole number from 0 to 366, not 1.5"),
    # guns given with a date: within the event's days
    (GOOD.replace("gun = 2026-05-10T10:00:00", "gun = 2026-06-10T10:00:00"),
     "event.toml:28: races[1].gun: 2026-06-10T10:00:00 is not within the event's days "
     "(2026-05-03 to 2026-05-17): for an event of several days, widen [event] window_days"),
    (GOOD.replace('gun = "08:55:00.5"', 'gun = "2027-05-10T08:55:00"'),
     "event.toml:21: races[0].waves[0].gun: 2027-05-10T08:55:00 is not within the event's days "
     "(2026-05-03 to 2026-05-17): for an event of several days, widen [event] window_days"),
    (GOOD.replace("gun = 2026-05-10T10:00:00", "gun = 0001-01-01T00:00:00+23:59"),
     "event.toml:28: races[1].gun: 0001-01-01T00:00:00+23:59 is not within the event's days "
     "(2026-05-03 to 2026-05-17): for an event of several days, widen [event] window_days"),
    (GOOD.replace("gun = 2026-05-10T10:00:00", 'gun = "9999-12-31T23:59:59"'),
     "event.toml:28: races[1].gun: 9999-12-31T23:59:59 is not within the event's days "
     "(2026-05-03 to 2026-05-17): for an event of several days, widen [event] window_days"),
    # clock_offset_s: finite, within a day either way
    (GOOD.replace(OFFSET, "clock_offset_s = 1e16"),
     "event.toml:47: readers[0].clock_offset_s: must be a number from -86400 to 86400, "
     "not 1e+16"),
    (GOOD.replace(OFFSET, "clock_offset_s = -86400.001"),
     "event.toml:47: readers[0].clock_offset_s: must be a number from -86400 to 86400, "
     "not -86400.001"),
    (GOOD.replace(OFFSET, "clock_offset_s = nan"),
     "event.toml:47: readers[0].clock_offset_s: must be a number from -86400 to 86400, not nan"),
    (GOOD.replace(OFFSET, "clock_offset_s = -inf"),
     "event.toml:47: readers[0].clock_offset_s: must be a number from -86400 to 86400, "
     "not -inf"),
    (GOOD.replace(OFFSET, f"clock_offset_s = {10 ** 30}"),
     "event.toml:47: readers[0].clock_offset_s: must be a number from -86400 to 86400, "
     f"not {10 ** 30}"),
    # laps, distances, min_lap_s
    (GOOD.replace("laps = 1", f"laps = {10 ** 30}"),
     f"event.toml:14: races[0].laps: must be a whole number from 1 to 1000, not {10 ** 30}"),
    (GOOD.replace("laps = 1", "laps = 1001"),
     "event.toml:14: races[0].laps: must be a whole number from 1 to 1000, not 1001"),
    (GOOD.replace("laps = 1", "laps = 0"),
     "event.toml:14: races[0].laps: must be a whole number from 1 to 1000, not 0"),
    (GOOD.replace("distance_m = 1609.344", "distance_m = 1e7"),
     "event.toml:12: races[0].distance_m: must be a number from 0 to 1e+06, not 10000000.0"),
    (GOOD.replace("distance_m = 804.672", "distance_m = -1"),
     "event.toml:37: points[1].distance_m: must be a number from 0 to 1e+06, not -1"),
    (GOOD.replace("distance_m = 804.672", "distance_m = inf"),
     "event.toml:37: points[1].distance_m: must be a number from 0 to 1e+06, not inf"),
    (GOOD.replace("min_lap_s = 30", "min_lap_s = 86401"),
     "event.toml:16: races[0].min_lap_s: must be a number from 0 to 86400, not 86401"),
    # a course record: a positive time under a day
    (with_key('precision = "0.1"', "record = inf"),
     "event.toml:18: races[0].record: must be a time under a day like \"6:40\" or "
     "\"1:02:03.4\" (or seconds), not inf"),
    (with_key('precision = "0.1"', "record = 86400"),
     "event.toml:18: races[0].record: must be a time under a day like \"6:40\" or "
     "\"1:02:03.4\" (or seconds), not 86400"),
    (with_key('precision = "0.1"', 'record = "24:00:00"'),
     "event.toml:18: races[0].record: must be a time under a day like \"6:40\" or "
     "\"1:02:03.4\" (or seconds), not '24:00:00'"),
    (with_key('precision = "0.1"', 'record = "0:00"'),
     "event.toml:18: races[0].record: must be a time under a day like \"6:40\" or "
     "\"1:02:03.4\" (or seconds), not '0:00'"),
    (with_key('precision = "0.1"', f'record = "{"9" * 4000}:00:00"'),
     "event.toml:18: races[0].record: must be a time under a day like \"6:40\" or "
     f"\"1:02:03.4\" (or seconds), not '{'9' * 27}...{'9' * 22}:00:00' (4006 characters)"),
    # age bounds, baud
    (GOOD.replace("age_bounds = [0, 20, 30, 40]", "age_bounds = [0, 20, 30, 151]"),
     "event.toml:7: categories.age_bounds: must be a list of whole ages from 0 to 150, "
     "not [0, 20, 30, 151]"),
    (with_key(OFFSET, "baud = 0"),
     "event.toml:48: readers[0].baud: must be a whole number from 1 to 4000000, not 0"),
    (with_key(OFFSET, f"baud = {2 ** 63}"),
     f"event.toml:48: readers[0].baud: must be a whole number from 1 to 4000000, not {2 ** 63}"),
    # ids: 1 to 64 printable characters
    (GOOD.replace('id = "kids"', f'id = "{"k" * 65}"'),
     f"event.toml:27: races[1].id: must be at most 64 characters, not 65: "
     f"'{'k' * 27}...{'k' * 28}' (65 characters)"),
    (GOOD.replace('id = "elite"', 'id = "eli\\u0000te"'),
     "event.toml:20: races[0].waves[0].id: may hold printable characters only, not U+0000: "
     "'eli\\x00te'"),
    (GOOD.replace('id = "half"', 'id = "ha\\u202elf"'),
     "event.toml:35: points[1].id: may hold printable characters only, not U+202E "
     "(RIGHT-TO-LEFT OVERRIDE): 'ha\\u202elf'"),
    (GOOD.replace('id = "finish-main"', 'id = "finish\tmain"'),
     "event.toml:43: readers[0].id: may hold printable characters only, not U+0009: "
     "'finish\\tmain'"),
    # names: free text of 1 to 200 characters, no control characters
    (GOOD.replace('name = "Backwards Mile"', f'name = "{"x" * 201}"'),
     f"event.toml:11: races[0].name: must be at most 200 characters, not 201: "
     f"'{'x' * 27}...{'x' * 28}' (201 characters)"),
    (GOOD.replace('name = "Backwards Mile 2026"', 'name = "Backwards\\nMile"'),
     "event.toml:2: event.name: holds the control character U+000A: 'Backwards\\nMile'"),
    (GOOD.replace('name = "Backwards Mile"', 'name = ""'),
     "event.toml:11: races[0].name: must be a non-empty string, not ''"),
    # the zone, the event date, reader locations and formats
    (GOOD.replace('timezone = "Europe/Rome"', f'timezone = "Europe/{"x" * 60}"'),
     f"event.toml:4: event.timezone: must be at most 64 characters, not 67: "
     f"'Europe/{'x' * 20}...{'x' * 28}' (67 characters)"),
    (GOOD.replace('date = "2026-05-10"', 'date = 0001-01-01'),
     "event.toml:3: event.date: must be from 1900-01-01 to 2999-12-31, not 0001-01-01"),
    (GOOD.replace('date = "2026-05-10"', 'date = "2026-02-30"'),
     "event.toml:3: event.date: must be a date YYYY-MM-DD, not '2026-02-30'"),
    (GOOD.replace('path = "reads/finish-main.txt"', f'path = "{"r/" * 501}"'),
     f"event.toml:46: readers[0].path: must be at most 1000 characters, not 1002: "
     f"'{'r/' * 13}r...{'r/' * 14}' (1002 characters)"),
    (GOOD.replace('path = "reads/finish-main.txt"', 'host = "10.0.0.1\\r\\n"'),
     "event.toml:46: readers[0].host: may hold printable characters only, not U+000D: "
     "'10.0.0.1\\r\\n'"),
    (GOOD.replace('format = "ipico"', f'format = "{"i" * 33}"'),
     f"event.toml:45: readers[0].format: must be at most 32 characters, not 33: "
     f"'{'i' * 33}'"),
    # wrong types where a table or a list belongs are mistakes too, not exceptions
    (GOOD.replace('[[races.waves]]\n  id = "elite"\n  gun = "08:55:00.5"\n\n'
                  '  [[races.waves]]\n  id = "open"\n', "waves = 5\n"),
     "event.toml:19: races[0].waves: must be an array of tables ([[races.waves]])"),
    (GOOD.replace('precision = "0.1"', "precision = [0.1]"),
     "event.toml:17: races[0].precision: must be \"s\", \"0.1\" or \"0.01\", not [0.1]"),
])
def test_a_value_out_of_range_is_a_located_problem(text: str, expected: str) -> None:
    assert only_error(text) == expected


def test_window_days_widens_the_window_on_purpose() -> None:
    event = parse_event_toml(GOOD)
    assert event.window_days == 7
    text = (with_key('timezone = "Europe/Rome"', "window_days = 31")
            .replace("gun = 2026-05-10T10:00:00", "gun = 2026-06-10T10:00:00"))
    event = parse_event_toml(text)
    assert event.window_days == 31
    assert event.races[1].gun_ms == at("10:00:00") + 31 * 86_400_000
    # The window's first and last day are in; a time of day is always on the event date.
    for gun in ("2026-05-03T00:00:00", "2026-05-17T23:59:59.999", "2026-05-10T10:00:00+02:00"):
        parse_event_toml(GOOD.replace("gun = 2026-05-10T10:00:00", f'gun = "{gun}"'))
    event = parse_event_toml(with_key('timezone = "Europe/Rome"', "window_days = 0"))
    assert event.races[0].gun_ms == at("09:00:00")


def test_limits_themselves_are_allowed() -> None:
    text = (GOOD.replace(OFFSET, "clock_offset_s = -86400\nbaud = 4000000")
            .replace("laps = 1", "laps = 1000").replace("min_lap_s = 30", "min_lap_s = 86400")
            .replace("distance_m = 1609.344", "distance_m = 1000000")
            .replace('id = "kids"', f'id = "{"k" * 64}"')
            .replace('name = "Backwards Mile"', f'name = "{"x" * 200}"')
            .replace("age_bounds = [0, 20, 30, 40]", "age_bounds = [0, 150]")
            .replace('precision = "0.1"', 'precision = "0.1"\nrecord = "23:59:59.999"'))
    event = parse_event_toml(text)
    mile, kids = event.races
    assert (mile.laps, mile.min_lap_ms, mile.distance_m, mile.record_ms) == (
        1000, 86_400_000, 1_000_000.0, 86_399_999)
    assert (kids.id, len(mile.name)) == ("k" * 64, 200)
    assert (event.readers[0].clock_offset_ms, event.readers[0].baud) == (-86_400_000, 4_000_000)


EVENT_NAME = "Corsa di Sant’Antonio – Ó Súilleabháin Memorial"  # noqa: RUF001 (real text)
HEBREW = "מרוץ הילדים"


def test_real_names_pass_and_bidi_controls_are_closed() -> None:
    text = (GOOD.replace('name = "Backwards Mile 2026"', f'name = "{EVENT_NAME}"')
            .replace('name = "Backwards Mile"', 'name = "ميل إلى الوراء"')
            .replace('id = "kids"\n', f'id = "kids"\nname = "\\u202b{HEBREW}\\u202c"\n'))
    event = parse_event_toml(text)
    assert event.name == EVENT_NAME
    assert [race.name for race in event.races] == ["ميل إلى الوراء", f"\u202b{HEBREW}\u202c"]
    # An override left open would reverse the page's own text after the name: it is closed.
    event = parse_event_toml(GOOD.replace('name = "Backwards Mile 2026"',
                                          'name = "Mile \\u202e6202"'))
    assert event.name == "Mile \u202e6202\u202c"


def test_hostile_files_are_refused_with_a_problem_not_an_exception() -> None:
    deep = GOOD + "nested = " + "[" * 5000 + "]" * 5000 + "\n"
    assert only_error(deep) == "event.toml:48: line longer than 4096 characters (10009)"
    deep = GOOD + "nested = [\n" + "[\n" * 2000 + "]\n" * 2000 + "]\n"
    assert only_error(deep) == ("event.toml: not valid TOML: arrays or tables nested too "
                                "deeply")
    assert only_error(GOOD + "# " + "x" * 1_000_000 + "\n") == (
        f"event.toml: longer than 1000000 characters ({len(GOOD) + 1_000_003}): "
        "not an event.toml")
    # A dotted key nests a value thousands of tables deep: quoted short, not recursed into
    # (`TomlIndex` knows no dotted keys: the line is its table's).
    dotted = GOOD.replace('name = "Backwards Mile 2026"', "name." + "a." * 1500 + "b = 1")
    assert only_error(dotted) == ("event.toml:1: event.name: must be a non-empty string, "
                                  "not {'a': {'a': {'a': {...}}}}")
