"""The printable results list (`/?race=…&print=1`) has the club and the time penalty in columns
of their own, the values the desk set, on a wide page, on a phone and as printed."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                    "(pip install -e '.[dev]')")
from playwright.sync_api import Page, expect

from tests.e2e.race import Server, now_ms


def run_race(server: Server) -> None:
    gun = now_ms() - 600_000
    server.fire_gun("mile", gun)
    for bib, ms in (("1", 400_200), ("2", 395_000), ("4", 410_000), ("6", 420_000)):
        server.read("finish-main", bib, gun + ms)
    server.post("/api/athletes/2/penalty", {"ms": 10_000, "reason": "false start"})
    server.post("/api/athletes/6/status", {"status": "DQ", "reason": "ran forwards"})


def column(page: Page, header: str) -> int:
    """The index of the results table's column headed `header` (as written: CSS shows the
    headers in capitals)."""
    headers = page.locator("table.results thead th").all_text_contents()
    return [text.strip() for text in headers].index(header)


def cell(page: Page, bib: str, index: int) -> str:
    return page.locator(f"table.results tr[data-bib='{bib}'] td").nth(index).inner_text().strip()


def test_print_view_has_club_and_penalty_columns(server: Server, desktop: Page, phone: Page,
                                                  artifacts: Path) -> None:
    run_race(server)
    errors: list[str] = []
    desktop.on("pageerror", lambda error: errors.append(str(error)))
    desktop.goto(f"{server.url}/?race=mile&print=1&lang=en")
    expect(desktop.locator("table.results tbody tr")).to_have_count(8)
    club, penalty = column(desktop, "Club"), column(desktop, "Penalty")
    time_column = column(desktop, "Time")
    assert club < penalty < time_column
    # Bib 2 was first by the reads (6:35); 10 s of penalty put it behind bib 1 (6:41).
    rows = desktop.locator("table.results tbody tr")
    assert [rows.nth(i).get_attribute("data-bib") for i in range(3)] == ["1", "2", "4"]
    assert cell(desktop, "2", club) == "Podistica Contromano"
    assert cell(desktop, "2", penalty) == "+0:10"
    assert cell(desktop, "2", time_column) == "6:45"
    assert cell(desktop, "1", penalty) == "" and cell(desktop, "3", club) == ""
    assert cell(desktop, "4", club) == "Gambero Athletic"
    assert cell(desktop, "6", time_column) == "Disqualified"
    # The club is in its own column, not repeated under the name.
    expect(desktop.locator("tr[data-bib='2'] td.name .sub")).to_have_text("2 · M40-49",
                                                                        use_inner_text=True)
    desktop.screenshot(path=artifacts / "results-print-desktop.png", full_page=True)
    desktop.emulate_media(media="print")
    expect(desktop.locator("table.results th.club")).to_be_visible()
    desktop.screenshot(path=artifacts / "results-print-printed.png", full_page=True)

    # Live (not printing), the club stays under the name and there is no penalty column.
    desktop.emulate_media(media="screen")
    desktop.goto(f"{server.url}/?race=mile&lang=en")
    expect(desktop.locator("table.results tbody tr")).to_have_count(8)
    expect(desktop.locator("table.results th.penalty")).to_have_count(0)
    expect(desktop.locator("tr[data-bib='2'] td.name .sub")).to_contain_text("Podistica")

    phone.goto(f"{server.url}/?race=mile&print=1&lang=de")
    expect(phone.locator("table.results tbody tr")).to_have_count(8)
    # A phone's screen has no room for the club's column: it goes under the name again.
    expect(phone.locator("table.results th.club")).to_be_hidden()
    expect(phone.locator("tr[data-bib='2'] td.name .sub")).to_have_text(
        "2 · M40-49 · Podistica Contromano", use_inner_text=True)
    assert cell(phone, "2", column(phone, "Strafe")) == "+0:10"
    phone.screenshot(path=artifacts / "results-print-phone-de.png", full_page=True)
    table = phone.locator("table.results").bounding_box()
    assert table is not None and table["x"] >= 0 and table["x"] + table["width"] <= 390
    assert errors == []
