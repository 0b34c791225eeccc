"""A soak of a running server (`gambero serve` on 127.0.0.1): a scripted race goes on while
random valid and invalid requests of every role and a reader sending garbage hit the server.

Used by tests/e2e/test_soak.py (about half a minute, in CI) and bench/soak.py (as long as you
like). Every request goes to 127.0.0.1, has a timeout, and the whole run stops at its deadline.
What it checks is in `SoakReport`: no answer of 500 or more, and the reads the server
acknowledged, which the caller then looks for in the results and the journal.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.api.processes import free_port, start, stop, wait_up
from tests.store.events import copy_example
from timing.entries import ReadEntry, apply_all
from timing.eventfile import load_event
from timing.results import results_csv
from timing.standings import Standings
from timing.store import Store

FINISH_READER = "finish-main"
GARBAGE_READER = "finish-backup"
HOSTILE_NUMBERS: list[Any] = [0, -1, 2**63 - 1, 2**64, -253402300800000, 1e30, 1e18, 0.5,
                              "NaN", None, True, [], {}, "x" * 10_000]
HOSTILE_TEXT: list[Any] = ["", " ", "\x00", "a\x00b", "\u202eevil", "=HYPERLINK(\"x\")",
                           "x" * 5000, "Ó Súilleabháin", "D\u2019Angelo", "\n\r\t", 12,
                           None, ["list"], {"a": 1}, "😀" * 50]


@dataclass(frozen=True)
class Athlete:
    bib: str
    chip: str


@dataclass
class SoakReport:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    """Requests answered with 500 or more, or not at all: what was sent and what came back."""
    acknowledged: dict[str, int] = field(default_factory=dict)
    """Bib -> the time (ms) of its finish read, for every read the server acknowledged."""
    garbage_lines: int = 0
    garbage_rejected: int = 0
    """Lines the server rejected: more than were sent, as random bytes hold line breaks (CR)."""

    def summary(self) -> str:
        top = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (f"{self.requests} requests ({top}); {len(self.acknowledged)} finish reads "
                f"acknowledged; {self.garbage_lines} garbage lines sent, "
                f"{self.garbage_rejected} answered as rejected; {len(self.failures)} failures")


@dataclass
class Soak:
    base: str
    tokens: dict[str, str]
    """Role -> token: admin, timekeeper, reader (of GARBAGE_READER), finish (reader token of
    FINISH_READER)."""
    athletes: list[Athlete]
    """The race being run: each gets one finish read (sent again now and then)."""
    others: list[str]
    """Bibs the chaos may change (another race): never those of `athletes`."""
    finish_from_ms: int
    seed: int = 12
    report: SoakReport = field(default_factory=SoakReport)

    async def run(self, seconds: float) -> SoakReport:
        deadline = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=self.base, timeout=15, limits=limits) as client:
            await asyncio.gather(
                self._race(client, deadline), self._garbage(client, deadline),
                *(self._chaos(client, deadline, random.Random(self.seed + n))
                  for n in range(4)))
        return self.report

    # -- the scripted race ----------------------------------------------------------------------

    async def _race(self, client: httpx.AsyncClient, deadline: float) -> None:
        """Each athlete's finish read, posted in small batches as a network reader would;
        one batch in ten is sent twice (a re-send after a lost answer)."""
        rng = random.Random(self.seed)
        order = list(self.athletes)
        rng.shuffle(order)
        pace = max(0.01, (deadline - time.monotonic()) * 0.8 / max(1, len(order)))
        index = 0
        while index < len(order) and time.monotonic() < deadline:
            batch = order[index:index + rng.randint(1, 4)]
            index += len(batch)
            reads = [{"chip": athlete.chip, "time_ms": self._finish_ms(athlete)}
                     for athlete in batch]
            for _ in range(2 if rng.random() < 0.1 else 1):
                answer = await self._send(client, "POST", f"/api/readers/{FINISH_READER}/reads",
                                          self.tokens["finish"], json_body={"reads": reads})
                if answer is not None and answer.status_code == 200:
                    for athlete in batch:
                        self.report.acknowledged[athlete.bib] = self._finish_ms(athlete)
            await asyncio.sleep(pace * len(batch))

    def _finish_ms(self, athlete: Athlete) -> int:
        return self.finish_from_ms + 1000 * self.athletes.index(athlete)

    # -- a reader sending garbage ---------------------------------------------------------------

    async def _garbage(self, client: httpx.AsyncClient, deadline: float) -> None:
        rng = random.Random(self.seed + 100)
        while time.monotonic() < deadline:
            lines = rng.randint(1, 400)
            body = b"".join(rng.randbytes(rng.randint(0, 80)).replace(b"\n", b"") + b"\n"
                            for _ in range(lines))
            answer = await self._send(client, "POST", f"/api/readers/{GARBAGE_READER}/reads",
                                      self.tokens["reader"], content=body,
                                      content_type="text/plain")
            self.report.garbage_lines += lines
            if answer is not None and answer.status_code == 200:
                self.report.garbage_rejected += int(answer.json()["rejected"])
            await asyncio.sleep(0.02)

    # -- random requests of every role ----------------------------------------------------------

    async def _chaos(self, client: httpx.AsyncClient, deadline: float,
                     rng: random.Random) -> None:
        makers: list[Callable[[random.Random], tuple[str, str, dict[str, Any]]]] = [
            self._public_get, self._desk_get, self._gun, self._manual, self._status,
            self._edit, self._chip, self._reader, self._participants, self._json_reads,
            self._correction]
        while time.monotonic() < deadline:
            method, path, options = rng.choice(makers)(rng)
            role = rng.choice(["", "bad", "reader", "timekeeper", "admin", "admin"])
            token = {"": None, "bad": "gmb_not-a-token"}.get(role, self.tokens.get(role))
            if rng.random() < 0.1:  # a body no parser can take
                options = {"content": rng.choice([b"[" * 100_000, b"{", rng.randbytes(200),
                                                  b'{"a": NaN}']),
                           "content_type": rng.choice(["application/json", "text/plain",
                                                       "application/x-whatever"])}
            await self._send(client, method, path, token, **options)

    def _public_get(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        race = rng.choice(["mile", "kids", "nope", "x" * 300, "%00"])
        path = rng.choice([
            "/api/health", "/api/event", "/api/races", f"/api/races/{race}/results",
            f"/api/races/{race}/results.csv",
            f"/api/athletes/{rng.choice([*self.others, '1', 'x' * 100, '%E2%80%AE'])}"])
        params = {key: rng.choice(HOSTILE_TEXT + HOSTILE_NUMBERS[:6])
                  for key in rng.sample(["q", "gender", "category", "offset", "limit"],
                                        rng.randint(0, 3))}
        return "GET", path, {"params": {key: str(value) for key, value in params.items()}}

    def _desk_get(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        path = rng.choice(["/api/journal", "/api/rejected", "/api/unknown-chips",
                           "/api/quarantined", "/api/readers", "/api/tokens",
                           "/api/auth/whoami", f"/api/readers/{GARBAGE_READER}",
                           "/api/unknown-bibs", "/api/guns", "/api/alarms",
                           f"/api/athletes/{rng.choice(self.others)}/passings"])
        return "GET", path, {"params": {"limit": str(rng.choice([1, 100, 0, -1, 10**30]))}}

    def _gun(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        moment = rng.choice([self.finish_from_ms - 3_600_000, *HOSTILE_NUMBERS])
        return "POST", "/api/races/kids/gun", {"json_body": {
            "time_ms": moment, "reason": rng.choice(HOSTILE_TEXT)}}

    def _manual(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        entries = [{"bib": rng.choice([*self.others, *HOSTILE_TEXT]),
                    "time_ms": rng.choice([self.finish_from_ms, *HOSTILE_NUMBERS])}
                   for _ in range(rng.randint(0, 5))]
        return "POST", "/api/manual", {"json_body": {"entries": entries}}

    def _status(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        bib = rng.choice(self.others)
        if rng.random() < 0.5:
            return "POST", f"/api/athletes/{bib}/status", {"json_body": {
                "status": rng.choice(["DQ", "DNF", "DNS", None, "WIN", 3]),
                "reason": rng.choice(HOSTILE_TEXT)}, "dry_run": rng.random() < 0.5}
        return "POST", f"/api/athletes/{bib}/penalty", {"json_body": {
            "ms": rng.choice([1000, *HOSTILE_NUMBERS]), "reason": rng.choice(HOSTILE_TEXT)},
            "dry_run": rng.random() < 0.5}

    def _edit(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        fields = ["first_name", "last_name", "gender", "birth_date", "club", "race", "wave",
                  "category", "reason"]
        body = {name: rng.choice(HOSTILE_TEXT) for name in rng.sample(fields, 3)}
        if "race" in body:
            body["race"] = rng.choice(["kids", "nope", None])  # never into the scripted race
        return "PATCH", f"/api/athletes/{rng.choice(self.others)}", {"json_body": body}

    def _correction(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        """A reassign of any entry (only times typed under unknown bibs can be: the chaos's
        hostile bibs), or a void of an entry no journal holds: never a void of a real entry,
        which could take a scripted finish away."""
        if rng.random() < 0.5:
            return "POST", "/api/reassign", {"json_body": {
                "seq": rng.randint(1, 5_000), "bib": rng.choice([*self.others, *HOSTILE_TEXT]),
                "reason": rng.choice(HOSTILE_TEXT)}, "dry_run": rng.random() < 0.5}
        return "POST", "/api/void", {"json_body": {
            "seq": rng.choice([10**9, *HOSTILE_NUMBERS]), "reason": rng.choice(HOSTILE_TEXT)},
            "dry_run": rng.random() < 0.5}

    def _chip(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        chip = rng.choice([f"CHAOS{rng.randint(0, 99)}", *HOSTILE_TEXT])
        return "POST", "/api/chips", {"json_body": {"chip": chip,
                                                    "bib": rng.choice(self.others)}}

    def _reader(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        return "POST", "/api/readers", {"json_body": {
            "id": rng.choice([f"chaos{rng.randint(0, 9999)}", *HOSTILE_TEXT]),
            "point": rng.choice(["finish", "nope", *HOSTILE_TEXT[:3]]),
            "format": rng.choice(["ipico", "ultra", "nope"]),
            "clock_offset_s": rng.choice([0, 1.5, *HOSTILE_NUMBERS])}}

    def _participants(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        rows = ["bib,first_name,last_name,gender,race"]
        for _ in range(rng.randint(1, 5)):
            bib = rng.choice([rng.randint(900, 999), *HOSTILE_TEXT])
            if str(bib).isdigit() and int(str(bib)) < 900:
                bib = f"x{bib}"  # a new bib, never one of the race being run
            cells = [str(bib),
                     str(rng.choice(HOSTILE_TEXT)), "Rossi", rng.choice(["F", "M", "Q"]),
                     rng.choice(["kids", "nope"])]
            rows.append(",".join(json.dumps(cell) for cell in cells))
        return "POST", "/api/participants", {"content": "\n".join(rows).encode(
            "utf-8", "surrogatepass"), "content_type": "text/csv"}

    def _json_reads(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        reads = [{"chip": rng.choice(["CHAOS1", *HOSTILE_TEXT]),
                  "time_ms": rng.choice([self.finish_from_ms, *HOSTILE_NUMBERS])}
                 for _ in range(rng.randint(0, 4))]
        return "POST", f"/api/readers/{GARBAGE_READER}/reads", {"json_body": {"reads": reads}}

    # -- sending ----------------------------------------------------------------------------

    async def _send(self, client: httpx.AsyncClient, method: str, path: str,
                    token: str | None, *, json_body: Any = None, content: bytes | None = None,
                    content_type: str = "application/json", params: dict[str, str] | None = None,
                    dry_run: bool = False) -> httpx.Response | None:
        headers = {"content-type": content_type}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        if json_body is not None:
            content = json.dumps(json_body).encode()
        if dry_run:
            params = {**(params or {}), "dry_run": "true"}
        self.report.requests += 1
        what = f"{method} {path} {params or ''} {(content or b'')[:200]!r}"
        try:
            answer = await client.request(method, path, content=content, headers=headers,
                                          params=params)
        except httpx.HTTPError as error:
            self.report.failures.append(f"{what}: no answer: {error!r}")
            return None
        self.report.statuses[answer.status_code] += 1
        if answer.status_code >= 500:
            self.report.failures.append(f"{what}: {answer.status_code} {answer.text[:300]}")
        return answer


# -- running it against a server of its own, and checking the outcome --------------------------

ADMIN = "gmb_soak-admin-token-0123456789"
FINISH_FROM_MS = 1778397000000  # 2026-05-10 09:10 in Rome, after both mile guns


def tokens(base: str) -> dict[str, str]:
    made = {"admin": ADMIN}
    for name, role, reader in (("timekeeper", "timekeeper", None),
                               ("reader", "reader", GARBAGE_READER),
                               ("finish", "reader", FINISH_READER)):
        answer = httpx.post(f"{base}/api/tokens", json={"role": role, "reader": reader,
                                                        "label": f"soak {name}"},
                            headers={"authorization": f"Bearer {ADMIN}"}, timeout=10)
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["token"]
    return made


def race_csvs(base: str) -> dict[str, str]:
    return {race: httpx.get(f"{base}/api/races/{race}/results.csv", timeout=30).text
            for race in ("mile", "kids")}


async def journal_and_rebuild(database: Path) -> tuple[Counter[tuple[str, str, int]], str]:
    """(how often each read is in the journal, the results CSV of a rebuild from it)."""
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    try:
        event_id = next(iter((await store.event_ids()).values()))
        loaded = await store.load(event_id)
        standings = Standings(loaded.event, loaded.athletes, loaded.adjustments)
        reads: Counter[tuple[str, str, int]] = Counter()
        async for batch in store.replay(event_id):
            apply_all(standings, batch, settle=False)
            for item in batch:
                if isinstance(item.entry, ReadEntry):
                    read = item.entry.read
                    reads[(item.entry.reader_id, read.chip, int(read.time.timestamp() * 1000))
                          ] += 1
        standings.settle()
        return reads, results_csv(standings.event, standings.results())
    finally:
        await store.close()


def checked_soak(tmp_path: Path, seconds: float) -> SoakReport:
    """Run the soak against a fresh copy of the example event served from `tmp_path`, then
    check everything the docstring of tests/e2e/test_soak.py says (AssertionError if not)."""
    event = copy_example(tmp_path / "event")
    files = load_event(event)
    athletes = [Athlete(a.bib, a.chips[0]) for a in files.athletes if a.race == "mile"]
    others = [a.bib for a in files.athletes if a.race == "kids"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    command = ["serve", str(event), "--no-readers", "--port", str(port)]
    env = {"GAMBERO_ADMIN_TOKEN": ADMIN}
    process = start(command, env, log)
    try:
        wait_up(base, process, log)
        soak = Soak(base, tokens(base), athletes, others, FINISH_FROM_MS)
        report = asyncio.run(soak.run(seconds))
        assert report.failures == [], "\n".join(report.failures[:20])
        assert len(report.acknowledged) > 50 and report.requests > 300
        assert report.garbage_rejected > 0
        rows = {row["bib"]: row for row in httpx.get(
            f"{base}/api/races/mile/results", params={"limit": 1000}, timeout=30).json()["rows"]}
        for bib, moment in report.acknowledged.items():
            assert rows[bib]["passings_ms"] == [moment], (bib, rows[bib])
        admin = {"authorization": f"Bearer {ADMIN}"}
        assert httpx.get(f"{base}/api/quarantined", headers=admin, timeout=10).json() == []
        before = race_csvs(base)
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(45) == 0, log.read_text()[-3000:]
        assert time.monotonic() - stopping < 40
    finally:
        stop(process)
    reads, rebuilt = asyncio.run(journal_and_rebuild(event.parent / "gambero.db"))
    for bib, moment in report.acknowledged.items():
        chip = next(athlete.chip for athlete in athletes if athlete.bib == bib)
        assert reads[(FINISH_READER, chip, moment)] == 1, bib
    header = before["mile"].splitlines(keepends=True)[0]
    assert rebuilt == header + "".join(text.split("\n", 1)[1] for text in before.values())
    process = start(command, env, log)
    try:
        wait_up(base, process, log)
        assert race_csvs(base) == before
        assert httpx.get(f"{base}/api/quarantined", headers=admin, timeout=10).json() == []
    finally:
        stop(process)
    return report
