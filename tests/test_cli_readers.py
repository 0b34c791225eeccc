"""`gambero readers run` and `gambero readers status`: the example's recordings replayed into the
journal (results equal `gambero score`), a reader that cannot be reached shown as down, a
stop by SIGTERM, and an event that was not imported."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gambero.cli import main
from gambero.offline import score_event
from readers.health import API_FIELDS
from timing.core import TimingCore
from timing.results import results_csv
from timing.store import Store, database_url

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "backwards-mile"


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    folder = tmp_path / "event"
    shutil.copytree(EXAMPLE, folder)
    return folder / "event.toml"


async def live_results(event_toml: Path) -> tuple[str, int]:
    store = await Store.open(database_url(event_toml.parent))
    try:
        event_id = next(iter((await store.event_ids()).values()))
        core = await TimingCore.start(store, event_id)
        try:
            return results_csv(core.event, core.standings.results()), \
                await store.count(event_id, "read")
        finally:
            await core.stop()
    finally:
        await store.close()


def test_run_replays_recordings_into_the_journal_and_status_shows_them(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(example)]) == 0
    assert main(["readers", "run", str(example)]) == 0     # recordings only: stops by itself
    capsys.readouterr()
    assert main(["readers", "status", str(example)]) == 1   # not running any more
    table = capsys.readouterr().out
    assert "stopped" in table.splitlines()[0]
    assert table.count("  file ") == 5
    assert main(["readers", "status", "--json", str(example)]) == 1
    document = json.loads(capsys.readouterr().out)
    readers = {reader["id"]: reader for reader in document["readers"]}
    assert set(API_FIELDS) <= set(readers["finish-main"])
    assert readers["finish-main"]["transport"] == "file"
    assert readers["finish-main"]["duplicates"] > 0          # IPICO repeats collapsed
    assert readers["finish-backup"]["rejected"] == 1
    results, stored = asyncio.run(live_results(example))
    assert stored == sum(reader["reads"] for reader in readers.values())
    expected = score_event(example).standings.results()
    assert results == results_csv(score_event(example).files.event, expected)


def test_a_health_file_that_cannot_be_written_is_logged_once_and_the_readers_keep_running(
        example: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert main(["import", str(example)]) == 0
    unwritable = tmp_path / "no-such-folder" / "health.json"
    assert main(["readers", "run", "--health-file", str(unwritable), str(example)]) == 0
    failures = [record for record in caplog.records
                if "cannot write the health file" in record.getMessage()]
    assert len(failures) == 1                      # once, though every write failed
    results, stored = asyncio.run(live_results(example))
    assert stored > 0                              # the recordings were journaled all the same
    expected = score_event(example).standings.results()
    assert results == results_csv(score_event(example).files.event, expected)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_reader_that_cannot_be_reached_is_shown_down_and_sigterm_stops_run(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = example.read_text(encoding="utf-8")
    text = text.replace('path = "reads/finish-ipico.txt"', f'host = "127.0.0.1:{free_port()}"')
    example.write_text(text, encoding="utf-8")
    assert main(["import", str(example)]) == 0
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "gambero", "readers", "run", str(example)],
                               cwd=example.parent, env=environment, stderr=subprocess.PIPE,
                               text=True)
    try:
        health = example.parent / "readers-health.json"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            if health.exists():
                document = json.loads(health.read_text(encoding="utf-8"))
                down = [r for r in document["readers"] if r["id"] == "finish-main"]
                # past "not connected yet": the first attempt to connect has failed
                if down and "cannot connect" in (down[0]["alarm"] or ""):
                    break
            assert time.monotonic() < deadline, "no health file with the alarm"
            time.sleep(0.1)
        capsys.readouterr()
        assert main(["readers", "status", str(example)]) == 0     # running, fresh
        table = capsys.readouterr().out
        line = next(row for row in table.splitlines() if row.startswith("finish-main"))
        assert "DOWN" in line and "tcp 127.0.0.1:" in line
        assert "! finish-main: disconnected: cannot connect" in table
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors
    assert "stopped: journal at sequence" in errors
    assert main(["readers", "status", str(example)]) == 1
    assert "stopped" in capsys.readouterr().out.splitlines()[0]


def test_run_needs_the_event_imported_first(example: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["readers", "run", str(example)]) == 2
    assert "run `gambero import" in capsys.readouterr().err
    assert main(["readers", "status", str(example)]) == 1
    assert "no health file" in capsys.readouterr().err


def test_run_refuses_an_event_whose_journal_another_process_writes(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(example)]) == 0
    capsys.readouterr()

    async def hold_and_run() -> int:
        store = await Store.open(database_url(example.parent))
        core = await TimingCore.start(store, next(iter((await store.event_ids()).values())))
        try:  # `gambero readers run` in another process while this core writes the journal
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gambero", "readers", "run", str(example),
                stderr=subprocess.PIPE)
            _, err = await asyncio.wait_for(process.communicate(), 60)
            assert "already being written by another Gambero process" in err.decode()
            return process.returncode or 0
        finally:
            await core.stop()
            await store.close()

    assert asyncio.run(hold_and_run()) == 1
