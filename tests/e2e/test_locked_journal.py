"""A journal that cannot take a write, in a real server process: another process holds the
SQLite file's write lock. The write is answered with 503 within bounded time (never left
hanging), Ctrl-C still stops the server, and once the lock is gone the same read is taken as
new (nothing of it was journaled)."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import httpx

from tests.api.processes import free_port, start, stop, wait_up
from tests.store.events import copy_example

ADMIN = "gmb_locked-journal-test-token-0123"
READ = {"reads": [{"chip": "058000120007", "time_ms": 1778397000000}]}


def test_a_locked_journal_answers_503_and_the_server_still_stops(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    command = ["serve", str(event), "--no-readers", "--port", str(port)]
    headers = {"authorization": f"Bearer {ADMIN}"}
    process = start(command, {"GAMBERO_ADMIN_TOKEN": ADMIN}, log)
    lock = sqlite3.connect(event.parent / "gambero.db", isolation_level=None, timeout=30)
    try:
        wait_up(base, process, log)
        lock.execute("BEGIN EXCLUSIVE")
        asked = time.monotonic()
        answer = httpx.post(f"{base}/api/readers/finish-main/reads", json=READ,
                            headers=headers, timeout=60)
        assert answer.status_code == 503, answer.text
        assert "locked" in answer.json()["detail"] and "send it again" in answer.json()["detail"]
        assert time.monotonic() - asked < 35
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(45) == 0, log.read_text()[-2000:]
        assert time.monotonic() - stopping < 40
    finally:
        if lock.in_transaction:
            lock.rollback()
        lock.close()
        stop(process)
    process = start(command, {"GAMBERO_ADMIN_TOKEN": ADMIN}, log)
    try:
        wait_up(base, process, log)
        again = httpx.post(f"{base}/api/readers/finish-main/reads", json=READ, headers=headers,
                           timeout=30)
        assert again.status_code == 200 and again.json()["accepted"] == 1, again.text
    finally:
        stop(process)
