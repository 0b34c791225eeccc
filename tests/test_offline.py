"""Offline scoring of small event folders: reader clocks, offsets, undated times, bad rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gambero.offline import score_event
from readers.protocols.ipico import encode_ipico
from readers.protocols.manual import encode_manual, encode_manual_header
from readers.protocols.raceresult import encode_raceresult
from readers.protocols.ultra import encode_ultra
from timing.results import results_csv

EVENT = """\
[event]
name = "Night Relay"
date = "2026-05-10"
timezone = "Europe/Rome"

[[races]]
id = "r"
gun = "23:59:00"
min_lap_s = 30

[[points]]
id = "start"
kind = "start"
[[points]]
id = "finish"
kind = "finish"

[[readers]]
id = "mat"
point = "start"
format = "raceresult"
path = "start.txt"

[[readers]]
id = "main"
point = "finish"
format = "ipico"
path = "main.txt"

[[readers]]
id = "backup"
point = "finish"
format = "ultra"
path = "backup.txt"
clock_offset_s = -2.5

[[readers]]
id = "hand"
point = "finish"
format = "manual"
path = "hand.csv"
"""
PARTICIPANTS = """\
bib,first_name,last_name,gender,birth_date,race,wave,chips,club
1,Ada,Rossi,F,,r,,aaaaaaaaaaa1,
2,Ben,Neri,M,,r,,aaaaaaaaaaa2 BACKUP2,
3,Cy,Blu,X,,r,,aaaaaaaaaaa3,
4,Di,Oro,F,,r,,aaaaaaaaaaa4,
"""


def night(clock_time: str, day: int = 10) -> datetime:
    return datetime.fromisoformat(f"2026-05-{day:02d}T{clock_time}")


def write_event(folder: Path) -> None:
    (folder / "event.toml").write_text(EVENT, encoding="utf-8")
    (folder / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    # The start decoder has no date: 23:59:10 on day 0, 00:00:20 on day 1 (after midnight).
    (folder / "start.txt").write_bytes(
        encode_raceresult(1, "aaaaaaaaaaa1", night("23:59:10"), dated=False)
        + encode_raceresult(2, "aaaaaaaaaaa2", night("00:00:20"), dated=False, day_offset=1))
    (folder / "main.txt").write_bytes(
        encode_ipico("aaaaaaaaaaa1", night("00:05:00.50", 11))
        + encode_ipico("aaaaaaaaaaa1", night("00:05:10", 11))      # duplicate (min lap 30 s)
        + b"aa01aaaaaaaaaaa1000126051100051000ff\r\n")             # corrupt: bad LRC
    # The backup box runs 2.5 s fast; it alone saw athlete 2 (by the shoe chip BACKUP2).
    (folder / "backup.txt").write_bytes(
        encode_ultra("BACKUP2", night("00:06:02.5", 11), log_id=1)
        + encode_ultra("ghost", night("00:06:30", 11), log_id=2))
    (folder / "hand.csv").write_bytes(
        encode_manual_header() + encode_manual("3", "00:07:00")     # no date: event day
        + encode_manual("3", "2026-05-11 00:07:01")                  # full local date-time
        + encode_manual("99", "2026-05-11 00:08:00"))


def test_reader_clocks_offsets_and_undated_times(tmp_path: Path) -> None:
    write_event(tmp_path)
    report = score_event(tmp_path / "event.toml")
    table = report.standings
    first = table.result("1")
    assert (first.status, first.gun_ms, first.chip_ms) == ("FIN", 360_500, 350_500)
    second = table.result("2")  # start read on decoder day 1, finish from the backup line
    assert (second.status, second.gun_ms, second.chip_ms) == ("FIN", 420_000, 340_000)
    # A manual "00:07:00" lands on the event date (10 May), before the 23:59 gun: ignored;
    # the dated entry on 11 May counts.
    assert table.result("3").gun_ms == 481_000
    assert table.result("4").status == "DNS"
    assert [r.place for r in table.results()] == [1, 2, 3, None]
    assert report.rejected == 1
    assert report.unknown_chips == 1
    messages = [str(p) for p in report.problems]
    assert any(m.endswith("main.txt:3: rejected: bad LRC ff (computed 33): "
                          "aa01aaaaaaaaaaa1000126051100051000ff") for m in messages), messages
    assert any("backup.txt:2: unknown chip ghost (1 reads" in m for m in messages)
    assert any("hand.csv:4: no participant has bib 99 (1 reads" in m for m in messages)
    csv_text = results_csv(report.files.event, table.results())
    assert csv_text.splitlines()[1] == "r,1,1,Ada,Rossi,F,1,,,FIN,6:01,5:51,1,,"  # club, penalty
    assert report.summary() == ("4 athletes, 3 finishers: 9 reads, 5 passings, 1 unknown chips "
                                "(1 reads), 1 rejected lines, 3 problems reported")


def test_the_same_reads_score_the_same_in_any_file_order(tmp_path: Path) -> None:
    write_event(tmp_path)
    first = score_event(tmp_path / "event.toml")
    before = results_csv(first.files.event, first.standings.results())
    toml = (tmp_path / "event.toml").read_text(encoding="utf-8")
    head, *readers = toml.split("[[readers]]")
    reordered = head + "".join(f"[[readers]]\n{block.strip()}\n\n" for block in reversed(readers))
    (tmp_path / "event.toml").write_text(reordered, encoding="utf-8")
    report = score_event(tmp_path / "event.toml")
    assert [r.id for r in report.files.event.readers] == ["hand", "backup", "main", "mat"]
    assert results_csv(report.files.event, report.standings.results()) == before


def test_reads_outside_the_event_days_are_rejected_as_the_live_core_rejects_them(
        tmp_path: Path) -> None:
    """A reader whose clock was a week and a day ahead would otherwise give athlete 4 a finish
    eight days after the gun: live it is a rejected line, so offline too (same results)."""
    write_event(tmp_path)
    with (tmp_path / "main.txt").open("ab") as reads:
        reads.write(encode_ipico("aaaaaaaaaaa4", night("00:05:00", 19)))
    report = score_event(tmp_path / "event.toml")
    assert report.standings.result("4").status == "DNS"
    assert report.rejected == 2
    assert any("main.txt:4: rejected: reader time 2026-05-19T00:05:00 is not within the "
               "event's days (2026-05-03 to 2026-05-17)" in str(problem)
               for problem in report.problems), report.problems
