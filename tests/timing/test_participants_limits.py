"""participants.csv and adjustments.csv within their limits (docs/scoring.md, "Limits"): a value
out of range is a problem at its line, never an exception; real people's names pass untouched."""

from __future__ import annotations

import pytest

from timing.eventfile import parse_event_toml
from timing.model import Athlete, Event
from timing.participants import parse_adjustments, parse_participants
from timing.text import isolate_bidi
from timing.tomlvalues import shown

EVENT = parse_event_toml("""\
[event]
name = "Limits 10K"
date = "2026-05-10"
timezone = "Europe/Rome"

[categories]
age_bounds = [0, 20, 30, 40]

[[races]]
id = "10k"
gun = "09:00:00"

[[points]]
id = "finish"
kind = "finish"
""")

HEADER = "bib,first_name,last_name,gender,birth_date,race,chips,club\n"


def parse(rows: str, header: str = HEADER, event: Event = EVENT,
          ) -> tuple[list[Athlete], list[str], set[str]]:
    skipped: set[str] = set()
    athletes, problems = parse_participants(header + rows, event, "participants.csv", skipped)
    return athletes, [str(problem) for problem in problems], skipped


def one(rows: str, header: str = HEADER) -> tuple[Athlete, list[str]]:
    athletes, problems, _ = parse(rows, header)
    assert len(athletes) == 1, problems
    return athletes[0], problems


# -- bibs ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bib", "expected"), [
    ("1" * 33, "participants.csv:2: row skipped: the bib is longer than 32 characters (33)"),
    ("1" * 5000, "participants.csv:2: row skipped: the bib is longer than 32 characters (5000)"),
    ("1\x002", "participants.csv:2: row skipped: the bib holds the character U+0000, which a "
               "bib may not: '1\\x002'"),
    ("\u202e12", "participants.csv:2: row skipped: the bib holds the character U+202E "
                 "(RIGHT-TO-LEFT OVERRIDE), which a bib may not: '\\u202e12'"),
    ("1\u200b2", "participants.csv:2: row skipped: the bib holds the character U+200B "
                 "(ZERO WIDTH SPACE), which a bib may not: '1\\u200b2'"),
])
def test_a_bib_out_of_range_skips_its_row(bib: str, expected: str) -> None:
    athletes, problems, skipped = parse(f"{bib},Ada,Rossi,F,,10k,AA01,\n2,Bea,Bianchi,F,,10k,,\n")
    assert [athlete.bib for athlete in athletes] == ["2"]
    assert problems == [expected]
    assert skipped == set()  # not a bib: it cannot name anyone to keep


def test_long_and_five_digit_bibs_pass() -> None:
    athletes, problems, _ = parse(f"12345,Ada,Rossi,F,,10k,,\n{'9' * 32},Bea,Bianchi,F,,10k,,\n"
                                  "A-12 b,Cy,Verdi,X,,10k,,\n")
    assert [athlete.bib for athlete in athletes] == ["12345", "9" * 32, "A-12 b"]
    assert problems == []


def test_a_row_with_too_many_fields_keeps_only_a_valid_bib() -> None:
    rows = f"7,Ada,Rossi,F,,10k,,,extra\n{'8' * 40},Bea,Bianchi,F,,10k,,,extra\n"
    athletes, problems, skipped = parse(rows)
    assert athletes == []
    assert problems == ["participants.csv:2: row skipped: 9 fields for 8 columns",
                        "participants.csv:3: row skipped: 9 fields for 8 columns"]
    assert skipped == {"7"}


# -- names and clubs -------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "row", "length"), [
    ("first_name", f"7,{'A' * 5000},Rossi,F,,10k,,\n", 5000),
    ("last_name", f"7,Ada,{'R' * 201},F,,10k,,\n", 201),
    ("club", f"7,Ada,Rossi,F,,10k,,{'C' * 201}\n", 201),
    # closing an override that was left open would take it past the column's length
    ("last_name", f"7,Ada,\u202e{'R' * 199},F,,10k,,\n", 201),
])
def test_a_name_longer_than_its_column_skips_the_row(column: str, row: str, length: int) -> None:
    athletes, problems, skipped = parse(row)
    assert athletes == []
    assert problems == [f"participants.csv:2: bib 7 skipped: {column} is longer than 200 "
                        f"characters ({length})"]
    assert skipped == {"7"}  # a typo in the row is not a withdrawal


def test_control_characters_in_names_become_spaces_and_are_reported() -> None:
    rows = ('7,"An\x00na","Maria\nRossi",F,,10k,,"Club\tA"\n'
            "8,Bea,Bianchi,F,,10k,,\n")
    athletes, problems, _ = parse(rows)
    anna, bea = athletes
    assert (anna.first_name, anna.last_name, anna.club) == ("An na", "Maria Rossi", "Club A")
    assert bea.bib == "8"
    assert problems == [
        "participants.csv:2: bib 7: first_name held the control character U+0000; replaced by "
        "a space",
        "participants.csv:2: bib 7: last_name held the control character U+000A; replaced by "
        "a space",
        "participants.csv:2: bib 7: club held the control character U+0009; replaced by a space",
    ]


def test_an_unterminated_override_is_closed_where_the_name_ends() -> None:
    # U+202E left open would reverse the page's own text after the name.
    athlete, problems = one("7,Ada,\u202eissoR,F,,10k,,\u2067Club\n")
    assert athlete.last_name == "\u202eissoR\u202c"
    assert athlete.club == "\u2067Club\u2069"
    assert problems == []


REAL_PEOPLE = [
    ("Ó Súilleabháin", "Aoife"), ("Schäfer", "Jürgen"), ("D’Angelo", "Maria"),  # noqa: RUF001
    ("محمد", "فاطمة"), ("כהן", "\u202bשרה\u202c"), ("\u2067عبد الله\u2069", "Omar"),
    ("Wolfeschlegelsteinhausenbergerdorffwelch", "Hubert"), ("Nguyễn", "Thị Minh Khai"),
    ("O'Brien-Łukasiewicz", "Zoë"),
]


def test_real_peoples_names_pass_untouched() -> None:
    rows = "".join(f'{bib},"{first}","{last}",F,1980-02-29,10k,C{bib},Club Ål\n'
                   for bib, (last, first) in enumerate(REAL_PEOPLE, start=10001))
    athletes, problems, _ = parse(rows)
    assert problems == []
    assert [(a.last_name, a.first_name) for a in athletes] == REAL_PEOPLE
    assert len(REAL_PEOPLE[6][0]) == 40
    assert all(a.bib.isdigit() and len(a.bib) == 5 for a in athletes)
    assert all(isolate_bidi(a.first_name) == a.first_name for a in athletes)


# -- category, chips, birth dates, extra columns ---------------------------------------------

def test_a_category_longer_than_its_column_gives_way_to_the_computed_one() -> None:
    header = HEADER.replace("club", "club,category")
    athlete, problems = one(f"7,Ada,Rossi,F,1990-01-01,10k,,,{'E' * 65}\n", header)
    assert athlete.category == "F30-39"
    assert problems == ["participants.csv:2: bib 7: category is longer than 64 characters (65);"
                        " the computed category applies"]
    athlete, problems = one("7,Ada,Rossi,F,1990-01-01,10k,,,\"Elite\nA\"\n", header)
    assert athlete.category == "Elite A"
    assert problems == ["participants.csv:2: bib 7: category held the control character U+000A;"
                        " replaced by a space"]


def test_a_chip_out_of_range_is_not_assigned() -> None:
    chips = f"{'c' * 65} OK01 a\x00b z\u200bz {'d' * 64}"
    athlete, problems = one(f'7,Ada,Rossi,F,,10k,"{chips}",\n')
    assert athlete.chips == ("OK01", "d" * 64)
    assert problems == [
        "participants.csv:2: bib 7: chip is longer than 64 characters (65); not assigned",
        "participants.csv:2: bib 7: chip 'a\\x00b' holds the character U+0000, which a chip "
        "may not; not assigned",
        "participants.csv:2: bib 7: chip 'z\\u200bz' holds the character U+200B "
        "(ZERO WIDTH SPACE), which a chip may not; not assigned",
    ]


@pytest.mark.parametrize(("written", "why"), [
    ("1899-12-31", "is not between 1900-01-01 and the event date 2026-05-10"),
    ("2026-05-11", "is not between 1900-01-01 and the event date 2026-05-10"),
    ("9999-12-31", "is not between 1900-01-01 and the event date 2026-05-10"),
    ("2026-02-30", "is no real date"),
    ("19900510", "is not YYYY-MM-DD"),
    ("1" * 5000, "is not YYYY-MM-DD"),
])
def test_a_birth_date_out_of_range_is_dropped(written: str, why: str) -> None:
    athlete, problems = one(f"7,Ada,Rossi,F,{written},10k,,\n")
    assert (athlete.birth_date, athlete.category) == (None, "")
    assert problems == [f"participants.csv:2: bib 7: birth_date {shown(written)} {why}; kept "
                        "without it (no age category)"]


def test_birth_dates_at_the_limits_are_kept() -> None:
    athletes, problems, _ = parse("7,Ada,Rossi,F,1900-01-01,10k,,\n8,Bo,Blu,M,2026-05-10,10k,,\n")
    assert [str(athlete.birth_date) for athlete in athletes] == ["1900-01-01", "2026-05-10"]
    assert problems == []


def test_extra_columns_are_kept_within_bounds() -> None:
    long_name = "n" * 65
    header = HEADER.replace("club", f"club,shirt,{long_name},note")
    athlete, problems = one(f"7,Ada,Rossi,F,,10k,,,M,dropped,\"{'x' * 1500}\x00\"\n", header)
    assert athlete.extra == (("shirt", "M"), ("note", "x" * 1000))
    assert problems == [
        f"participants.csv:1: column {shown(long_name)}: a column name may hold at most 64 "
        "printable characters; its values are not kept",
        "participants.csv:2: bib 7: note held the control character U+0000; replaced by a space",
        "participants.csv:2: bib 7: note is longer than 1000 characters (1500); cut to 1000",
    ]


def test_no_more_than_fifty_extra_columns_are_kept() -> None:
    extra = [f"x{number}" for number in range(60)]
    header = HEADER.rstrip("\n") + "," + ",".join(extra) + "\n"
    athlete, problems = one("7,Ada,Rossi,F,,10k,,\n", header)  # the rest padded, empty
    assert [key for key, _ in athlete.extra] == extra[:50]
    assert problems == ["participants.csv:1: 60 extra columns: only the first 50 are kept "
                        "(x50 to x59 are not)"]


def test_a_giant_cell_or_a_stray_carriage_return_skips_one_row_only() -> None:
    rows = (f"7,Ada,{'R' * 200_000},F,,10k,,\n"
            "8,Bea,Bianchi,F,,10k,,\n"
            "9,Cy,Ne\rri,M,,10k,,\n"
            "10,Di,Verdi,X,,10k,,\n")
    athletes, problems, _ = parse(rows)
    assert [athlete.bib for athlete in athletes] == ["8", "10"]
    assert problems == [
        "participants.csv:2: row skipped: not readable as CSV: field larger than field limit "
        "(131072)",
        "participants.csv:4: row skipped: not readable as CSV: new-line character seen in "
        "unquoted field - do you need to open the file in universal-newline mode?",
    ]


def test_a_column_named_like_an_internal_key_is_just_a_column() -> None:
    athlete, problems = one("7,Ada,Rossi,F,,10k,,,x\n", HEADER.replace("club", "club,__error__"))
    assert athlete.extra == (("__error__", "x"),)
    assert problems == []


# -- adjustments.csv -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["86400", "1e400", "inf", "nan", "-1", "1" * 5000])
def test_a_penalty_out_of_range_is_skipped(value: str) -> None:
    adjustments, problems = parse_adjustments(f"bib,kind,value,reason\n7,penalty,{value},late\n",
                                              {"7"})
    assert adjustments == []
    assert [str(problem) for problem in problems] == [
        "adjustments.csv:2: adjustment for bib 7 skipped: a penalty is a number of seconds from "
        f"0 to under 86400, not {shown(value)}"]


def test_penalties_at_the_limits_are_kept() -> None:
    adjustments, problems = parse_adjustments(
        "bib,kind,value,reason\n7,penalty,86399.999,late\n7,penalty,0,none\n", {"7"})
    assert [adjustment.penalty_ms for adjustment in adjustments] == [86_399_999, 0]
    assert problems == []


def test_a_reason_is_free_text_of_at_most_500_characters() -> None:
    text = ("bib,kind,value,reason\n"
            f"7,status,DQ,{'r' * 501}\n"
            f"7,penalty,10,{'r' * 500}\n"
            "7,penalty,10,\"false\x00start\nagain\"\n"
            "7,status,DNF,\u202eobstruction\n"
            "7,status,DQ,ran into the crowd’s way\n")  # noqa: RUF001
    adjustments, problems = parse_adjustments(text, {"7"})
    assert [adjustment.reason for adjustment in adjustments] == [
        "r" * 500, "false start again", "\u202eobstruction\u202c",
        "ran into the crowd’s way"]  # noqa: RUF001
    assert [str(problem) for problem in problems] == [
        "adjustments.csv:2: adjustment for bib 7 skipped: reason is longer than 500 characters "
        "(501)",
        "adjustments.csv:4: adjustment for bib 7: reason held the control character U+0000; "
        "replaced by a space",
    ]


def test_an_unknown_bib_is_quoted_short() -> None:
    _, problems = parse_adjustments(f"bib,kind,value,reason\n{'9' * 5000},status,DQ,x\n", {"7"})
    assert [str(problem) for problem in problems] == [
        f"adjustments.csv:2: adjustment skipped: no participant has bib '{'9' * 27}...{'9' * 28}'"
        " (5000 characters)"]
    assert shown("9" * 5000) == f"'{'9' * 27}...{'9' * 28}' (5000 characters)"
