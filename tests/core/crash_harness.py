"""The machinery of the crash test (`tests/core/test_crash.py`): the event and its chips, the
stream of reads and corrupt lines the readers send, one child run until SIGKILL or QUIT, the
journal seen from outside and its check, and the standings computed three ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from readers.protocols.ipico import IpicoParser, encode_ipico
from timing.core import TimingCore
from timing.entries import ReadEntry
from timing.eventfile import EventFiles
from timing.journal import JournalRow
from timing.reads import Read, Rejected
from timing.results import results_csv
from timing.standings import Standings
from timing.store import Store
from timing.stored_time import encode_time

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60.0
DAY = datetime(2026, 5, 10)
GUN = DAY.replace(hour=9)

ReadKey = tuple[str, str, int]
"""(reader id, chip, reader time in µs as the journal stores it): one read."""

EVENT_TOML = """\
[event]
name = "Crash Test 10K"
date = "2026-05-10"
timezone = "Europe/Rome"

[categories]
age_bounds = [0, 20, 40, 60]

[[races]]
id = "10k"
name = "10K"
distance_m = 10000
gun = "09:00:00"
rank_by = "chip"
min_lap_s = 60
precision = "0.1"

[[races]]
id = "laps"
name = "Lap race"
gun = "09:30:00"
laps = 3
points = ["finish"]
min_lap_s = 120
precision = "s"

[[points]]
id = "start"
kind = "start"

[[points]]
id = "split"
kind = "split"
distance_m = 5000

[[points]]
id = "finish"
kind = "finish"

[[readers]]
id = "start-mat"
point = "start"
format = "ipico"

[[readers]]
id = "split-mat"
point = "split"
format = "ipico"

[[readers]]
id = "finish-main"
point = "finish"
format = "ipico"

[[readers]]
id = "finish-backup"
point = "finish"
format = "ipico"
clock_offset_s = -0.7
"""
READERS = ("start-mat", "split-mat", "finish-main", "finish-backup")
RUNNERS = range(1, 37)
LAPPERS = range(101, 113)


def chip_of(bib: int) -> str:
    return f"0580{bib:08d}"


def write_event(folder: Path) -> Path:
    folder.mkdir()
    rows = ["bib,first_name,last_name,gender,birth_date,race,wave,chips,club"]
    for bib in [*RUNNERS, *LAPPERS]:
        race = "10k" if bib in RUNNERS else "laps"
        gender = "FMX"[bib % 3]
        rows.append(f"{bib},Name{bib},Last{bib},{gender},{1950 + bib % 60}-03-0{1 + bib % 9},"
                    f"{race},,{chip_of(bib)},")
    (folder / "participants.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "adjustments.csv").write_text(
        "bib,kind,value,reason\n7,status,DQ,cut the course\n12,penalty,30,no bib shown\n",
        encoding="utf-8")
    path = folder / "event.toml"
    path.write_text(EVENT_TOML, encoding="utf-8")
    return path


# -- the stream -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One stdin line for the child: what a reader sent in one go, and what it holds."""

    reader: str
    data: bytes
    reads: tuple[ReadKey, ...]
    rejected: tuple[str, ...]
    """The raw text of each rejected record, as the journal keeps it."""


def read_key(reader: str, read: Read) -> ReadKey:
    return reader, read.chip, encode_time(read)[0]


def planned_reads(rng: random.Random) -> dict[str, list[tuple[str, datetime]]]:
    """Per reader, (chip, time) of every read, in time order; no two alike."""
    reads: dict[str, list[tuple[str, datetime]]] = {reader: [] for reader in READERS}
    taken: set[tuple[str, str, datetime]] = set()

    def add(reader: str, chip: str, moment: datetime) -> None:
        moment = moment.replace(microsecond=moment.microsecond // 10_000 * 10_000)
        while (reader, chip, moment) in taken:
            moment += timedelta(milliseconds=10)
        taken.add((reader, chip, moment))
        reads[reader].append((chip, moment))

    def seconds(low: float, high: float) -> timedelta:
        return timedelta(seconds=rng.uniform(low, high))

    for bib in RUNNERS:
        chip = chip_of(bib)
        start = GUN + seconds(0, 90)
        if rng.random() < 0.9:
            add("start-mat", chip, start)
        if rng.random() < 0.1:
            continue  # gave up after the start
        split = start + seconds(1400, 2100)
        add("split-mat", chip, split)
        finish = split + seconds(1400, 2400)
        for _ in range(rng.randint(1, 3)):  # event-mode repeats while on the mat
            add("finish-main", chip, finish + seconds(0, 1.5))
        if rng.random() < 0.6:
            add("finish-backup", chip, finish + seconds(0, 1.5))
    for bib in LAPPERS:
        moment = GUN + timedelta(minutes=30)
        for _ in range(rng.choice((2, 3, 3, 4))):
            moment += seconds(300, 480)
            add("finish-main", chip_of(bib), moment)
    for number in range(rng.randint(2, 5)):  # chips nobody wears
        add(rng.choice(READERS), f"0999{number:08d}", GUN + seconds(0, 5000))
    return {reader: sorted(found, key=lambda read: read[1]) for reader, found in reads.items()}


def corrupt_line(rng: random.Random, number: int) -> bytes:
    """A record the IPICO parser rejects, unlike any other in the stream."""
    good = encode_ipico(f"0bad{number:08d}", GUN + timedelta(seconds=number), "01")
    kind = rng.randrange(5)
    if kind == 0:  # a wrong checksum
        checksum = (int(good[34:36], 16) + 1) % 256
        return good[:34] + f"{checksum:02x}".encode() + b"\r\n"
    if kind == 1:
        return good[:24] + b"\r\n"  # cut short
    if kind == 2:
        return good[:10] + b"zz" + good[12:]  # not hex
    if kind == 3:
        return b"\xff\xfe noise " + str(number).encode() + b"\x00\r\n"  # not text
    return f"hello from reader {number}\r\n".encode()  # not an IPICO record


def make_item(reader: str, data: bytes) -> Item:
    records = IpicoParser().feed(data)
    return Item(reader, data,
                tuple(read_key(reader, r) for r in records if isinstance(r, Read)),
                tuple(r.raw for r in records if isinstance(r, Rejected)))


def make_stream(rng: random.Random) -> list[Item]:
    """The readers' lines interleaved at random (each reader's in its own order), some lines
    sent twice, a few carrying a corrupt record."""
    per_reader: dict[str, list[Item]] = {}
    corrupt = itertools.count(1)
    for reader, reads in planned_reads(rng).items():
        items: list[Item] = []
        position = 0
        while position < len(reads):
            size = rng.randint(1, 3)
            lines = [encode_ipico(chip, moment, "0" + str(READERS.index(reader)))
                     for chip, moment in reads[position:position + size]]
            if rng.random() < 0.06:
                lines.insert(rng.randint(0, len(lines)), corrupt_line(rng, next(corrupt)))
            item = make_item(reader, b"".join(lines))
            assert len(item.reads) == len(reads[position:position + size])
            items.append(item)
            position += size
        per_reader[reader] = items
    stream: list[Item] = []
    sent: dict[str, list[Item]] = {reader: [] for reader in READERS}
    while any(per_reader.values()):
        readers = [reader for reader, items in per_reader.items() if items]
        reader = rng.choices(readers, [len(per_reader[r]) for r in readers])[0]
        item = per_reader[reader].pop(0)
        stream.append(item)
        sent[reader].append(item)
        if rng.random() < 0.07:  # the reader sends a recent line again
            stream.append(rng.choice(sent[reader][-6:]))
    return stream


# -- one child --------------------------------------------------------------------------------

@dataclass
class Outcome:
    acks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    results: str | None = None
    returncode: int | None = None
    stderr: str = ""


@dataclass(frozen=True)
class Kill:
    after_acks: int
    delay_s: float


async def run_child(url: str, event_id: int, lines: list[str], bursts: list[tuple[int, float]],
                    kill: Kill | None, stderr_path: Path) -> Outcome:
    """Start a child, write `lines` in `bursts` (count, pause after), and either SIGKILL it
    `kill.delay_s` after its `kill.after_acks`-th ACK, or send QUIT and let it finish."""
    with stderr_path.open("wb") as stderr:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.core.crash_child", url, str(event_id), cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr)
    assert child.stdin is not None and child.stdout is not None
    stdin, stdout = child.stdin, child.stdout
    outcome = Outcome()
    kill_now = asyncio.Event()

    async def read() -> None:
        while line := await stdout.readline():
            word, _, rest = line.decode().strip().partition(" ")
            if word == "ACK":
                outcome.acks.append(rest.split(" ")[0])
                if kill is not None and len(outcome.acks) >= kill.after_acks:
                    kill_now.set()
            elif word == "FAIL":
                outcome.failures.append(rest)
            elif word == "RESULTS":
                outcome.results = bytes.fromhex(rest).decode()
            elif word != "READY":
                outcome.other.append(line.decode())

    async def write() -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            position = 0
            for count, pause in bursts:
                stdin.write("".join(lines[position:position + count]).encode())
                position += count
                await stdin.drain()
                if pause:
                    await asyncio.sleep(pause)
            if kill is None:  # the end of stdin would end the child too: not before the kill
                stdin.write(b"QUIT\n")
                await stdin.drain()

    reading = asyncio.create_task(read())
    writing = asyncio.create_task(write())
    try:
        if kill is not None:
            waiting = asyncio.create_task(kill_now.wait())
            await asyncio.wait({waiting, reading}, timeout=TIMEOUT_S,
                               return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if kill_now.is_set() and kill.delay_s:
                await asyncio.sleep(kill.delay_s)
            if child.returncode is None:
                child.send_signal(signal.SIGKILL)
        await asyncio.wait_for(child.wait(), TIMEOUT_S)
        await asyncio.wait_for(reading, TIMEOUT_S)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        for task in (reading, writing):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, BrokenPipeError,
                                     ConnectionResetError):
                await task
        stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.wait_closed()
    outcome.returncode = child.returncode
    outcome.stderr = stderr_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    return outcome


# -- the journal, seen from outside --------------------------------------------------------------

@dataclass
class JournalView:
    seqs: list[int]
    reads: Counter[ReadKey]
    rejected: Counter[str]


async def journal_view(url: str, event_id: int) -> JournalView:
    store = await Store.open(url, migrate=False)
    try:
        async with store.engine.connect() as connection:
            rows = (await connection.execute(
                select(JournalRow.seq, JournalRow.kind, JournalRow.reader_key, JournalRow.chip,
                       JournalRow.reader_time, JournalRow.raw)
                .where(JournalRow.event_id == event_id).order_by(JournalRow.seq))).all()
    finally:
        await store.close()
    view = JournalView([], Counter(), Counter())
    for seq, kind, reader, chip, reader_time, raw in rows:
        view.seqs.append(int(seq))
        if kind == "read":
            assert reader_time is not None, f"seq {seq}: a read without its reader time"
            view.reads[(str(reader), str(chip), reader_time)] += 1
        else:
            assert kind == "rejected", f"seq {seq}: unexpected {kind!r} entry"
            view.rejected[str(raw)] += 1
    return view


def check_journal(view: JournalView, stream: list[Item], acked: set[int], where: str) -> None:
    """Every acknowledged line's reads are in the journal exactly once (its rejected records at
    least once: a rejected line is not de-duplicated); no read twice; nothing that was not sent;
    every line's reads wholly in or wholly out; sequence numbers without a gap."""
    assert view.seqs == list(range(1, len(view.seqs) + 1)), f"{where}: journal seq has gaps"
    twice = {key: count for key, count in view.reads.items() if count > 1}
    assert not twice, f"{where}: reads journaled more than once: {twice}"
    lost = [(index, key) for index in sorted(acked) for key in stream[index].reads
            if view.reads[key] != 1]
    assert not lost, f"{where}: acknowledged reads missing from the journal: {lost}"
    lost_rejected = [(index, raw) for index in sorted(acked) for raw in stream[index].rejected
                     if view.rejected[raw] < 1]
    assert not lost_rejected, f"{where}: acknowledged rejected lines missing: {lost_rejected}"
    sent_reads = {key for item in stream for key in item.reads}
    sent_rejected = {raw for item in stream for raw in item.rejected}
    assert set(view.reads) <= sent_reads, f"{where}: {set(view.reads) - sent_reads}"
    assert set(view.rejected) <= sent_rejected, f"{where}: {set(view.rejected) - sent_rejected}"
    torn = [index for index, item in enumerate(stream)
            if 0 < sum(key in view.reads for key in item.reads) < len(item.reads)]
    assert not torn, f"{where}: lines only partly journaled: {torn}"


# -- standings, three ways ------------------------------------------------------------------------

async def rebuilt_and_rescored(url: str, event_id: int, files: EventFiles) -> tuple[str, str]:
    """(results CSV of a fresh TimingCore.start, of a batch rescore of the journal's reads)."""
    store = await Store.open(url, migrate=False)
    try:
        core = await TimingCore.start(store, event_id)
        rebuilt = results_csv(core.event, core.standings.results())
        await core.stop()
        reads = [(item.entry.reader_id, item.entry.read)
                 async for batch in store.replay(event_id) for item in batch
                 if isinstance(item.entry, ReadEntry)]
    finally:
        await store.close()
    batch = Standings(files.event, files.athletes, files.adjustments)
    batch.add_reads(reads)
    return rebuilt, results_csv(files.event, batch.results())


def rescored_stream(stream: list[Item], files: EventFiles) -> str:
    reads: dict[ReadKey, tuple[str, Read]] = {}
    for item in stream:
        for record in IpicoParser().feed(item.data):
            if isinstance(record, Read):
                reads.setdefault(read_key(item.reader, record), (item.reader, record))
    batch = Standings(files.event, files.athletes, files.adjustments)
    batch.add_reads(reads.values())
    return results_csv(files.event, batch.results())
