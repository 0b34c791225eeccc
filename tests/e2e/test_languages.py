"""Every page in English, Italian and German, on a desktop and a 390 px phone: <html lang>
says which, the page's own words are translated, nothing fails in the page's scripts; a
screenshot of each is kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                    "(pip install -e '.[dev]')")
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, PHONE, new_page
from tests.e2e.race import ADMIN_TOKEN, Server, now_ms, serving

# page -> (path, selector, {lang: expected text})
PAGES = {
    "scoreboard": ("/scoreboard", "#finishers-title",
                   {"en": "Latest finishers", "it": "Ultimi arrivati", "de": "Zuletzt im Ziel"}),
    "announcer": ("/announcer", "#coming-title",
                  {"en": "Coming", "it": "In arrivo", "de": "Im Anmarsch"}),
    "console": ("/console", "#entry-title",
                {"en": "Bib entry", "it": "Inserimento pettorali", "de": "Startnummern-Eingabe"}),
    "home": ("/", "#view h2", {"en": "Races", "it": "Gare", "de": "Läufe"}),
    "results": ("/?race=mile", "#view label[for=gender]",
                {"en": "Gender", "it": "Sesso", "de": "Geschlecht"}),
    "athlete": ("/?bib=2", "#splits-title",
                {"en": "Splits", "it": "Intermedi", "de": "Zwischenzeiten"}),
    "print": ("/?race=mile&print=1", "#view th >> nth=1",
              {"en": "Name", "it": "Nome", "de": "Name"}),
}


# Visible form controls and buttons with no label, aria-label or text (keyboard and
# screen-reader users could not tell what they are).
UNNAMED_CONTROLS = """() => [...document.querySelectorAll("input, select, button, a[href]")]
  .filter((node) => node.offsetParent !== null && node.type !== "hidden")
  .filter((node) => !(node.labels && node.labels.length) && !node.getAttribute("aria-label")
    && !node.textContent.trim())
  .map((node) => node.outerHTML.slice(0, 80))"""


@pytest.fixture(scope="module")
def race_under_way(browser: Browser, tmp_path_factory: pytest.TempPathFactory,
                   artifacts: Path) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("languages") / "event", artifacts) as server:
        gun = now_ms() - 240_000
        server.fire_gun("mile", gun)
        server.fire_gun("kids", gun + 60_000)
        for offset, bib in enumerate(("1", "2", "3", "4", "5", "6", "7", "8")):
            server.read("half-box", bib, gun + 95_000 + offset * 6_000)
        for offset, bib in enumerate(("2", "1", "3")):
            server.read("finish-main", bib, gun + 190_000 + offset * 4_000)
        server.read("finish-main", "31", gun + 60_000 + 81_300)
        yield server


@pytest.mark.parametrize("shape", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "it", "de"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_in_each_language(race_under_way: Server, browser: Browser, artifacts: Path,
                               name: str, lang: str, shape: str) -> None:
    path, selector, words = PAGES[name]
    page = new_page(browser, DESKTOP if shape == "desktop" else PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        joiner = "&" if "?" in path else "?"
        if name == "console":
            page.goto(f"{race_under_way.url}{path}{joiner}lang={lang}")
            page.locator("#token").fill(ADMIN_TOKEN)
            page.keyboard.press("Enter")
            expect(page.locator("#desk")).to_be_visible()
        else:
            page.goto(f"{race_under_way.url}{path}{joiner}lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator(selector).first).to_have_text(words[lang])
        current = page.locator(".lang-link[aria-current='true']")
        expect(current).to_have_text(lang.upper())
        if name not in ("print", "home"):  # home connects only to follow someone
            expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        unnamed = page.evaluate(UNNAMED_CONTROLS)
        assert unnamed == [], f"controls without an accessible name: {unnamed}"
        page.screenshot(path=artifacts / f"{name}-{lang}-{shape}.png", full_page=shape == "phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size
        assert viewport is not None
        assert width <= viewport["width"] + 1, f"{name} scrolls sideways: {width} px"
    finally:
        page.context.close()
    assert errors == []


def test_the_browser_language_is_used_and_the_switch_changes_it(
        race_under_way: Server, browser: Browser) -> None:
    page = new_page(browser, PHONE, locale="de-DE")
    try:
        page.goto(f"{race_under_way.url}/?race=mile")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("#view h2")).to_have_text("Backwards Mile")
        page.get_by_role("link", name="Italiano").click()
        expect(page.locator("html")).to_have_attribute("lang", "it")
        expect(page.locator("label[for=gender]")).to_have_text("Sesso")
        page.goto(f"{race_under_way.url}/")  # the choice is remembered without ?lang=
        expect(page.locator("html")).to_have_attribute("lang", "it")
        expect(page.locator("#view h2").first).to_have_text("Gare")
    finally:
        page.context.close()


def test_results_filters_and_csv_link(race_under_way: Server, browser: Browser,
                                      artifacts: Path) -> None:
    page = new_page(browser, PHONE)
    try:
        page.goto(f"{race_under_way.url}/?race=mile")
        rows = page.locator("table.results tbody tr")
        expect(rows).to_have_count(8)
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        assert page.evaluate("window.gamberoLive.snapshots") == 0, "a phone gets deltas only"
        page.get_by_label("Gender").select_option("F")
        expect(rows).to_have_count(4)
        expect(page).to_have_url(f"{race_under_way.url}/?race=mile&gender=F")
        page.get_by_label("Name or bib").fill("2")
        page.get_by_label("Name or bib").press("Enter")
        expect(rows).to_have_count(0)
        page.get_by_label("Gender").select_option("")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Marco Rossi")
        page.get_by_label("Name or bib").fill("weber")
        page.get_by_label("Name or bib").press("Enter")
        expect(rows.first.locator("td").last).to_have_text(
            re.compile(r"^half 2:\d\d \(Did not finish\)$"))  # the last split, live
        csv = page.get_by_role("link", name="Download CSV")
        href = csv.get_attribute("href")
        assert href == "/api/races/mile/results.csv"
        response = page.request.get(race_under_way.url + href)
        assert response.ok and response.text().startswith("race,place,bib,")
        page.screenshot(path=artifacts / "results-filtered-phone.png", full_page=True)
    finally:
        page.context.close()
