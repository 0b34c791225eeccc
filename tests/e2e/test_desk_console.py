"""The desk in a real browser (issue 13, points 1 and 2): a bib nobody has is said in red, never
"recorded", and given to the right bib; a finish entered twice is voided from the athlete's
passings; each correction shows who would move before it is confirmed."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.race import ADMIN_TOKEN, Server, now_ms


def log_in(page: Page, server: Server, language: str = "en") -> None:
    page.goto(f"{server.url}/console?lang={language}")
    page.locator("#token").fill(ADMIN_TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#desk")).to_be_visible()


def enter(page: Page, bib: str) -> None:
    page.locator("#entry-bib").fill(bib)
    page.keyboard.press("Enter")


def test_an_unknown_bib_is_fixed_and_a_double_entry_voided(
        server: Server, desktop: Page, phone: Page, artifacts: Path) -> None:
    server.fire_gun("mile", now_ms() - 400_000)
    console = desktop
    log_in(console, server)
    log = console.locator("#entry-log li")
    enter(console, "1")  # at once: the desk shows only when its forms have their handlers
    expect(log.first).to_contain_text("recorded")
    assert "bib=" not in console.url, "the entry form was submitted as a page load"
    console.wait_for_timeout(1500)  # a second entry a little later: a different time
    enter(console, "1")
    expect(log.first).to_contain_text("already finished at")
    expect(log.first).to_have_class("warn")
    enter(console, "9999")
    expect(log.first).to_contain_text("NOBODY HAS BIB 9999")
    expect(log.first).not_to_contain_text("recorded")
    expect(log.first).to_have_class("error")

    # The unknown bib's time, given to bib 2 after a preview.
    row = console.locator("#unknown-bibs tr.unknown-bib")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("9999")
    row.get_by_role("button", name="Give to bib").click()
    give = console.locator("#unknown-bibs .correction-panel")  # under the table, full width
    give.get_by_label("Right bib for entry").fill("2")
    give.get_by_label("Reason").fill("9999 was bib 2")
    give.get_by_role("button", name="Give to bib: Preview").click()
    preview = give.locator("table.preview")
    expect(preview).to_contain_text("2")
    expect(preview).to_contain_text("DNS")
    console.screenshot(path=str(artifacts / "console-reassign-preview.png"), full_page=True)
    give.get_by_role("button", name="Confirm").click()
    expect(console.locator("#unknown-bibs")).to_contain_text("No times under unknown bibs.")
    assert server.get("/api/athletes/2")["status"] == "FIN"

    # Bib 1's passings: the first entry counts, the second is a repeat; void the first.
    console.locator("#passings-bib").fill("1")
    console.get_by_role("button", name="Show passings").click()
    rows = console.locator("#passings-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("counts")
    expect(rows.nth(1)).to_contain_text("repeat")
    first_time = server.get("/api/athletes/1")["finish_ms"]
    rows.nth(0).get_by_role("button", name="Void").click()
    void = console.locator("#passings-list .correction-panel")
    void.get_by_label("Reason").fill("entered twice")
    void.get_by_role("button", name="Void: Preview").click()
    expect(void.locator("table.preview")).to_contain_text("FIN")
    console.screenshot(path=str(artifacts / "console-void-preview.png"), full_page=True)
    void.get_by_role("button", name="Confirm").click()
    expect(rows.nth(0)).to_contain_text("voided (entry")
    expect(rows.nth(1)).to_contain_text("counts")
    assert server.get("/api/athletes/1")["finish_ms"] > first_time
    actions = server.get("/api/journal?kind=action")
    assert {action["summary"].split(":")[0] for action in actions} >= {"void", "reassign"}

    # Hand timing: a tap posted for a bib nobody has is said, not counted as recorded.
    console.locator("#hand-bib").focus()
    console.keyboard.press(" ")
    console.keyboard.type("77777")
    console.keyboard.press("Enter")
    console.locator("#hand-commit").click()
    message = console.locator("#hand-message")
    expect(message).to_contain_text("Posted: 0 recorded")
    expect(message).to_contain_text("NOBODY HAS BIB 77777")
    expect(console.locator("#unknown-bibs")).to_contain_text("77777")

    # On a phone, in German: the corrections read and nothing is cut.
    log_in(phone, server, "de")
    phone.locator("#passings-bib").fill("1")
    phone.get_by_role("button", name="Durchgänge zeigen").click()
    expect(phone.locator("#passings-list tbody tr").nth(0)).to_contain_text("annulliert")
    phone.locator("#passings-list tbody tr").nth(1).get_by_role("button").click()
    phone.locator("#passings-list .correction-panel").get_by_label("Grund").fill("doppelt")
    phone.get_by_role("button", name="Annullieren: Vorschau").click()
    expect(phone.locator("#passings-list .correction-panel")).to_contain_text("Läufer")
    phone.locator("#corrections").scroll_into_view_if_needed()
    wide = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    phone.locator("#corrections").screenshot(
        path=str(artifacts / "console-corrections-phone-de.png"))
    assert not wide, "the console scrolls sideways on a phone"
    # On a phone each passing is a line that wraps: the list needs no sideways scrolling.
    overflow = phone.evaluate("""() => { const list = document.getElementById('passings-list');
        return list.scrollWidth - list.clientWidth; }""")
    assert overflow <= 1, f"the passings are {overflow} px wider than the phone's card"
