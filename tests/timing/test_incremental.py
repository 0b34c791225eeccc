"""Incremental and batch scoring give identical results, and both agree with a deliberately
naive reference written straight from SCORING.md (no bisect, no caches, no fast paths)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from timing.model import Adjustment, Athlete, Event, Race
from timing.reads import Read
from timing.results import results_csv
from timing.standings import Standings

from .factory import DAY, POINTS, athlete, event, race
from .reference import reference_rows, rows_of

GUN = datetime(DAY.year, DAY.month, DAY.day, 9, 0, 0)
READER_OF_POINT = {"start": "start-mat", "half": "half-mat", "finish": "finish-main"}
BACKUP_OF_POINT = {"finish": "finish-backup"}

Plain = tuple[str, int, str, str | None]  # (reader id, ms after 09:00 local, chip, bib)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Event, list[Athlete], list[Adjustment], list[Plain]]:
    races: list[Race] = []
    for race_id in draw(st.sampled_from([["mile"], ["mile", "kids"]])):
        gun = draw(st.sampled_from(["09:00:00", "09:00:30", None]))
        waves = draw(st.sampled_from([(), (("a", "08:59:00"), ("b", None))]))
        points = POINTS if race_id == "mile" else draw(st.sampled_from([POINTS, POINTS[1:]]))
        races.append(race(race_id, gun=gun, laps=draw(st.integers(1, 3)),
                          rank_by=draw(st.sampled_from(["gun", "chip"])),
                          min_lap_s=draw(st.sampled_from([0, 0.5, 30])),
                          precision_ms=draw(st.sampled_from([1000, 100, 10])),
                          points=points, waves=waves))
    ev = event(*races)
    count = draw(st.integers(1, 7))
    athletes = []
    for number in range(1, count + 1):
        own_race = draw(st.sampled_from(races))
        wave = draw(st.sampled_from([None, *(w.id for w in own_race.waves)]))
        chips = tuple(f"c{number}{suffix}" for suffix in draw(st.sampled_from(["a", "ab"])))
        athletes.append(athlete(str(number), *chips, gender=draw(st.sampled_from("FMX")),
                                race_id=own_race.id, wave=wave,
                                category=draw(st.sampled_from(["", "A", "B"]))))
    read_chips = [chip.upper() if draw(st.booleans()) else chip
                  for a in athletes for chip in a.chips] + ["stray"]
    read = st.tuples(
        st.sampled_from(sorted({*READER_OF_POINT.values(), *BACKUP_OF_POINT.values(),
                                "finish-manual"})),
        # Coarse steps make ties and exact min-lap boundaries likely.
        st.integers(-240, 2400).map(lambda quarter: quarter * 250),
        st.sampled_from(read_chips),
        st.sampled_from([None, None, None, *(a.bib for a in athletes), "999"]))
    reads = draw(st.lists(read, max_size=60))
    adjustments = draw(st.lists(st.builds(
        Adjustment,
        bib=st.sampled_from([a.bib for a in athletes]),
        kind=st.sampled_from(["status", "penalty"]),
        status=st.sampled_from(["DQ", "DNF", "DNS"]),
        penalty_ms=st.sampled_from([0, 1000, 30_000]),
        reason=st.just("test")), max_size=3))
    fixed = [a if a.kind == "status" else Adjustment(a.bib, "penalty", None, a.penalty_ms, "t")
             for a in adjustments]
    return ev, athletes, fixed, reads


def as_read(plain: Plain) -> tuple[str, Read]:
    reader_id, offset_ms, chip, bib = plain
    moment = GUN + timedelta(milliseconds=offset_ms)
    if reader_id == "finish-manual" or bib is not None:
        return reader_id, Read(chip="", bib=bib or "1", time=moment)
    return reader_id, Read(chip=chip, time=moment)


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_incremental_equals_batch_equals_reference(scenario, rng) -> None:
    ev, athletes, adjustments, plain = scenario
    reads = [as_read(p) for p in plain]

    batch = Standings(ev, athletes, adjustments)
    batch.add_reads(reads)

    # Live: reads arrive one at a time in a shuffled order (a backup line catching up, a
    # reader rewinding); some athletes register late and the adjustments land mid-race.
    shuffled = reads[:]
    rng.shuffle(shuffled)
    late = {a.bib for a in athletes if rng.random() < 0.3}
    live = Standings(ev, [a for a in athletes if a.bib not in late])
    half = len(shuffled) // 2
    for reader_id, read in shuffled[:half]:
        live.add_read(reader_id, read)
    for a in athletes:
        if a.bib in late:
            live.add_athlete(a)
    for adjustment in adjustments:
        live.apply_adjustment(adjustment)
    for reader_id, read in shuffled[half:]:
        live.add_read(reader_id, read)

    # A rebuild in batches, deriving only at the end (as the core replays its journal).
    batches = Standings(ev, athletes, adjustments)
    cut = rng.randint(0, len(reads))
    batches.add_reads(reads[:cut], settle=False)
    batches.add_reads(reads[cut:], settle=False)
    batches.settle()

    expected = reference_rows(ev, athletes, adjustments, reads)
    assert rows_of(batch) == expected
    assert rows_of(batches) == expected
    assert rows_of(live) == expected
    assert results_csv(ev, live.results()) == results_csv(ev, batch.results())
    assert live.unknown_chips() == batch.unknown_chips()
    assert live.passing_count() == batch.passing_count()
