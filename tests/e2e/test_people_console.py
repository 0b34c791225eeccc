"""Participants at the desk in the browser (issue 13, point 5): the participants file's problems
listed at the top of the console's Participants section; a skipped row's athlete added, a
participant edited, a chip assigned, and a refusal shown with the server's words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.race import ADMIN_TOKEN, Server, chip, free_port, make_event

BAD_ROWS = ("40,Rita,Indietro,Q,1990-04-04,mile,,E2E00040,\n"
            "41,Wrong,Race,F,1990-01-01,marathon,,,\n")


@pytest.fixture
def desk(browser: Browser, tmp_path: Path, artifacts: Path) -> Iterator[Server]:
    event = make_event(tmp_path / "event")
    with (event.parent / "participants.csv").open("a", encoding="utf-8") as participants:
        participants.write(BAD_ROWS)
    server = Server(event, free_port(), artifacts / "server-people.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def log_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Token").fill(ADMIN_TOKEN)
    page.keyboard.press("Enter")


def test_participants_at_the_desk(desk: Server, desktop: Page, phone: Page,
                                  artifacts: Path) -> None:
    log_in(desktop, f"{desk.url}/console#people")
    people = desktop.locator("#people")
    problems = desktop.locator("#people-problems")
    expect(problems).to_contain_text("2 problems in the event's files")
    expect(problems).to_contain_text("bib 40 skipped: gender must be F, M or X, not 'Q'")
    expect(problems.locator("tbody tr").first.locator("td").first).to_have_text("13")
    expect(problems).to_contain_text("no race has id 'marathon'")
    message = desktop.locator("#people-message")

    # The skipped row's athlete, added from the problem list.
    problems.get_by_role("button", name="Look up 40").click()
    expect(message).to_have_text("Nobody has bib 40: fill in the form to add them.")
    expect(desktop.locator("#people-f-bib")).to_have_value("40")
    expect(desktop.locator("#people-chip-form")).to_be_hidden()  # no chip before the bib exists
    desktop.get_by_label("First name").fill("Rita")
    desktop.get_by_label("Last name").fill("Indietro")
    desktop.locator("#people-f-gender").select_option("F")
    desktop.get_by_label("Birth date").fill("1990-04-04")
    desktop.locator("#people-f-chips").fill(chip("40"))
    people.get_by_role("button", name="Add participant").click()
    expect(message).to_have_text("Added bib 40: Rita Indietro, Backwards Mile, category F30-39.")
    expect(desktop.locator("#people-form h3")).to_have_text("Bib 40: Rita Indietro")
    added = desk.get("/api/athletes/40/registration")
    assert (added["gender"], added["birth_date"], added["chips"]) == ("F", "1990-04-04",
                                                                      [chip("40")])

    # A refusal: a chip someone wears, in the server's words, the field marked.
    people.get_by_role("button", name="New participant").click()
    desktop.locator("#people-f-bib").fill("42")
    desktop.get_by_label("Last name").fill("Doppio")
    desktop.locator("#people-f-gender").select_option("M")
    desktop.locator("#people-f-chips").fill(chip("1"))
    people.get_by_role("button", name="Add participant").click()
    expect(message).to_have_text(f"Refused: chips: chip {chip('1')} already belongs to bib 1 "
                                 "(to move it, assign it to this bib afterwards)")
    expect(message).to_have_attribute("role", "alert")
    expect(desktop.locator("#people-f-chips")).to_have_attribute("aria-invalid", "true")
    with pytest.raises(Exception, match="404"):
        desk.get("/api/athletes/42/registration")
    people.scroll_into_view_if_needed()
    desktop.screenshot(path=str(artifacts / "console-people-refused.png"))

    # An edit: look up bib 2, move him to the kids' race with a new club.
    desktop.locator("#people-bib").fill("2")
    people.get_by_role("button", name="Look up", exact=True).click()
    expect(desktop.locator("#people-form h3")).to_have_text("Bib 2: Marco Rossi")
    expect(desktop.locator("#people-f-chips")).to_be_hidden()  # chips: assigned below
    desktop.get_by_label("Club").fill("Gamberetti")
    desktop.locator("#people-f-race").select_option("kids")
    people.get_by_role("button", name="Save changes").click()
    expect(message).to_have_text("Saved bib 2: Club → Gamberetti, Race → kids.")
    row = desk.get("/api/athletes/2")
    assert (row["club"], row["race"]) == ("Gamberetti", "kids")

    # A chip for bib 2, taken from bib 3.
    desktop.get_by_label("Chip to give bib 2").fill(chip("3"))
    people.get_by_role("button", name="Assign chip").click()
    expect(message).to_have_text(f"Chip {chip('3')} assigned to bib 2 (taken from whoever had "
                                 "it).")
    expect(people).to_contain_text(f"Chips: {chip('2')} {chip('3')}")
    assert desk.get("/api/athletes/3/registration")["chips"] == []
    people.screenshot(path=str(artifacts / "console-people.png"))

    # On a phone, in German: the problems and the form fit, nothing cut.
    log_in(phone, f"{desk.url}/console?lang=de#people")
    expect(phone.locator("#people-problems")).to_contain_text("2 Probleme")
    phone.locator("#people-bib").fill("40")
    phone.locator("#people").get_by_role("button", name="Suchen", exact=True).click()
    expect(phone.locator("#people-form h3")).to_have_text("Startnummer 40: Rita Indietro")
    phone.locator("#people").scroll_into_view_if_needed()
    cut = phone.evaluate("""() => { const box = document.querySelector('#people');
        return box.scrollWidth - box.clientWidth; }""")
    assert cut <= 1
    phone.locator("#people").screenshot(path=str(artifacts / "console-people-phone-de.png"))
