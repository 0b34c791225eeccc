"""The pure checks every edge uses: the event's days, clock offsets, text (identifiers and
free text, bidi controls closed), and how many rejected lines a reader has journaled."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from timing.limits import (
    EARLIEST_MS,
    LATEST_MS,
    WINDOW_DAYS,
    TimeWindow,
    clock_offset_problem,
    shown_instant,
)
from timing.model import Event
from timing.reads import Read, Rejected, undated_time
from timing.reject_limit import PER_READER_PER_S, SAME_REASON_PER_S, RejectLimit
from timing.text import clean_free_text, control_character, isolate_bidi, text_problem

WINDOW = TimeWindow.around(date(2026, 5, 10), "Europe/Rome")


def test_the_window_is_the_event_days_either_side_in_the_event_zone() -> None:
    assert str(WINDOW) == "2026-05-03 to 2026-05-17"
    first = int(datetime(2026, 5, 2, 22, 0, tzinfo=UTC).timestamp() * 1000)  # 00:00 in Rome
    assert WINDOW.first_ms == first and not WINDOW.contains_ms(first - 1)
    assert WINDOW.contains_ms(WINDOW.end_ms - 1) and not WINDOW.contains_ms(WINDOW.end_ms)
    assert Event("e", date(2026, 5, 10), "UTC", (), ()).window_days == WINDOW_DAYS


def test_reads_of_every_clock_kind_are_checked_against_the_window() -> None:
    inside = [Read("c", datetime(2026, 5, 3, 0, 0)), Read("c", datetime(2026, 5, 17, 23, 59)),
              Read("c", datetime(2026, 5, 10, 7, tzinfo=UTC)),
              Read("c", undated_time(7, timedelta(hours=9)), dated=False)]
    outside = [Read("c", datetime(2026, 5, 2, 23, 59)), Read("c", datetime(2026, 5, 18)),
               Read("c", datetime(2000, 1, 1)), Read("c", datetime(9999, 1, 1, tzinfo=UTC)),
               Read("c", undated_time(8, timedelta()), dated=False)]
    assert [WINDOW.refuses_read(read) for read in inside] == [None] * 4
    reasons = [WINDOW.refuses_read(read) for read in outside]
    assert all(reason and "check the reader's clock" in reason for reason in reasons)
    assert "day 8 00:00:00" in str(reasons[-1])


def test_times_in_ms_name_what_is_wrong() -> None:
    assert WINDOW.refuses_ms(1778396700000) is None
    assert "no date can show it" in str(WINDOW.refuses_ms(2**63 - 1, "body.time_ms"))
    assert "whole number" in str(WINDOW.refuses_ms(1.5e12))
    assert "whole number" in str(WINDOW.refuses_ms(True))
    assert shown_instant(EARLIEST_MS) == "0001-01-01 00:00:00 UTC"
    assert shown_instant(LATEST_MS).startswith("9999-12-31 23:59:59")


def test_clock_offsets_are_a_day_at_most() -> None:
    assert clock_offset_problem(86_400_000) is None
    assert clock_offset_problem(-86_400_000) is None
    assert "more than a day" in str(clock_offset_problem(86_400_001))
    assert "more than a day" in str(clock_offset_problem(10**19))


def test_identifiers_and_free_text() -> None:
    assert text_problem("A-12", "bib", 32, free=False) is None
    assert "longer than 32 characters (33)" in str(text_problem("9" * 33, "bib", 32))
    assert "U+0000" in str(text_problem("8\x002", "bib", 32, free=False))
    assert "U+202E" in str(text_problem("\u202e12", "bib", 32, free=False))
    for name in ("Ó Súilleabháin", "D\u2019Angelo", "\u200fمحمد\u200f", "Jean\u00a0Pierre",
                 "\u05d3\u05d5\u05d3"):
        assert control_character(name, free=True) is None, name
    assert control_character("a\nb", free=True) == "\n"
    assert clean_free_text("Anna\nMaria\t") == "Anna Maria"


@given(st.text(alphabet=st.sampled_from(["a", "\u202a", "\u202b", "\u202c", "\u202d",
                                         "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]),
               max_size=30))
def test_bidi_controls_are_always_closed_and_closing_twice_changes_nothing(text: str) -> None:
    closed = isolate_bidi(text)
    assert isolate_bidi(closed) == closed
    depth: list[str] = []
    for char in closed:
        if char in "\u202a\u202b\u202d\u202e\u2066\u2067\u2068":
            depth.append(char)
        elif char == "\u202c":
            assert depth and depth.pop() in "\u202a\u202b\u202d\u202e"
        elif char == "\u2069":
            assert any(mark in "\u2066\u2067\u2068" for mark in depth)
            while depth.pop() not in "\u2066\u2067\u2068":
                pass
    assert depth == []
    assert closed.replace("\u202c", "").replace("\u2069", "").startswith(
        text.replace("\u202c", "").replace("\u2069", ""))


def test_rejected_lines_journaled_per_reader_and_second_within_bounds() -> None:
    limit = RejectLimit()
    admitted = [limit.admit("r", Rejected(f"x{n}", "same", n), 1_000) for n in range(50)]
    assert admitted.count(True) == SAME_REASON_PER_S
    various = [limit.admit("r", Rejected("y", f"reason {n}", n), 1_500) for n in range(50)]
    assert various.count(True) == PER_READER_PER_S - SAME_REASON_PER_S
    assert limit.admit("other", Rejected("z", "same", 1), 1_500)  # another reader: its own
    assert limit.summaries(1_999) == []                         # the second is not over
    [summary] = limit.summaries(2_000)
    assert summary.lines == 50 - SAME_REASON_PER_S + 50 - (PER_READER_PER_S - SAME_REASON_PER_S)
    assert summary.raw == "y" and summary.line == 49 and summary.received_ms == 1_999
    assert limit.summaries(None) == [] and not limit.counting()
    assert limit.admit("r", Rejected("x", "same", 1), 2_000)    # a new second


def test_the_results_csv_of_gambero_score_runs_no_formula() -> None:
    """Issue 12, case 4: a name such as `=HYPERLINK(...)` was written verbatim. The CSV
    `gambero score` writes (`timing.results.results_csv`) neutralises it; numbers stay."""
    from dataclasses import replace

    from timing.results import results_csv, spreadsheet_safe

    from .factory import at, athlete, standings

    names = ['=HYPERLINK("http://x","y")', "+1+cmd|'/C calc'!A0", "@SUM(1+1)", "-2+3",
             "Rossi"]
    table = standings(*(replace(athlete(str(n + 1), f"c{n}"), last_name=name)
                        for n, name in enumerate(names)))
    table.add_point_read("finish", at("09:06:00"), chip="c0")
    text = results_csv(table.event, table.results())
    shown = {row["bib"]: row["last_name"] for row in csv.DictReader(io.StringIO(text))}
    assert shown == {str(n + 1): ("'" + name if name[0] in "=+-@" else name)
                     for n, name in enumerate(names)}
    assert shown["5"] == "Rossi"
    assert [spreadsheet_safe(value) for value in ("-5", "+3.5", "-", "6:40", "", "'=x")] == \
        ["-5", "+3.5", "'-", "6:40", "", "'=x"]
    assert spreadsheet_safe("\tTab") == "'\tTab" and spreadsheet_safe("\rCR") == "'\rCR"
