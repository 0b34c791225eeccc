"""The example event's generator: a backwards mile with ~300 athletes, written into
examples/backwards-mile/ by `python examples/backwards-mile/generate.py`, and the athletes of
`gambero demo` (inside the package, so that the demo runs from any install, not only from a
clone).

Deterministic (a fixed seed): running it again gives the same files byte for byte, and a test
checks that the committed files are what it writes.

What it holds, so that every rule of SCORING.md shows up somewhere:
- the Backwards Mile in two waves (elite 09:00, open 09:05) and a 400 m kids' race (10:00);
- F, M and X athletes with birth dates (age groups), a few without; some with two chips;
- a RACE RESULT start mat (undated `0000-00-00` decoder times), an Ultra box at half way,
  an IPICO finish line and an Ultra backup finish line whose clock runs 1.2 s fast
  (`clock_offset_s = -1.2`), and manual entries for finishers both lines missed;
- non-starters, a few who stopped after half way, a DQ and a time penalty;
- spare and stray chips nobody wears (unknown chips), a couple of corrupt lines, heartbeats.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from readers.protocols.ipico import encode_ipico
from readers.protocols.manual import encode_manual, encode_manual_header
from readers.protocols.raceresult import encode_raceresult
from readers.protocols.ultra import encode_ultra

DAY = date(2026, 5, 10)
SEED = 2026

FIRST_F = ["Giulia", "Chiara", "Anna", "Sofia", "Martina", "Elena", "Francesca", "Sara", "Laura",
           "Lena", "Marie", "Hannah", "Emma", "Clara", "Greta", "Alice", "Ruth", "Grace",
           "Olivia", "Maeve"]
FIRST_M = ["Marco", "Luca", "Matteo", "Giovanni", "Andrea", "Paolo", "Stefano", "Lukas",
           "Jonas", "Felix", "Max", "Tobias", "Oliver", "James", "Harry", "Liam", "Thomas",
           "Davide", "Pietro", "Emil"]
FIRST_X = ["Alex", "Robin", "Sam", "Kim", "Andrea", "Charlie", "Noa", "Luca"]
LAST = ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Müller", "Schmidt",
        "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schäfer",
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "O'Brien", "Walsh",
        "Ó Súilleabháin", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani"]
CLUBS = ["Retro Runners Verona", "Gambero Athletic", "LG Rückwärts München",
         "Backwards Bath Harriers", "Podistica Contromano", "", "", ""]

Line = tuple[datetime, bytes]
Crossing = tuple[dict[str, str], datetime]


def local(clock_time: str) -> datetime:
    return datetime.fromisoformat(f"{DAY.isoformat()}T{clock_time}")


def people(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    chip_serial = 0x120000

    def next_chip() -> str:
        nonlocal chip_serial
        chip_serial += rng.randint(1, 40)
        return f"058000{chip_serial:06x}"

    for number in range(1, 301):
        kids = number > 270
        gender = rng.choices("FMX", weights=(45, 52, 3))[0]
        first = rng.choice({"F": FIRST_F, "M": FIRST_M, "X": FIRST_X}[gender])
        age = rng.randint(8, 13) if kids else int(rng.triangular(16, 78, 38))
        birth = DAY - timedelta(days=age * 365 + rng.randint(0, 364))
        chips = [next_chip()]
        if not kids and rng.random() < 0.25:  # a shoe chip besides the bib chip
            chips.append(next_chip())
        rows.append({
            "bib": str(number if not kids else 500 + number - 270),
            "first_name": first, "last_name": rng.choice(LAST), "gender": gender,
            "birth_date": "" if rng.random() < 0.03 else birth.isoformat(),
            "race": "kids" if kids else "mile",
            "wave": "" if kids else ("elite" if number <= 40 else "open"),
            "chips": " ".join(chips), "club": rng.choice(CLUBS),
        })
    return rows


def crossings(rng: random.Random, rows: list[dict[str, str]]) -> dict[str, list[Crossing]]:
    """When each athlete crosses each point (None where they do not)."""
    plan: dict[str, list[Crossing]] = {"start": [], "half": [], "finish": []}
    for row in rows:
        bib = row["bib"]
        if bib in ("17", "64", "123", "150", "205", "520", "527"):  # did not start
            continue
        if row["race"] == "kids":
            finish = local("10:00:00") + timedelta(seconds=rng.uniform(85, 160))
            plan["finish"].append((row, finish))
            continue
        gun = local("09:00:00") if row["wave"] == "elite" else local("09:05:00")
        elite = row["wave"] == "elite"
        start = gun + timedelta(seconds=rng.uniform(0.3, 4 if elite else 45))
        seconds = rng.uniform(372, 480) if elite else rng.lognormvariate(6.55, 0.22)
        seconds *= 1.06 if row["gender"] == "F" else 1.0
        plan["start"].append((row, start))
        half = start + timedelta(seconds=seconds * rng.uniform(0.47, 0.52))
        plan["half"].append((row, half))
        if bib in ("33", "98", "241"):  # stopped after half way
            continue
        plan["finish"].append((row, start + timedelta(seconds=seconds)))
    return plan


def reads_at_finish(rng: random.Random, plan: list[Crossing]) -> tuple[list[Line], list[Line],
                                                                   list[Line]]:
    ipico: list[Line] = []
    ultra: list[Line] = []
    manual: list[Line] = []
    log_id = 5000
    missed_by_both = {"77", "190", "514"}
    missed_by_main = {"12", "156", "230", "260"}
    for row, finish in plan:
        for index, chip in enumerate(row["chips"].split()):
            first = finish + timedelta(milliseconds=rng.randint(0, 250) + 180 * index)
            if row["bib"] not in missed_by_both | missed_by_main:
                for hit in range(rng.randint(4, 14)):
                    moment = first + timedelta(milliseconds=hit * rng.randint(60, 140))
                    ipico.append((moment, encode_ipico(chip, moment, "01",
                                                       f"{rng.randint(1, 40):02x}00")))
                # First/last-seen mode re-sends the first read ~5.5 s later (exact repeat time).
                if rng.random() < 0.3:
                    ipico.append((first + timedelta(seconds=5.5),
                                  encode_ipico(chip, first, "01", "ff00")))
            if row["bib"] not in missed_by_both and rng.random() < 0.9:
                fast_clock = timedelta(seconds=1.2)  # the backup box runs 1.2 s fast
                for hit in range(rng.randint(2, 6)):
                    log_id += 1
                    moment = first + timedelta(milliseconds=40 + hit * 90)
                    ultra.append((moment, encode_ultra(chip, moment + fast_clock, antenna=2,
                                                       rssi=-rng.randint(55, 78), reader_no=2,
                                                       log_id=log_id)))
        if row["bib"] in missed_by_both:
            hand = finish + timedelta(milliseconds=rng.randint(100, 600))
            manual.append((hand, encode_manual(row["bib"], hand.time())))
    return ipico, ultra, manual


def write(out: Path, name: str, lines: list[Line], header: bytes = b"") -> None:
    lines.sort(key=lambda line: line[0])
    (out / "reads").mkdir(parents=True, exist_ok=True)
    (out / "reads" / name).write_bytes(header + b"".join(raw for _, raw in lines))


def main(out: Path) -> None:
    """Write participants.csv and reads/ into `out` (event.toml and adjustments.csv are
    written by hand)."""
    rng = random.Random(SEED)
    rows = people(rng)
    plan = crossings(rng, rows)
    columns = list(rows[0])
    with (out / "participants.csv").open("w", encoding="utf-8", newline="") as table:
        table.write(",".join(columns) + "\n")
        for row in rows:
            table.write(",".join(f'"{row[c]}"' if "," in row[c] else row[c] for c in columns)
                      + "\n")

    start: list[Line] = []
    for number, (row, moment) in enumerate(sorted(plan["start"], key=lambda p: p[1]), 1):
        chip = row["chips"].split()[0]
        start.append((moment, encode_raceresult(number, chip, moment, dated=False,
                                                hits=rng.randint(8, 60),
                                                rssi=-rng.randint(50, 75), box_name="START")))
    stray = local("09:04:41.250")
    start.append((stray, encode_raceresult(len(start) + 1, "0580009fff01", stray, dated=False,
                                           box_name="START")))  # a spare chip in a volunteer's bag
    write(out, "start-raceresult.txt", start,
          header=b"SETPROTOCOL;2.0\r\nGETTIME;0000-00-00;08:40:03.120\r\n")

    half: list[Line] = []
    log_id = 100
    for row, moment in plan["half"]:
        for chip in row["chips"].split():
            for hit in range(rng.randint(1, 4)):
                log_id += 1
                at = moment + timedelta(milliseconds=hit * 110)
                half.append((at, encode_ultra(chip, at, antenna=1, rssi=-rng.randint(55, 80),
                                              reader_no=1, log_id=log_id)))
    half.append((local("09:03:00"), b"V=25.1000\r\n"))
    write(out, "half-ultra.txt", half, header=b"Connected,LocalTime:08:41:10\r\n")

    ipico, ultra, manual = reads_at_finish(rng, plan["finish"])
    for clock_time, chip in (("09:11:02.310", "0580009fff02"), ("10:01:40.020", "0580009fff03")):
        moment = local(clock_time)  # stray chips: a spectator's bag, a spare on the table
        ipico.append((moment, encode_ipico(chip, moment, "01")))
    # Corrupt lines, as a flaky serial link gives them: a flipped digit (bad LRC), a cut line.
    corrupt = encode_ipico("058000120a0b", local("09:12:00.500"), "01").replace(b"0a0b", b"0a1b")
    ipico.append((local("09:12:00.500"), corrupt))
    ultra.append((local("09:14:00"), b"0,058000120c44,1462,4\r\n"))
    ultra.append((local("09:20:00"), b"V=24.9000\r\n"))
    write(out, "finish-ipico.txt", ipico)
    write(out, "finish-ultra.txt", ultra, header=b"Connected,LocalTime:08:45:00\r\n")
    write(out, "finish-manual.csv", manual, header=encode_manual_header())
