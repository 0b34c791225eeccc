"""Voids and reassigns of reads (timing.corrections): live and rebuilt alike, never twice."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from timing.checks import check_action
from timing.entries import (
    ActionEntry,
    ActionError,
    Entry,
    Journaled,
    ReadEntry,
    apply,
    apply_all,
    reassign,
    void,
)
from timing.reads import Read
from timing.results import results_csv
from timing.standings import Standings

from .factory import athlete, event


def moment(clock_time: str) -> datetime:
    return datetime.fromisoformat(f"2026-05-10T{clock_time}")


def typed(bib: str, clock_time: str) -> ReadEntry:
    """A bib typed at the desk (hand timing), as POST /api/manual journals it."""
    return ReadEntry("finish-manual", Read("", moment(clock_time), bib=bib), 0, "desk")


def chip_read(chip: str, clock_time: str) -> ReadEntry:
    return ReadEntry("finish-main", Read(chip, moment(clock_time)), 0)


def live_and_rebuilt(entries: list[Entry]) -> tuple[Standings, Standings]:
    athletes = [athlete("12", "c12"), athlete("21", "c21"), athlete("7", "c7")]
    items = [Journaled(seq, entry) for seq, entry in enumerate(entries, start=1)]
    live = Standings(event(), athletes)
    for item in items:
        if isinstance(item.entry, ActionEntry):
            check_action(live, item.entry)
        apply(live, item)
    rebuilt = Standings(event(), athletes)
    assert apply_all(rebuilt, items) == []
    assert results_csv(live.event, live.results()) == results_csv(rebuilt.event,
                                                                  rebuilt.results())
    assert live.voided == rebuilt.voided
    return live, rebuilt


def test_a_double_entered_finish_voided_gives_the_later_time_back() -> None:
    first = typed("12", "09:06:00")
    live, _ = live_and_rebuilt([
        first, typed("12", "09:06:30"), chip_read("c21", "09:07:00"),
        void(first.reader_id, first.read, seq=1, actor="desk", reason="typed twice")])
    assert live.result("12").gun_ms == 390_000
    assert live.voided == {1: 4}


def test_a_voided_chip_read_no_longer_counts_and_places_move() -> None:
    stray = chip_read("c12", "09:05:00")
    live, _ = live_and_rebuilt([
        stray, chip_read("c21", "09:05:30"), chip_read("c12", "09:06:10"),
        void(stray.reader_id, stray.read, seq=1, reason="walked over the mat")])
    assert [(row.bib, row.place) for row in live.results()][:2] == [("21", 1), ("12", 2)]


def test_an_unknown_bib_given_to_the_right_bib_counts_at_the_same_time() -> None:
    typo = typed("211", "09:06:40")
    live, _ = live_and_rebuilt([
        typo, reassign(typo.reader_id, typo.read, "21", seq=1, reason="211 was 21")])
    assert live.unknown_bibs() == {}
    assert live.result("21").gun_ms == 400_000
    assert live.voided == {1: 2}


def test_the_read_a_reassign_gave_can_be_voided_by_the_reassigns_seq() -> None:
    typo = typed("211", "09:06:40")
    given = Read("", typo.read.time, bib="21")
    live, _ = live_and_rebuilt([
        typo, reassign(typo.reader_id, typo.read, "21", seq=1),
        void(typo.reader_id, given, seq=2, reason="21 did not finish here")])
    assert live.result("21").status == "DNS"
    assert live.voided == {1: 2, 2: 3}


def test_corrections_are_refused_twice_for_reads_that_do_not_count_and_for_owned_reads() -> None:
    standings = Standings(event(), [athlete("12", "c12"), athlete("21", "c21")])
    entry = typed("12", "09:06:00")
    apply(standings, Journaled(1, entry))
    apply(standings, Journaled(2, void(entry.reader_id, entry.read, seq=1)))
    refusals = {
        "corrected already (by entry 2)": void(entry.reader_id, entry.read, seq=1),
        "no read that counts now": void("finish-manual", Read("", moment("09:10:00"), bib="12"),
                                        seq=9),
        "True is no journal sequence number": void(entry.reader_id, entry.read, seq=True),
    }
    for message, action in refusals.items():
        with pytest.raises(ActionError, match=re.escape(message)):
            check_action(standings, action)
    owned = typed("21", "09:07:00")
    apply(standings, Journaled(3, owned))
    with pytest.raises(ActionError, match="bib 21's read: void it"):
        check_action(standings, reassign(owned.reader_id, owned.read, "12", seq=3))
    unknown = typed("99", "09:08:00")
    apply(standings, Journaled(4, unknown))
    with pytest.raises(ActionError, match="no participant has bib '404'"):
        check_action(standings, reassign(unknown.reader_id, unknown.read, "404", seq=4))


def test_a_correction_that_no_longer_applies_is_reported_by_a_rebuild() -> None:
    entry = typed("12", "09:06:00")
    items = [Journaled(1, void(entry.reader_id, entry.read, seq=7))]
    errors = apply_all(Standings(event(), [athlete("12", "c12")]), items)
    assert errors == [(1, "void: entry 7 is no read that counts now")]


def test_a_desk_registration_the_file_has_since_applies_as_an_edit() -> None:
    """A late entry registered at the desk, then written into participants.csv too: at the
    next start the file registers the bib, and the desk's registration, replayed, edits it."""
    from timing.entries import register

    from_file = athlete("950", "c950")
    at_desk = athlete("950", "c950", last_name="Desk")
    table = Standings(event(), [athlete("12", "c12"), from_file])
    assert apply_all(table, [Journaled(1, register(at_desk))]) == []
    assert table.athlete("950").last_name == "Desk"
    with pytest.raises(ActionError, match="already registered"):
        check_action(table, register(at_desk))  # live, a second registration is refused
