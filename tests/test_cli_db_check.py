"""`gambero db check` as an operator runs it on an event whose journal holds entries that cannot
apply (what an older version let in): it lists them, voids them with a reason, and the server
then starts without any set aside."""

from __future__ import annotations

import asyncio
from pathlib import Path

from timing.entries import ReadEntry, add_reader, gun
from timing.model import ReaderConfig
from timing.reads import Read
from timing.store import Store

from .core.test_core import START
from .store.events import copy_example
from .test_cli_db import gambero


async def poison(url: str) -> int:
    """The journal of issue 12's attack: a reader with a clock offset of 1e16 s and a read
    for it, and a gun at 2**63-1 ms; returns the first poisoned sequence number."""
    store = await Store.open(url)
    try:
        event_id = (await store.event_ids())["Backwards Mile 2026"]
        first = await store.last_seq(event_id) + 1
        await store.append(event_id, first, [
            add_reader(ReaderConfig("far", "finish", "ipico", clock_offset_ms=10**19)),
            ReadEntry("far", Read("058000120007", START), 0),
            gun("mile", 2**63 - 1)], recorded_ms=0)
        return first
    finally:
        await store.close()


def test_db_check_lists_then_voids_what_cannot_apply(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    assert gambero("import", str(event), cwd=tmp_path).returncode == 0
    clean = gambero("db", "check", str(event), cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert "0 set aside" in clean.stdout
    first = asyncio.run(poison(f"sqlite+aiosqlite:///{event.parent / 'gambero.db'}"))
    listed = gambero("db", "check", str(event), cwd=tmp_path)
    assert listed.returncode == 3, listed.stderr
    assert "2 set aside" in listed.stdout
    assert f"seq {first} (reader)" in listed.stdout and "more than a day" in listed.stdout
    assert f"seq {first + 2} (gun)" in listed.stdout and "no date can show it" in listed.stdout
    refused = gambero("db", "check", str(event), "--void", cwd=tmp_path)
    assert refused.returncode == 2 and "--reason" in refused.stderr
    one = gambero("db", "check", str(event), "--void", "--seq", str(first + 2), "--reason",
                  "gun typed in ms by mistake", cwd=tmp_path)
    assert one.returncode == 3, one.stdout + one.stderr
    assert f"seq {first + 2} voided (journal entry {first + 3})" in one.stdout
    rest = gambero("db", "check", str(event), "--void", "--reason", "attack of 2026-12",
                   cwd=tmp_path)
    assert rest.returncode == 0, rest.stdout + rest.stderr
    assert f"seq {first} voided" in rest.stdout
    after = gambero("db", "check", str(event), cwd=tmp_path)
    assert after.returncode == 0 and "0 set aside" in after.stdout
    assert gambero("score", str(event), cwd=tmp_path).returncode == 0


def test_db_check_of_a_missing_file_says_so(tmp_path: Path) -> None:
    run = gambero("db", "check", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert run.returncode == 2 and "no such file" in run.stderr
