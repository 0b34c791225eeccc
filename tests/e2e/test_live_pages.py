"""The pages against a live `gambero serve`: finishers reach the scoreboard over the
websocket, a phone finds and follows an athlete, the console's hand timing reaches the
scoreboard, and the websocket client survives a server restart."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                    "(pip install -e '.[dev]')")
from playwright.sync_api import Page, expect

from tests.e2e.race import ADMIN_TOKEN, Server, now_ms


def live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def test_scoreboard_shows_finishers_as_they_arrive(server: Server, desktop: Page,
                                                     artifacts: Path) -> None:
    gun = now_ms() - 200_000
    server.fire_gun("mile", gun)
    errors: list[str] = []
    desktop.on("pageerror", lambda error: errors.append(str(error)))
    desktop.goto(f"{server.url}/scoreboard?race=mile")
    live(desktop)
    expect(desktop.locator("#race-name")).to_have_text("Backwards Mile")
    expect(desktop.locator("#clock")).to_have_text(re.compile(r"^3:[2-5]\d$"))
    expect(desktop.locator("#no-finishers")).to_be_visible()

    server.read("finish-main", "2", gun + 183_400)  # 3:03.4 shows as 3:04
    first = desktop.locator("#finishers tbody tr").first
    expect(first).to_have_attribute("data-bib", "2")
    expect(first).to_contain_text("Marco Rossi")
    expect(first).to_contain_text("M40-49")
    expect(first).to_contain_text("3:04")
    expect(first).to_contain_text("1st")

    server.read("finish-main", "1", gun + 190_000)
    expect(desktop.locator("#finishers tbody tr").first).to_have_attribute("data-bib", "1")
    expect(desktop.locator("#finishers tbody tr")).to_have_count(2)
    expect(desktop.locator("#leaders")).to_contain_text("Giulia Bianchi")
    desktop.screenshot(path=artifacts / "scoreboard-live.png")
    assert errors == []


def test_scoreboard_flags_a_world_best(server: Server, desktop: Page, artifacts: Path) -> None:
    gun = now_ms() - 100_000
    server.fire_gun("kids", gun)
    desktop.goto(f"{server.url}/scoreboard?race=kids&lang=it")
    live(desktop)
    server.read("finish-main", "32", gun + 68_200)  # under the 400 m world best of 1:09
    row = desktop.locator("#finishers tbody tr").first
    expect(row).to_contain_text("Emma Greco")
    expect(row).to_contain_text("1:08.2")
    expect(row.locator(".record")).to_have_text("MIGLIORE MONDIALE")
    desktop.screenshot(path=artifacts / "scoreboard-record-it.png")


def test_phone_finds_an_athlete_by_name_and_follows_them(server: Server, phone: Page,
                                                          artifacts: Path) -> None:
    gun = now_ms() - 120_000
    phone.goto(f"{server.url}/")
    phone.get_by_label("Find an athlete").fill("müll")
    phone.get_by_label("Find an athlete").press("Enter")
    found = phone.locator("#found li")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Anna Müller (3)")
    found.get_by_role("button", name="Follow").click()
    following = found.get_by_role("button", name="Following ✓")
    expect(following).to_have_attribute("aria-pressed", "true")
    card = phone.locator("#followed li[data-bib='3']")
    expect(card).to_contain_text("No passing yet")
    live(phone)
    server.fire_gun("mile", gun)  # the race is reloaded: the card is fetched again
    expect(phone.locator("#followed li[data-bib='3']")).to_contain_text("No passing yet")

    server.read("half-box", "3", gun + 95_000)
    card = phone.locator("#followed li[data-bib='3']")
    expect(card.locator(".where")).to_have_text("Passed half in 1:35")
    server.read("finish-main", "3", gun + 200_000)
    expect(phone.locator("#followed li[data-bib='3'] .where")).to_have_text("Finished in 3:20, 1st")
    phone.screenshot(path=artifacts / "phone-followed.png", full_page=True)
    assert phone.evaluate("window.gamberoLive.snapshots") == 0, "a phone gets deltas only"

    phone.reload()  # followed athletes are kept in the browser
    expect(phone.locator("#followed li[data-bib='3']")).to_contain_text("Finished in 3:20")
    phone.locator("#followed li[data-bib='3'] a").click()
    expect(phone).to_have_url(re.compile(r"/\?bib=3$"))
    expect(phone.locator("h2")).to_contain_text("Anna Müller")
    expect(phone.locator(".big-time")).to_have_text("3:20")
    expect(phone.locator("table")).to_contain_text("1:35")
    expect(phone.locator("body")).to_contain_text("2:05 /km")
    expect(phone.locator("body")).to_contain_text("3:20 /mi")
    phone.screenshot(path=artifacts / "phone-athlete.png", full_page=True)


def test_console_hand_timing_reaches_the_scoreboard(server: Server, desktop: Page,
                                                    browser_page_factory, artifacts: Path) -> None:
    console = desktop
    console.goto(f"{server.url}/console")
    console.get_by_label("Token").fill(ADMIN_TOKEN)
    console.keyboard.press("Enter")
    expect(console.locator("#who")).to_have_text("Logged in: admin")

    # The gun, keyboard only: Tab to the mile's button, Enter, then Enter on "Confirm".
    fire = console.get_by_role("button", name="Fire the gun for Backwards Mile")
    fire.focus()
    console.keyboard.press("Enter")
    console.keyboard.press("Enter")
    expect(console.locator(".gun-race .gun-state").first).to_have_text(re.compile(r"^gun at \d\d:"))
    gun = server.get("/api/races")[0]["gun_ms"]
    assert gun is not None and abs(gun - now_ms()) < 20_000

    # Hand timing: three taps (one a double tap), two bibs, fix, post.
    bib_field = console.get_by_label("Next bib in finish order")
    bib_field.focus()
    console.keyboard.press(" ")
    console.keyboard.press(" ")
    time.sleep(0.3)
    console.keyboard.press(" ")
    console.keyboard.type("4")
    console.keyboard.press("Enter")
    console.keyboard.type("7")
    console.keyboard.press("Enter")
    rows = console.locator("#hand-table tbody tr")
    expect(rows).to_have_count(3)
    expect(console.locator("#hand-commit")).to_have_text("Post 2 rows")
    console.get_by_role("button", name="Delete the time of row 2").click()
    expect(rows).to_have_count(2)
    # A third finisher nobody tapped: their bib, a blank time, then the time typed in.
    bib_field.focus()
    console.keyboard.type("8")
    console.keyboard.press("Enter")
    console.get_by_role("button", name="Insert a missing time at row 3").click()
    # Two seconds from now: after every tap above, so bib 8 is third whatever the clock says.
    typed = datetime.fromtimestamp(now_ms() / 1000 + 2, UTC).strftime("%H:%M:%S.4")
    console.get_by_label("Time of row 3 (HH:MM:SS.s)").fill(typed)
    console.keyboard.press("Enter")
    expect(rows.nth(2)).to_contain_text(typed)
    expect(console.locator("#hand-commit")).to_have_text("Post 3 rows")
    console.locator("#hand-commit").focus()
    console.keyboard.press("Enter")
    expect(console.locator("#hand-message")).to_have_text(
        "Posted: 3 recorded, 0 already there, 0 rejected.")
    assert server.get("/api/athletes/8")["status"] == "FIN"
    expect(rows).to_have_count(0)
    console.screenshot(path=artifacts / "console-hand-timing.png", full_page=True)

    board = browser_page_factory()
    board.goto(f"{server.url}/scoreboard?race=mile")
    expect(board.locator("#finishers tbody tr[data-bib='4']")).to_contain_text("Luca Ferrari")
    expect(board.locator("#finishers tbody tr[data-bib='7']")).to_contain_text("Chiara Ricci")
    first = server.get("/api/athletes/4")
    second = server.get("/api/athletes/7")
    assert (first["place"], second["place"], server.get("/api/athletes/8")["place"]) == (1, 2, 3)
    board.screenshot(path=artifacts / "scoreboard-after-hand-timing.png")

    # Keyboard bib entry: bib + Enter, as fast as finishers come.
    entry = console.get_by_label("Bib", exact=True).first
    entry.focus()
    for bib in ("1", "2", "999"):
        console.keyboard.type(bib)
        console.keyboard.press("Enter")
    log = console.locator("#entry-log li")
    expect(log).to_have_count(3)
    expect(log.nth(1)).to_contain_text("recorded")
    expect(log.nth(0)).to_contain_text("999")
    expect(board.locator("#finishers tbody tr[data-bib='2']")).to_be_visible()

    # A status change with its preview first.
    changes = console.locator("#change-form")
    changes.get_by_label("Bib", exact=True).fill("4")
    changes.get_by_label("Reason").fill("cut the course")
    changes.get_by_role("button", name="Preview").click()
    expect(console.locator("#change-preview")).to_contain_text("would change")
    expect(console.locator("#change-preview table")).to_contain_text("Luca Ferrari")
    assert server.get("/api/athletes/4")["status"] == "FIN", "a preview changes nothing"
    changes.get_by_role("button", name="Confirm").click()
    expect(console.locator("#change-preview")).to_contain_text("Done")
    assert server.get("/api/athletes/4")["status"] == "DQ"
    expect(console.locator("#journal-list")).to_contain_text("cut the course")
    console.screenshot(path=artifacts / "console-after-changes.png", full_page=True)


def test_websocket_client_reconnects_after_a_restart_and_catches_up(
        server: Server, desktop: Page, artifacts: Path) -> None:
    gun = now_ms() - 200_000
    server.fire_gun("mile", gun)
    server.read("finish-main", "1", gun + 180_000)
    desktop.goto(f"{server.url}/scoreboard?race=mile")
    live(desktop)
    expect(desktop.locator("#finishers tbody tr")).to_have_count(1)
    desktop.evaluate("window.sameDocument = true")

    server.stop()
    expect(desktop.locator("#live-status")).to_have_attribute("data-state", "offline")
    server.start()
    server.read("finish-main", "2", gun + 185_000)  # while the page is still away
    live(desktop)
    expect(desktop.locator("#finishers tbody tr[data-bib='2']")).to_contain_text("Marco Rossi")
    server.read("finish-main", "5", gun + 190_000)  # and it keeps following
    expect(desktop.locator("#finishers tbody tr[data-bib='5']")).to_contain_text("Sofia Esposito")
    assert desktop.evaluate("window.sameDocument") is True, "the page was not reloaded"
    assert desktop.evaluate("window.gamberoLive.seq") >= server.get("/api/health")["seq"] - 0
    desktop.screenshot(path=artifacts / "scoreboard-after-restart.png")


def console_login(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/console")
    page.get_by_label("Token").fill(ADMIN_TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#desk")).to_be_visible()


def test_console_assigns_an_unknown_chip(server: Server, desktop: Page, artifacts: Path) -> None:
    gun = now_ms() - 300_000
    server.fire_gun("mile", gun)
    server.read_chip("finish-main", "FFFF0001", gun + 250_000)
    console_login(desktop, server)
    chips = desktop.locator("#chip-list tbody tr")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("FFFF0001")
    desktop.screenshot(path=artifacts / "console-unknown-chip.png", full_page=True)
    desktop.get_by_label("Bib for chip FFFF0001").fill("8")
    desktop.keyboard.press("Enter")
    expect(desktop.locator("#chip-list")).to_contain_text("No unknown chips.")
    athlete = server.get("/api/athletes/8")
    assert (athlete["status"], athlete["gun_time"]) == ("FIN", "4:10")


def test_scoreboard_cycles_through_the_races(server: Server, desktop: Page) -> None:
    server.fire_gun("mile", now_ms() - 60_000)
    desktop.goto(f"{server.url}/scoreboard?cycle=5")
    name = desktop.locator("#race-name")
    expect(name).to_have_text("Backwards Mile")
    expect(name).to_have_text("Kids' 400 m", timeout=12_000)
    expect(desktop.locator("#clock")).to_have_text("Waiting for the gun")
    expect(name).to_have_text("Backwards Mile", timeout=12_000)


def test_announcer_calls_who_is_coming_and_who_finished(server: Server, desktop: Page,
                                                        artifacts: Path) -> None:
    gun = now_ms() - 200_000
    server.fire_gun("mile", gun)
    server.read("half-box", "1", gun + 80_000)
    server.read("finish-main", "1", gun + 170_000)
    server.read("half-box", "4", gun + 95_000)
    server.read("half-box", "6", gun + 110_000)
    desktop.goto(f"{server.url}/announcer")
    live(desktop)
    coming = desktop.locator("#coming > li")
    expect(coming).to_have_count(2)
    expect(coming.first).to_contain_text("Luca Ferrari")
    expect(coming.first).to_contain_text("Gambero Athletic")
    expect(coming.first).to_contain_text("Leads M20-29")  # 2nd at the split, behind bib 1
    expect(coming.first.locator(".eta")).to_have_text(re.compile(r"^(in \d+ s|due now)$"))
    expect(coming.nth(1)).to_contain_text("Leads M50-59")
    finished = desktop.locator("#finished > li")
    expect(finished.first).to_contain_text("Giulia Bianchi")
    expect(finished.first).to_contain_text("Wins the race!")
    server.read("finish-main", "4", now_ms())
    expect(coming).to_have_count(1)
    expect(finished.first).to_contain_text("Luca Ferrari")
    expect(finished.first).to_contain_text("First man!")
    desktop.screenshot(path=artifacts / "announcer-live.png", full_page=True)
