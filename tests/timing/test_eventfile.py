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
    assert errors_of(text) == ['event.toml:18: races[0].record: must be a time like "6:40" or '
                               '"1:02:03.4" (or seconds), not \'6:4\'']


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
        "adjustments.csv:5: adjustment for bib 1 skipped: a penalty is a number of seconds >= 0,"
        " not '-5'",
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
