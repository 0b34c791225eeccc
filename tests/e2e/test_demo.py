"""`gambero demo` in a browser: the generated race runs and its finishers reach the scoreboard,
the announcer and a phone's results page as they cross, with nobody touching anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                    "(pip install -e '.[dev]')")
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, PHONE, new_page
from tests.e2e.race import ADMIN_TOKEN, Server, demo


@pytest.fixture
def demo_race(browser: Browser, tmp_path: Path, artifacts: Path) -> Iterator[Server]:
    with demo(tmp_path / "demo", artifacts, speed=20, athletes=60) as server:
        yield server


def test_the_demo_race_reaches_every_page(demo_race: Server, browser: Browser,
                                          artifacts: Path) -> None:
    board = new_page(browser, DESKTOP)
    announcer = new_page(browser, DESKTOP)
    phone = new_page(browser, PHONE)
    console = new_page(browser, DESKTOP)
    try:
        board.goto(f"{demo_race.url}/scoreboard?race=mile")
        announcer.goto(f"{demo_race.url}/announcer?race=mile")
        phone.goto(f"{demo_race.url}/?race=mile")
        expect(board.locator("#clock")).to_have_text(re.compile(r"^\d+:\d\d$"), timeout=20_000)
        finishers = board.locator("#finishers tbody tr")
        expect(finishers.first).to_be_visible(timeout=60_000)
        board.evaluate("window.sameDocument = true")
        first = finishers.first.get_attribute("data-bib")
        # More arrive, live: the newest finisher on top changes without a reload.
        expect(finishers.first).not_to_have_attribute("data-bib", str(first), timeout=60_000)
        assert board.evaluate("window.sameDocument") is True
        clock = board.locator("#clock").inner_text()
        minutes = int(clock.split(":")[-2])
        assert minutes >= 4, f"the race clock follows the race's own time: {clock}"
        expect(board.locator("#leaders .leader-block").first).to_be_visible()
        board.screenshot(path=artifacts / "demo-scoreboard.png")

        expect(announcer.locator("#finished > li").first).to_be_visible()
        announcer.screenshot(path=artifacts / "demo-announcer.png")

        expect(phone.locator("table.results tbody tr td.time").first).to_have_text(
            re.compile(r"^\d+:\d\d$"), timeout=20_000)
        phone.screenshot(path=artifacts / "demo-results-phone.png", full_page=True)

        console.goto(f"{demo_race.url}/console")
        console.get_by_label("Token").fill(ADMIN_TOKEN)
        console.keyboard.press("Enter")
        expect(console.locator("#reader-list tbody tr")).to_have_count(4)
        expect(console.locator("#journal-list")).to_contain_text("Gun fired: ")
        console.screenshot(path=artifacts / "demo-console.png", full_page=True)
    finally:
        for page in (board, announcer, phone, console):
            page.context.close()
