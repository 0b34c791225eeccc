"""Offline scoring: an event directory with reader files in, standings and a report out.

This is the glue between the event files (`timing.eventfile`), the reader parsers (`readers`)
and the pure standings (`timing.standings`); `gambero score` prints what it returns.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from readers.protocols import FORMATS, make_parser
from readers.protocols.base import printable
from timing.entries import unstorable
from timing.eventfile import EventFileError, EventFiles, load_event
from timing.model import Problem, ReaderConfig
from timing.participants import CsvHeaderError
from timing.reads import Read, Rejected
from timing.standings import Standings

READ_CHUNK = 1 << 16


@dataclass
class ScoreReport:
    files: EventFiles
    standings: Standings
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reads: int = 0
    rejected: int = 0
    unknown_chip_reads: int = 0
    unknown_chips: int = 0

    def summary(self) -> str:
        athletes = len(self.standings.athlete_bibs())
        finishers = sum(1 for row in self.standings.results() if row.status == "FIN")
        return (f"{athletes} athletes, {finishers} finishers: {self.reads} reads, "
                f"{self.standings.passing_count()} passings, {self.unknown_chips} unknown chips "
                f"({self.unknown_chip_reads} reads), {self.rejected} rejected lines, "
                f"{len(self.problems)} problems reported")


def score_event(path: str | Path) -> ScoreReport:
    """Score the event at `path` (its event.toml). Raises `EventFileError` when it cannot."""
    try:
        files = load_event(path, FORMATS)
    except CsvHeaderError as error:
        raise EventFileError([error.problem]) from None
    standings = Standings(files.event, files.athletes, files.adjustments)
    report = ScoreReport(files, standings, problems=list(files.problems))
    for race in files.event.races:
        if race.gun_ms is None and not any(wave.gun_ms is not None for wave in race.waves):
            report.problems.append(Problem(str(Path(path)), None, f"race {race.id} has no gun: "
                                           "every read is before the gun, nobody is timed"))
        if race.laps > 1 and race.min_lap_ms == 0:
            report.problems.append(Problem(
                str(Path(path)), None, f"race {race.id} counts {race.laps} laps but sets no "
                "min_lap_s: every later read at the finish is a new lap (set min_lap_s)"))
    reads: list[tuple[str, Read]] = []
    location: list[tuple[str, int]] = []
    for reader in files.event.readers:
        if reader.path is None:
            continue
        _read_reader_file(files.directory, reader, reads, location, report, standings)
    report.reads = len(reads)
    unknown = Counter[str]()
    first_seen: dict[str, tuple[str, int]] = {}
    for index, outcome in standings.add_reads(reads):
        unknown[outcome.kind + ":" + outcome.key] += 1
        first_seen.setdefault(outcome.kind + ":" + outcome.key, location[index])
    for key, count in unknown.items():
        kind, _, value = key.partition(":")
        file_name, line = first_seen[key]
        what = (f"unknown chip {value}" if kind == "unknown_chip"
                else f"no participant has bib {value}")
        report.problems.append(Problem(file_name, line, f"{what} ({count} reads, kept apart "
                                       "from the results)"))
        if kind == "unknown_chip":
            report.unknown_chips += 1
            report.unknown_chip_reads += count
    for adjustment in files.adjustments:
        value = (adjustment.status or "") if adjustment.kind == "status" else \
            f"+{adjustment.penalty_ms / 1000:g} s"
        report.notes.append(f"adjustment applied: bib {adjustment.bib} {adjustment.kind} "
                            f"{value}: {adjustment.reason or '(no reason given)'}")
    return report


def _read_reader_file(directory: Path, reader: ReaderConfig, reads: list[tuple[str, Read]],
                      where: list[tuple[str, int]], report: ScoreReport,
                      standings: Standings) -> None:
    assert reader.path is not None
    path = directory / reader.path
    parser = make_parser(reader.format)
    try:
        with path.open("rb") as stream:
            records = []
            while chunk := stream.read(READ_CHUNK):
                records.extend(parser.feed(chunk))
            records.extend(parser.close())
    except OSError as error:
        # Not a warning: results without a whole reader's reads would look right and be wrong.
        raise EventFileError([Problem(str(path), None, f"reader {reader.id}: cannot read its "
                                      f"file: {error.strerror}")]) from None
    refuses_read = standings.window.refuses_read
    for record in records:
        if not isinstance(record, Rejected):
            # What the live core journals as a rejected line is one here too: same results.
            problem = unstorable(record) or refuses_read(record)
            if problem is not None:
                record = Rejected(record.raw, problem, record.line)
        if isinstance(record, Rejected):
            report.rejected += 1
            report.problems.append(Problem(str(path), record.line,
                                           f"rejected: {record.reason}: {shown_raw(record.raw)}"))
        else:
            reads.append((reader.id, record))
            where.append((str(path), record.line))


def shown_raw(raw: str, limit: int = 120) -> str:
    """A rejected record for a report: control characters escaped, cut after `limit`."""
    text = printable(raw)
    return text if len(text) <= limit else text[:limit] + "…"
