"""`gambero score` as a timekeeper runs it: the example event, a broken event, `-o`."""

from __future__ import annotations

import csv
import importlib.util
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gambero.offline import score_event
from readers.protocols import make_parser
from timing.eventfile import load_event
from timing.reads import Read
from timing.rules import format_duration

from .timing.reference import reference_rows

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "backwards-mile"


def gambero(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gambero", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)


@pytest.fixture(scope="module")
def example_run() -> subprocess.CompletedProcess[str]:
    return gambero("score", str(EXAMPLE / "event.toml"))


def parsed_reads() -> list[tuple[str, Read]]:
    """Every read of the example's reader files, parsed independently of `gambero score`."""
    files = load_event(EXAMPLE / "event.toml")
    reads: list[tuple[str, Read]] = []
    for reader in files.event.readers:
        assert reader.path is not None
        parser = make_parser(reader.format)
        data = (EXAMPLE / reader.path).read_bytes()
        records = parser.feed(data) + parser.close()
        reads.extend((reader.id, r) for r in records if isinstance(r, Read))
    return reads


def test_example_results_follow_the_reference_scorer(
        example_run: subprocess.CompletedProcess[str]) -> None:
    assert example_run.returncode == 0, example_run.stderr
    rows = list(csv.DictReader(io.StringIO(example_run.stdout)))
    files = load_event(EXAMPLE / "event.toml")
    precision = {race.id: race.precision_ms for race in files.event.races}
    race_of = {athlete.bib: athlete.race for athlete in files.athletes}
    expected = reference_rows(files.event, files.athletes, files.adjustments, parsed_reads())
    assert len(rows) == len(expected) == 300

    def shown(ms: int | None, bib: str) -> str:
        return "" if ms is None else format_duration(ms, precision[race_of[bib]])

    by_bib = {row["bib"]: row for row in rows}
    for bib, place, gender_place, category_place, status, gun, chip, laps, splits in expected:
        row = by_bib[bib]
        assert row["place"] == ("" if place is None else str(place)), bib
        assert row["gender_place"] == ("" if gender_place is None else str(gender_place)), bib
        assert row["category_place"] == ("" if category_place is None else str(category_place))
        assert row["status"] == status, bib
        assert row["gun_time"] == shown(gun, bib), bib
        assert row["chip_time"] == shown(chip, bib), bib
        assert row["laps"] == str(laps), bib
        split = dict(splits)
        assert row["split_half"] == shown(split.get("half"), bib), bib


def test_example_csv_layout(example_run: subprocess.CompletedProcess[str]) -> None:
    lines = example_run.stdout.splitlines()
    assert lines[0] == ("race,place,bib,first_name,last_name,gender,gender_place,category,"
                        "category_place,status,gun_time,chip_time,laps,split_half,club,penalty")
    rows = list(csv.DictReader(io.StringIO(example_run.stdout)))
    races = [row["race"] for row in rows]
    assert races == sorted(races, key=["mile", "kids"].index)  # event.toml order
    for race in ("mile", "kids"):
        mine = [row for row in rows if row["race"] == race]
        placed = [int(row["place"]) for row in mine if row["place"]]
        assert placed == sorted(placed) and placed[0] == 1
        statuses = [row["status"] for row in mine]
        finishers = statuses.count("FIN")
        assert statuses[:finishers] == ["FIN"] * finishers  # non-finishers follow, unplaced
        assert all(row["place"] == "" for row in mine[finishers:])


def test_example_shows_every_feature(example_run: subprocess.CompletedProcess[str]) -> None:
    rows = {row["bib"]: row for row in csv.DictReader(io.StringIO(example_run.stdout))}
    assert rows["42"]["status"] == "DQ" and rows["42"]["gun_time"] == ""
    participants = csv.DictReader(io.StringIO(
        (EXAMPLE / "participants.csv").read_text(encoding="utf-8")))
    clubs = {row["bib"]: row["club"] for row in participants}
    assert {bib: row["club"] for bib, row in rows.items()} == clubs
    assert rows["7"]["penalty"] == "0:10"  # adjustments.csv: 10 s, the mile shows seconds
    assert {bib for bib, row in rows.items() if row["penalty"]} == {"7"}
    assert {rows[b]["status"] for b in ("33", "98", "241")} == {"DNF"}
    assert {rows[b]["status"] for b in ("17", "64", "123", "150", "205", "520", "527")} == {"DNS"}
    assert {row["gender"] for row in rows.values()} == {"F", "M", "X"}
    for bib in ("77", "190", "514"):  # missed by both chip lines: timed by hand
        assert rows[bib]["status"] == "FIN"
    assert rows["511"]["gun_time"].count(".") == 1  # the kids' race shows tenths
    stderr = example_run.stderr
    assert "reads/finish-ipico.txt:384: rejected: bad LRC" in stderr
    assert "reads/finish-ultra.txt:226: rejected: 4 fields" in stderr
    assert "unknown chip 0580009fff01" in stderr
    assert "adjustment applied: bib 7 penalty +10 s: false start" in stderr
    summary = stderr.strip().splitlines()[-1]
    assert summary.startswith("scored 300 athletes, ")
    assert "3 unknown chips (3 reads), 2 rejected lines" in summary


def test_penalty_adds_to_the_times_of_the_penalised_athlete() -> None:
    report = score_event(EXAMPLE / "event.toml")
    penalised = report.standings.result("7")
    assert penalised.adjustments[0].penalty_ms == 10_000
    # Without the penalty the same reads give exactly 10 s less.
    files = load_event(EXAMPLE / "event.toml")
    rows = reference_rows(files.event, files.athletes, [], parsed_reads())
    unpenalised = next(row for row in rows if row.bib == "7")
    assert unpenalised.gun_ms is not None
    assert penalised.gun_ms == unpenalised.gun_ms + 10_000


def test_output_file_matches_stdout(tmp_path: Path,
                                    example_run: subprocess.CompletedProcess[str]) -> None:
    out = tmp_path / "results.csv"
    run = gambero("score", str(EXAMPLE / "event.toml"), "-o", str(out))
    assert run.returncode == 0 and run.stdout == ""
    assert out.read_text(encoding="utf-8") == example_run.stdout


def test_broken_event_is_refused_with_located_errors(tmp_path: Path) -> None:
    text = (EXAMPLE / "event.toml").read_text(encoding="utf-8")
    (tmp_path / "event.toml").write_text(text.replace('gun = "10:00:00"', 'gun = "ten"'),
                                         encoding="utf-8")
    (tmp_path / "participants.csv").write_text("bib,first_name,last_name,gender,race\n",
                                               encoding="utf-8")
    run = gambero("score", str(tmp_path / "event.toml"))
    assert run.returncode == 2
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == 'gun = "10:00:00"')
    assert f"event.toml:{line}: races[1].gun: must be a time of day" in run.stderr
    assert run.stdout == ""


def test_missing_reader_file_stops_scoring(tmp_path: Path) -> None:
    for name in ("event.toml", "participants.csv", "adjustments.csv"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    run = gambero("score", str(tmp_path / "event.toml"))
    assert run.returncode == 2
    assert "reads/start-raceresult.txt: reader start-mat: cannot read its file: No such file" \
        in run.stderr
    assert run.stdout == ""


def test_committed_example_is_what_the_generator_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate", EXAMPLE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted([Path("participants.csv"), *(
        Path("reads") / p.name for p in (EXAMPLE / "reads").iterdir())])
    for path in written:
        assert (tmp_path / path).read_bytes() == (EXAMPLE / path).read_bytes(), path


def test_a_clock_offset_out_of_range_is_refused_without_a_traceback(tmp_path: Path) -> None:
    """A reader 1e16 s off made `gambero score` die in the standings (an integer too big for
    their arrays); now event.toml is refused at the offset's line."""
    event = tmp_path / "event"
    shutil.copytree(EXAMPLE, event)
    text = (event / "event.toml").read_text(encoding="utf-8")
    assert text.count("clock_offset_s = -1.2 ") == 1
    (event / "event.toml").write_text(text.replace("clock_offset_s = -1.2 ",
                                                   "clock_offset_s = 1e16 "), encoding="utf-8")
    run = gambero("score", str(event / "event.toml"))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "clock_offset_s" in t)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert (f"event.toml:{line}: readers[3].clock_offset_s: must be a number from -86400 to "
            "86400, not 1e+16") in run.stderr
    assert run.stdout == ""
