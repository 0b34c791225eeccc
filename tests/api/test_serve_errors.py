"""Start-up errors of `gambero serve`, `gambero demo` and `gambero readers run`, each through a
real process: exit status 1 or 2, one line on stderr saying what is wrong and what to do, and no
traceback. And a server that did start still stops cleanly on SIGTERM and Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from timing.core import TimingCore
from timing.store import Store, database_url

from .conftest import EXAMPLE
from .processes import free_port, start, stop, wait_up


def gambero(args: list[str], env: dict[str, str] | None = None, timeout: float = 60
            ) -> tuple[int, str]:
    """Run `gambero ARGS` to its end: (exit status, stderr)."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run([sys.executable, "-m", "gambero", *args],
                          env={**environment, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return done.returncode, done.stderr


def failure(stderr: str, command: str) -> str:
    """The one error line: the last line, the only one besides `serve`'s announcement."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(f"gambero {command}:")
              and "; http://" not in line]
    assert errors == [lines[-1]], stderr
    return lines[-1]


@pytest.fixture
def event(tmp_path: Path) -> Path:
    folder = tmp_path / "event"
    shutil.copytree(EXAMPLE.parent, folder)
    return folder / "event.toml"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_a_bad_event_toml_is_one_line_and_status_2(event: Path) -> None:
    with event.open("a", encoding="utf-8") as toml:
        toml.write("\nbroken = [\n")
    status, err = gambero(["serve", str(event), "--port", str(free_port())])
    line = failure(err, "serve")
    assert status == 2
    assert "not valid TOML" in line and f"fix {event} and start again" in line


def test_a_port_in_use_is_one_line_before_anything_is_opened(event: Path, busy_port: int
                                                             ) -> None:
    status, err = gambero(["serve", str(event), "--port", str(busy_port)])
    assert status == 1
    assert failure(err, "serve") == (
        f"gambero serve: port {busy_port} on 127.0.0.1 is already in use (another gambero "
        "serve or demo, or another server) - stop that one, or choose another port with --port")
    assert not (event.parent / "gambero.db").exists()  # refused before the import


def test_demo_on_a_port_in_use_is_one_line(tmp_path: Path, busy_port: int) -> None:
    status, err = gambero(["demo", "--port", str(busy_port), "--dir", str(tmp_path / "demo")])
    assert status == 1
    assert f"port {busy_port} on 127.0.0.1 is already in use" in failure(err, "demo")


def test_a_database_that_cannot_be_reached_is_one_line(event: Path) -> None:
    url = f"postgresql+asyncpg://gambero@127.0.0.1:{free_port()}/nowhere"
    status, err = gambero(["serve", str(event), "--port", str(free_port())],
                          env={"DATABASE_URL": url})
    line = failure(err, "serve")
    assert status == 1
    assert line.startswith(f"gambero serve: cannot use the database {url}: ")
    assert line.endswith("check that it is running and reachable, and DATABASE_URL")
    status, err = gambero(["readers", "run", str(event)], env={"DATABASE_URL": url})
    assert status == 1
    assert failure(err, "readers run").startswith(f"gambero readers run: database {url}: ")


def test_a_redis_that_cannot_be_reached_is_one_line_without_its_password(event: Path
                                                                         ) -> None:
    port = free_port()
    status, err = gambero(["serve", str(event), "--port", str(free_port()), "--no-readers"],
                          env={"REDIS_URL": f"redis://:hush@127.0.0.1:{port}/0"})
    line = failure(err, "serve")
    assert status == 1 and "hush" not in err
    assert line.startswith(f"gambero serve: Redis at redis://:***@127.0.0.1:{port}/0 is not "
                           "reachable: ")
    assert line.endswith(" - check REDIS_URL, and that Redis is running")


def test_an_event_whose_journal_another_process_writes_is_one_line(event: Path) -> None:
    assert gambero(["import", str(event)])[0] == 0

    async def with_the_journal_held() -> list[tuple[int, str]]:
        store = await Store.open(database_url(event.parent))
        core = await TimingCore.start(store, next(iter((await store.event_ids()).values())))
        try:  # this process writes the journal; serve and readers run are refused
            return [await asyncio.to_thread(gambero, args) for args in (
                ["serve", str(event), "--port", str(free_port()), "--no-readers"],
                ["readers", "run", str(event)])]
        finally:
            await core.stop()
            await store.close()

    (serve_status, serve_err), (run_status, run_err) = asyncio.run(with_the_journal_held())
    held = (f"the journal of event 'Backwards Mile 2026' in {event.parent / 'gambero.db'} is "
            f"already being written by another Gambero process (pid {os.getpid()}), `gambero "
            "serve` or `gambero readers run` - stop that one first, or keep using it")
    assert serve_status == 1
    assert failure(serve_err, "serve") == (f"gambero serve: {held} (a second web process "
                                           "beside it: --web-only, with REDIS_URL)")
    assert run_status == 1
    assert failure(run_err, "readers run") == f"gambero readers run: {held}"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_started_server_stops_cleanly_on_a_signal(event: Path, tmp_path: Path,
                                                    stop_signal: signal.Signals) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    process = start(["serve", str(event), "--port", str(port), "--no-readers"], {}, log)
    try:
        wait_up(f"http://127.0.0.1:{port}", process, log)
        process.send_signal(stop_signal)
        assert process.wait(30) == 0, log.read_text()
    finally:
        stop(process)
    text = log.read_text()
    assert "Traceback" not in text and "Finished server process" in text
    assert f"Uvicorn running on http://127.0.0.1:{port}" in text
    status, err = gambero(["serve", "--port", str(port), "--event", "nope"],
                          env={"DATABASE_URL": database_url(event.parent)})
    assert status == 2
    assert failure(err, "serve") == ("gambero serve: no event called 'nope' in the database "
                                     "(events: Backwards Mile 2026)")
