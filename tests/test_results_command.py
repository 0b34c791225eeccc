"""`gambero results` on a served event: a race run through the API (guns, manual entries, a DQ,
penalties), then the command's results equal `GET /api/results.csv` and the per-race files
joined, byte for byte, also after the server restarted; the spreadsheet has the same cells; and
each way the command can fail says why, with its exit status."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from api.app import create_app
from api.runtime import Options
from api.server import ADMIN_ENV, running
from gambero.cli import main

from .databases import BACKENDS, fresh_url

ADMIN = "gmb_test-admin-token-for-gambero-results"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
CLUB_FORMULA = '=HYPERLINK("http://evil.example","x")'
"""A club a spreadsheet would run as a formula: the results must show it as text."""
PARTICIPANTS = [  # bib, first, last, gender, race, wave, club
    ("1", "Ada", "Rossi", "F", "mile", "elite", "Gambero Athletic"),
    ("2", "Bruno", "Verdi", "M", "mile", "elite", "LG Rückwärts München"),
    ("3", "Carla", "Neri", "F", "mile", "open", ""),
    ("4", "Dario", "Bianchi", "M", "mile", "open", CLUB_FORMULA),
    ("5", "Elena", "Gallo", "F", "mile", "open", "Gambero Athletic"),
    ("6", "Fabio", "Costa", "M", "mile", "open", ""),          # half only: DNF
    ("7", "Gino", "Ferri", "M", "mile", "open", ""),           # nothing: DNS
    ("10", "Ivo", "Marino", "M", "kids", "", "Scuola Gambero"),
    ("11", "Lia", "Greco", "F", "kids", "", "Scuola Gambero"),
    ("12", "Mia", "Conti", "F", "kids", "", ""),
]


def event_toml(today: str, zone: str) -> str:
    # No gun in the file: the desk fires them (the elite wave its own, the open wave the race's).
    return f"""[event]
name = "Results Night"
date = "{today}"
timezone = "{zone}"

[categories]
age_bounds = [0, 20, 40]

[[races]]
id = "mile"
name = "Backwards Mile"
distance_m = 1609.344
min_lap_s = 30

  [[races.waves]]
  id = "elite"

  [[races.waves]]
  id = "open"

[[races]]
id = "kids"
name = "Kids: 400 m"
points = ["finish"]
min_lap_s = 30
precision = "0.1"

[[points]]
id = "half"
kind = "split"

[[points]]
id = "finish"
kind = "finish"

[[readers]]
id = "half-desk"
point = "half"
format = "manual"

[[readers]]
id = "finish-desk"
point = "finish"
format = "manual"
"""


def write_event(folder: Path) -> Path:
    """The event, on today's date in a zone where it is now about noon: the desk's times (a
    few minutes ago) are then on the event's day whenever the test runs."""
    now = datetime.now(UTC)
    offset = 12 - now.hour                       # -11 .. +12
    zone = f"Etc/GMT{-offset:+d}"                # POSIX zones count the other way round
    today = (now + timedelta(hours=offset)).date().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "event.toml").write_text(event_toml(today, zone), encoding="utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["bib", "first_name", "last_name", "gender", "birth_date", "race", "wave",
                     "chips", "club"])
    for bib, first, last, gender, race, wave, club in PARTICIPANTS:
        born = "2015-03-01" if race == "kids" else "1990-03-01"
        writer.writerow([bib, first, last, gender, born, race, wave, f"chip{bib}", club])
    (folder / "participants.csv").write_text(out.getvalue(), encoding="utf-8")
    return folder / "event.toml"


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """(event.toml, the database URL): on SQLite the default database beside event.toml, on
    PostgreSQL the one DATABASE_URL names, as an operator would set it."""
    event = write_event(tmp_path / "event")
    monkeypatch.setenv(ADMIN_ENV, ADMIN)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = await fresh_url(str(request.param), event.parent)
    if request.param == "postgresql":
        monkeypatch.setenv("DATABASE_URL", url)
    return event, url


@contextlib.asynccontextmanager
async def served(event: Path, url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(lambda: running(url, event, Options(frame_interval=0.05,
                                                         health_interval=0.2)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gambero") as client:
            yield client


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    answer = await client.post(path, json=body, headers=AUTH)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


async def run_the_race(client: httpx.AsyncClient) -> None:
    gun = (time.time_ns() // 1_000_000 // 1000 - 20 * 60) * 1000  # 20 minutes ago
    await post(client, "/api/races/mile/gun", {"time_ms": gun - 60_000, "wave": "elite"})
    await post(client, "/api/races/mile/gun", {"time_ms": gun, "wave": None})
    await post(client, "/api/races/kids/gun", {"time_ms": gun + 5 * 60_000, "wave": None})
    finish = {"1": 400_200, "2": 420_000, "3": 405_500, "4": 405_500, "5": 430_000}
    entries = [{"bib": bib, "time_ms": gun + ms, "point": None} for bib, ms in finish.items()]
    entries += [{"bib": bib, "time_ms": gun + 200_000 + int(bib) * 1000, "point": "half"}
                for bib in ("1", "2", "3", "6")]
    entries += [{"bib": "10", "time_ms": gun + 5 * 60_000 + 95_240, "point": None},
                {"bib": "11", "time_ms": gun + 5 * 60_000 + 91_010, "point": None}]
    counts = await post(client, "/api/manual", {"entries": entries})
    assert counts["accepted"] == len(entries)
    # The same finish typed twice a second apart: a duplicate, not a second lap.
    await post(client, "/api/manual", {"entries": [
        {"bib": "5", "time_ms": gun + 431_000, "point": None}]})
    await post(client, "/api/athletes/2/status", {"status": "DQ", "reason": "ran forwards"})
    await post(client, "/api/athletes/3/penalty", {"ms": 10_000, "reason": "false start"})
    await post(client, "/api/athletes/11/penalty", {"ms": 5_000, "reason": "cut the bend"})
    await post(client, "/api/athletes/11/penalty", {"ms": 2_500, "reason": "and again"})
    # A finish typed for the wrong bib, voided; a bib nobody has, given to the right bib.
    await post(client, "/api/manual", {"entries": [
        {"bib": "7", "time_ms": gun + 300_000, "point": None},
        {"bib": "12345", "time_ms": gun + 5 * 60_000 + 99_000, "point": None}]})
    listed = await client.get("/api/athletes/7/passings", headers=AUTH)
    [wrong] = listed.json()
    await post(client, "/api/void", {"seq": wrong["seq"], "reason": "was bib 17's"})
    [unknown] = (await client.get("/api/unknown-bibs", headers=AUTH)).json()
    await post(client, "/api/reassign", {"seq": unknown["seq"], "bib": "12",
                                         "reason": "12345 was 12"})


async def api_csv(client: httpx.AsyncClient) -> tuple[bytes, bytes]:
    """(GET /api/results.csv, the per-race files joined under one header)."""
    whole = await client.get("/api/results.csv")
    assert whole.status_code == 200 and whole.headers["content-type"].startswith("text/csv")
    joined = b""
    for race in ("mile", "kids"):
        part = (await client.get(f"/api/races/{race}/results.csv")).content
        joined += part if not joined else part.split(b"\n", 1)[1]
    return whole.content, joined


async def gambero_results(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`gambero results ...` in a thread (it runs its own event loop), with its output."""
    capsys.readouterr()
    status = await asyncio.to_thread(main, ["results", *args])
    out, err = capsys.readouterr()
    return status, out, err


def rows_of(text: str | bytes) -> dict[str, dict[str, str]]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return {row["bib"]: row for row in csv.DictReader(io.StringIO(text))}


async def test_results_equal_the_servers_before_and_after_a_restart(
        database: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    event, url = database
    async with served(event, url) as client:
        await run_the_race(client)
        whole, joined = await api_csv(client)
        # Beside the running server: it only reads.
        status, out, err = await gambero_results(capsys, str(event))
    assert status == 0, err
    assert out.encode("utf-8") == whole == joined
    assert "results of 'Results Night': 10 athletes in 2 races" in err

    rows = rows_of(whole)
    # Finishers by place, then DNF, DQ, DNS; race by race in event.toml's order.
    assert list(rows) == ["4", "3", "5", "1", "6", "2", "7", "10", "11", "12"]
    assert whole.decode().splitlines()[0].endswith(",laps,split_half,club,penalty")
    assert {bib: row["club"] for bib, row in rows.items() if bib != "4"} == {
        bib: club for bib, *_, club in PARTICIPANTS if bib != "4"}
    assert rows["4"]["club"] == "'" + CLUB_FORMULA  # neutralised, as every cell is
    # Tied with bib 4 at 6:45.5 by the reads, behind it with the penalty (rounded up).
    assert (rows["3"]["penalty"], rows["3"]["gun_time"], rows["3"]["place"]) == (
        "0:10", "6:56", "2")
    assert (rows["4"]["gun_time"], rows["4"]["place"]) == ("6:46", "1")
    # Two penalties add up; the kids' race shows tenths. 1:31.01 + 7.5 s puts 11 behind 10.
    assert (rows["11"]["penalty"], rows["11"]["gun_time"]) == ("0:07.5", "1:38.6")
    assert (rows["10"]["place"], rows["11"]["place"]) == ("1", "2")
    assert {bib for bib, row in rows.items() if row["penalty"]} == {"3", "11"}
    assert (rows["2"]["status"], rows["2"]["place"], rows["2"]["gun_time"]) == ("DQ", "", "")
    assert (rows["6"]["status"], rows["6"]["split_half"]) == ("DNF", "3:26")
    assert (rows["1"]["gun_time"], rows["1"]["split_half"]) == ("7:41", "4:21")  # elite gun
    assert rows["5"]["laps"] == "1"  # the second entry was a duplicate
    assert (rows["7"]["status"], rows["7"]["gun_time"]) == ("DNS", "")  # its finish voided
    assert (rows["12"]["place"], rows["12"]["gun_time"]) == ("3", "1:39.0")  # reassigned

    # A restart: a new core, its standings rebuilt from the journal.
    async with served(event, url) as client:
        again, joined_again = await api_csv(client)
    assert again == joined_again == whole
    status, out, err = await gambero_results(capsys, str(event))
    assert status == 0, err
    assert out.encode("utf-8") == whole

    written = event.parent / "final.csv"
    status, out, _ = await gambero_results(capsys, str(event), "-o", str(written))
    assert (status, out) == (0, "")
    assert written.read_bytes() == whole
    nowhere = event.parent / "no-such-folder" / "final.xlsx"
    status, _, err = await gambero_results(capsys, str(event), "--format", "xlsx", "-o",
                                           str(nowhere))
    assert status == 2 and f"cannot write {nowhere}: No such file or directory" in err

    book_path = event.parent / "final.xlsx"
    status, _, err = await gambero_results(capsys, str(event), "--format", "xlsx", "-o",
                                           str(book_path))
    assert status == 0, err
    book = load_workbook(book_path)
    assert book.sheetnames == ["All", "Backwards Mile", "Kids- 400 m"]
    expected = list(csv.reader(io.StringIO(whole.decode())))
    assert cells(book["All"]) == expected
    assert cells(book["Backwards Mile"]) == [expected[0], *(r for r in expected if r[0] == "mile")]
    assert cells(book["Kids- 400 m"]) == [expected[0], *(r for r in expected if r[0] == "kids")]
    sheet = book["All"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold and not sheet["A2"].font.bold
    header = expected[0]
    first = 2  # bib 4, the winner
    gun_time = sheet.cell(row=first, column=header.index("gun_time") + 1)
    assert (gun_time.value, gun_time.data_type) == ("6:46", "s")  # text, not a clock time
    club = sheet.cell(row=first, column=header.index("club") + 1)
    assert (club.value, club.data_type) == ("'" + CLUB_FORMULA, "s")  # not a formula
    assert sheet.cell(row=first, column=header.index("place") + 1).value == 1  # a number


def cells(sheet: Any) -> list[list[str]]:
    """A sheet's cells as the CSV's text (empty cells are None; places are numbers)."""
    return [["" if value is None else str(value) for value in row]
            for row in sheet.iter_rows(values_only=True)]


async def test_without_openpyxl_it_says_how_to_install_it(
        database: tuple[Path, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    event, url = database
    async with served(event, url):
        pass
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now fails
    status, out, err = await gambero_results(capsys, str(event), "--format", "xlsx", "-o",
                                             str(event.parent / "r.xlsx"))
    assert (status, out) == (2, "")
    assert "pip install 'gambero[xlsx]'" in err
    assert not (event.parent / "r.xlsx").exists()
    status, _, err = await gambero_results(capsys, str(event), "--format", "xlsx")
    assert status == 2 and "-o FILE.xlsx" in err


async def test_an_event_never_served_is_named_not_made(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    event = write_event(tmp_path / "event")
    status, out, err = await gambero_results(capsys, str(event))
    assert (status, out) == (2, "")
    assert f"no database at {event.parent / 'gambero.db'}" in err and "gambero import" in err
    assert not (event.parent / "gambero.db").exists()  # no empty database left behind
    status, _, err = await gambero_results(capsys, str(tmp_path / "nope.toml"))
    assert status == 2 and "nope.toml: no such file" in err


async def test_an_empty_database_or_another_event_is_refused(
        database: tuple[Path, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    event, url = database
    if url.startswith("sqlite"):
        (event.parent / "gambero.db").write_bytes(b"")  # an empty file: no schema
    status, _, err = await gambero_results(capsys, str(event))
    assert status == 2 and "holds no Gambero event" in err and "gambero import" in err
    async with served(event, url):
        pass
    text = event.read_text(encoding="utf-8")
    event.write_text(text.replace('"Results Night"', '"Another Night"'), encoding="utf-8")
    status, out, err = await gambero_results(capsys, str(event))
    assert (status, out) == (2, "")
    assert "no event 'Another Night' in the database (events: Results Night)" in err


async def test_a_database_that_cannot_be_opened_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    event = write_event(tmp_path / "event")
    (event.parent / "gambero.db").write_bytes(b"this is not an SQLite database, " * 64)
    status, out, err = await gambero_results(capsys, str(event))
    assert (status, out) == (1, "")
    assert "gambero results: database sqlite+aiosqlite:///" in err and "not a database" in err
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    status, _, err = await gambero_results(capsys, str(event))
    assert status == 1 and "database postgresql+asyncpg://nobody@127.0.0.1:1/none" in err


async def test_entries_that_cannot_apply_are_left_out_as_the_server_leaves_them(
        database: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    from timing.entries import gun
    from timing.store import Store

    event, url = database
    async with served(event, url) as client:
        await run_the_race(client)
        before, _ = await api_csv(client)
    # What an older version let in: a gun no date can show (see `gambero db check`).
    store = await Store.open(url)
    try:
        event_id = (await store.event_ids())["Results Night"]
        await store.append(event_id, await store.last_seq(event_id) + 1,
                           [gun("mile", 2**63 - 1, correct=True)], recorded_ms=0)
    finally:
        await store.close()
    async with served(event, url) as client:
        whole, _ = await api_csv(client)
    status, out, err = await gambero_results(capsys, str(event))
    assert status == 0, err
    assert out.encode("utf-8") == whole == before
    assert "warning: journal entries that cannot apply, left out as the server leaves them " \
           "out: 1 (gambero db check EVENT.toml lists them)" in err
