"""`gambero import` and `gambero db upgrade` as an operator runs them, in a subprocess, on a copy
of the example event: the database beside event.toml (SQLite) or where DATABASE_URL says."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from timing.eventfile import load_event
from timing.store import Store

from .databases import postgres_url, reset_postgres
from .store.events import EXAMPLE_BIBS, copy_example, edit_participants
from .store.schema import TABLES, head_revision

ROOT = Path(__file__).resolve().parents[1]


def gambero(*args: str, cwd: Path, database: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    if database is not None:
        env["DATABASE_URL"] = database
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "gambero", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120, check=False)


def sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = {str(row[0]) for row in rows}
    connection.close()
    return names


def first_import_lines(event: Path, database: str, schema: str) -> list[str]:
    return [f"database {database}: {schema}",
            f'imported {event} as event "Backwards Mile 2026" (id 1)',
            "event created: 300 participants added, 0 changed, 0 removed; 2 adjustments "
            "(were 0)",
            f"added (300): {' '.join(EXAMPLE_BIBS)}"]


def test_import_creates_the_database_beside_the_event(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = gambero("import", str(event), cwd=elsewhere)
    assert run.returncode == 0, run.stderr
    database = event.parent / "gambero.db"
    url = f"sqlite+aiosqlite:///{database.resolve()}"
    assert run.stdout.splitlines() == first_import_lines(
        event, url, f"schema created at revision {head_revision()}")
    assert run.stderr == ""
    assert list(elsewhere.iterdir()) == []
    assert sqlite_tables(database) == TABLES | {"alembic_version"}


async def test_imported_event_loads_back(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    run = gambero("import", "event/event.toml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    files = load_event(event)
    store = await Store.open(f"sqlite+aiosqlite:///{event.parent / 'gambero.db'}")
    try:
        assert await store.event_ids() == {"Backwards Mile 2026": 1}
        loaded = await store.load(1)
        assert (loaded.event, loaded.athletes, loaded.adjustments) == (
            files.event, files.athletes, files.adjustments)
    finally:
        await store.close()


def test_reimport_after_an_edit_reports_the_changes(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    assert gambero("import", str(event), cwd=tmp_path).returncode == 0
    again = gambero("import", str(event), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1:] == [
        f'imported {event} as event "Backwards Mile 2026" (id 1)',
        "event updated: 0 participants added, 0 changed, 0 removed; 2 adjustments"]
    edit_participants(event)
    edited = gambero("import", str(event), cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    url = f"sqlite+aiosqlite:///{(event.parent / 'gambero.db').resolve()}"
    assert edited.stdout.splitlines() == [
        f"database {url}: schema already at revision {head_revision()}, nothing to do",
        f'imported {event} as event "Backwards Mile 2026" (id 1)',
        "event updated: 1 participants added, 5 changed, 1 removed; 2 adjustments",
        "added (1): 531",
        "changed 3: first_name",
        "changed 5: chips",
        "changed 8: chips",
        "changed 9: chips",
        "changed 41: wave",
        "removed (1): 270",
    ]
    assert edited.stderr == ""


def test_bad_participant_rows_are_reported_with_file_and_line(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    participants = event.parent / "participants.csv"
    lines = participants.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(",F,", ",Q,")
    assert lines[5].startswith("5,Martina,Hoffmann,Q,")
    participants.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = gambero("import", str(event), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [
        f"warning: {participants}:6: bib 5 skipped: gender must be F, M or X, not 'Q'",
        "1 problem reported: rows with mistakes were not imported"]
    summary = run.stdout.splitlines()[2]
    assert summary == ("event created: 299 participants added, 0 changed, 0 removed; "
                       "2 adjustments (were 0)")


def test_a_broken_event_is_refused_with_located_errors(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    text = event.read_text(encoding="utf-8")
    event.write_text(text.replace('gun = "10:00:00"', 'gun = "ten"'), encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == 'gun = "10:00:00"')
    run = gambero("import", str(event), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"error: {event}:{line}: races[1].gun: must be a time of day HH:MM[:SS[.fff]] or a "
        "local date and time YYYY-MM-DDTHH:MM:SS, not 'ten'",
        f"gambero import: {event} cannot be imported"]
    assert run.stdout == ""
    assert not (event.parent / "gambero.db").exists()


def test_db_upgrade_creates_the_schema_of_a_fresh_folder(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    database = event.parent / "gambero.db"
    url = f"sqlite+aiosqlite:///{database.resolve()}"
    run = gambero("db", "upgrade", str(event), cwd=tmp_path)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == f"database {url}: schema created at revision {head_revision()}\n"
    assert sqlite_tables(database) == TABLES | {"alembic_version"}
    again = gambero("db", "upgrade", str(event), cwd=tmp_path)
    assert again.stdout == (f"database {url}: schema already at revision {head_revision()}, "
                            "nothing to do\n")


def test_db_upgrade_needs_an_event_or_database_url(tmp_path: Path) -> None:
    run = gambero("db", "upgrade", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == ("gambero db upgrade: give EVENT.toml (its database is gambero.db "
                          "beside it) or set DATABASE_URL\n")
    missing = gambero("db", "upgrade", "nowhere/event.toml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "gambero db upgrade: nowhere/event.toml: no such file\n"
    assert list(tmp_path.iterdir()) == []


def test_db_upgrade_with_database_url_names_the_sqlite_file(tmp_path: Path) -> None:
    target = tmp_path / "named.db"
    run = gambero("db", "upgrade", cwd=tmp_path, database=f"sqlite:///{target}")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (f"database sqlite+aiosqlite:///{target}: schema created at revision "
                          f"{head_revision()}\n")
    assert sqlite_tables(target) == TABLES | {"alembic_version"}


def test_an_unreachable_database_is_reported(tmp_path: Path) -> None:
    event = copy_example(tmp_path / "event")
    url = "postgresql://timer:secret@127.0.0.1:1/race"
    run = gambero("import", str(event), cwd=tmp_path, database=url)
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith(
        "gambero import: database postgresql+asyncpg://timer:***@127.0.0.1:1/race: ")
    assert "secret" not in run.stderr
    assert not (event.parent / "gambero.db").exists()


async def test_postgresql_through_database_url(tmp_path: Path) -> None:
    url = postgres_url()
    await reset_postgres(url)
    raw = os.environ["GAMBERO_TEST_POSTGRES_URL"].strip()
    event = copy_example(tmp_path / "event")
    upgrade = gambero("db", "upgrade", cwd=tmp_path, database=raw)
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout == (f"database {url}: schema created at revision "
                              f"{head_revision()}\n")
    run = gambero("import", str(event), cwd=tmp_path, database=raw)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == first_import_lines(
        event, url, f"schema already at revision {head_revision()}, nothing to do")
    assert not (event.parent / "gambero.db").exists()
    edit_participants(event)
    edited = gambero("import", str(event), cwd=tmp_path, database=raw)
    assert edited.stdout.splitlines()[2:] == [
        "event updated: 1 participants added, 5 changed, 1 removed; 2 adjustments",
        "added (1): 531", "changed 3: first_name", "changed 5: chips", "changed 8: chips",
        "changed 9: chips", "changed 41: wave", "removed (1): 270"]
    store = await Store.open(url, migrate=False)
    try:
        loaded = await store.load(1)
        assert {a.bib: a for a in loaded.athletes} == {
            a.bib: a for a in load_event(event).athletes}
    finally:
        await store.close()
