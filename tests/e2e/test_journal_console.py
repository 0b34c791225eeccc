"""The console's journal in the browser: each entry worded in the page's language (a gun and a
status in German and Italian), new actions shown as they happen, filtered by athlete and by
kind of action, paged back with "older"; readable on a phone."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.race import ADMIN_TOKEN, Server, chip, now_ms


def open_console(page: Page, server: Server, language: str) -> None:
    page.goto(f"{server.url}/console?lang={language}#journal")
    page.locator("#token").fill(ADMIN_TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#desk")).to_be_visible()


def test_the_journal_in_german_and_italian_filtered_and_paged(
        server: Server, desktop: Page, phone: Page, artifacts: Path) -> None:
    start = now_ms() - 600_000
    server.fire_gun("mile", start)
    server.post("/api/athletes/2/status", {"status": "DQ", "reason": "lief vorwärts"})
    server.post("/api/manual", {"entries": [{"bib": "1", "time_ms": start + 400_000}]})
    server.read("finish-main", "1", start + 401_000)
    gun_local = server.get("/api/journal?action=gun")[0]["fields"]["time_local"]

    open_console(desktop, server, "de")
    entries = desktop.locator("#journal-list li")
    expect(entries.first).to_contain_text("Zeit erfasst: Startnummer 1, finish")
    expect(desktop.locator("#journal-list")).to_contain_text(
        f"Startschuss: Backwards Mile, {gun_local}")
    expect(desktop.locator("#journal-list")).to_contain_text(
        "Status: Startnummer 2, Disqualifiziert")
    expect(desktop.locator("#journal-list")).to_contain_text("(Grund: lief vorwärts)")
    expect(entries).to_have_count(3)  # actions and entered times: not the chip read

    # A new action comes in through the live feed.
    server.post("/api/athletes/3/penalty", {"ms": 1500, "reason": "Abkürzung"})
    expect(entries.first).to_contain_text("Zeitstrafe: Startnummer 3, +1,5 s")
    desktop.locator("#journal").scroll_into_view_if_needed()
    desktop.screenshot(path=str(artifacts / "console-journal-de.png"), full_page=True)

    # The athlete's filter: bib 1's entered time, then with the reads of its chip.
    desktop.get_by_label("Athlet (Startnummer)").fill("1")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Zeit erfasst: Startnummer 1")
    desktop.get_by_label("mit seinen Chip-Messungen").check()
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text(f"Chip {chip('1')} (Startnummer 1) gelesen: finish")
    desktop.get_by_label("Athlet (Startnummer)").fill("")
    desktop.get_by_label("Anzeigen").select_option("action:gun")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Startschuss: Backwards Mile")

    # Paging back: 60 entered times are more than a page.
    server.post("/api/manual", {"entries": [
        {"bib": "4", "time_ms": start + 500_000 + index * 1000} for index in range(60)]})
    desktop.get_by_label("Anzeigen").select_option("desk")
    expect(entries).to_have_count(50)
    older = desktop.get_by_role("button", name="Ältere Einträge")
    older.click()
    expect(entries).to_have_count(64)
    expect(older).to_be_hidden()
    expect(entries.last).to_contain_text("Startschuss: Backwards Mile")
    seqs = [int(value) for value in entries.evaluate_all(
        "items => items.map(item => item.dataset.seq)")]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 64

    # Italian, on a phone: the same journal, in Italian words, nothing cut.
    open_console(phone, server, "it")
    journal = phone.locator("#journal-list")
    phone.get_by_label("Mostra").select_option("action")
    expect(journal).to_contain_text(f"Sparo: Backwards Mile, {gun_local}")
    expect(journal).to_contain_text("Stato: pettorale 2, Squalificato")
    expect(journal).to_contain_text("Penalità: pettorale 3, +1,5 s")
    phone.locator("#journal").scroll_into_view_if_needed()
    wide = phone.evaluate("""() => [...document.querySelectorAll('#journal *')]
        .filter(node => node.getBoundingClientRect().right > window.innerWidth + 1).length""")
    assert wide == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(artifacts / "console-journal-phone-it.png"))
