"""A small live race for the browser tests: an event folder whose races have no gun yet, a
`gambero serve` process on 127.0.0.1 (a free port, restartable on the same port), and a
driver that fires guns and posts chip reads through the API as a network reader would."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"

ATHLETES: list[tuple[str, str, str, str, str, str, str]] = [
    # bib, first, last, gender, birth date, race, club
    ("1", "Giulia", "Bianchi", "F", "1990-03-02", "mile", "Gambero Athletic"),
    ("2", "Marco", "Rossi", "M", "1985-07-14", "mile", "Podistica Contromano"),
    ("3", "Anna", "Müller", "F", "1978-11-30", "mile", ""),
    ("4", "Luca", "Ferrari", "M", "1999-01-21", "mile", "Gambero Athletic"),
    ("5", "Sofia", "Esposito", "F", "2001-05-09", "mile", ""),
    ("6", "Jonas", "Weber", "M", "1969-09-04", "mile", "LG Rückwärts"),
    ("7", "Chiara", "Ricci", "F", "1983-02-17", "mile", ""),
    ("8", "Paolo", "Romano", "M", "1975-12-01", "mile", ""),
    ("31", "Leo", "Conti", "M", "2014-04-04", "kids", ""),
    ("32", "Emma", "Greco", "F", "2013-08-08", "kids", ""),
    ("33", "Tommaso", "Gallo", "M", "2015-06-06", "kids", ""),
]


def chip(bib: str) -> str:
    return f"E2E{int(bib):05d}"


def make_event(folder: Path) -> Path:
    """Write event.toml and participants.csv for today (UTC); no gun is fired yet."""
    folder.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date().isoformat()
    (folder / "event.toml").write_text(f"""
[event]
name = "E2E Backwards Mile"
date = "{today}"
timezone = "UTC"

[categories]
age_bounds = [0, 20, 30, 40, 50, 60, 70]

[[races]]
id = "mile"
name = "Backwards Mile"
distance_m = 1609.344
points = ["half", "finish"]

[[races]]
id = "kids"
name = "Kids' 400 m"
distance_m = 400
points = ["finish"]
precision = "0.1"

[[points]]
id = "half"
kind = "split"
distance_m = 804.672

[[points]]
id = "finish"
kind = "finish"

[[readers]]
id = "half-box"
point = "half"
format = "ultra"

[[readers]]
id = "finish-main"
point = "finish"
format = "ipico"
""", encoding="utf-8")
    lines = ["bib,first_name,last_name,gender,birth_date,race,wave,chips,club"]
    lines += [f"{bib},{first},{last},{gender},{born},{race},,{chip(bib)},{club}"
              for bib, first, last, gender, born, race, club in ATHLETES]
    (folder / "participants.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "event.toml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    event: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    command: tuple[str, ...] = ()
    """The gambero subcommand and its arguments; empty: `serve EVENT.toml`."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, "GAMBERO_ADMIN_TOKEN": ADMIN_TOKEN}
        env.pop("DATABASE_URL", None)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gambero", *(self.command or ("serve", str(self.event))),
                 "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gambero serve exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                self.get("/api/health")
                return
            time.sleep(0.1)
        raise RuntimeError(f"gambero serve did not answer in {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    # -- the race -------------------------------------------------------------------------------

    def fire_gun(self, race: str, time_ms: int) -> None:
        self.post(f"/api/races/{race}/gun", {"time_ms": time_ms, "wave": None})

    def read(self, reader: str, bib: str, time_ms: int) -> dict[str, Any]:
        return self.read_chip(reader, chip(bib), time_ms)

    def read_chip(self, reader: str, code: str, time_ms: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.post(
            f"/api/readers/{reader}/reads", {"reads": [{"chip": code, "time_ms": time_ms}]})
        return answer


@contextlib.contextmanager
def serving(folder: Path, log_dir: Path) -> Iterator[Server]:
    server = Server(make_event(folder), free_port(), log_dir / f"server-{folder.name}.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def demo(folder: Path, log_dir: Path, speed: float, athletes: int) -> Iterator[Server]:
    """`gambero demo` in `folder`: its own generated race, run `speed` times real time."""
    server = Server(folder / "event.toml", free_port(), log_dir / "server-demo.log",
                    command=("demo", "--speed", f"{speed:g}", "--athletes", str(athletes),
                             "--dir", str(folder)))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def now_ms() -> int:
    return int(time.time() * 1000)
