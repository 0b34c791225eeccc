"""The console's gun panel in the browser: each race and wave as it really is (a wave that
inherits the race's gun says so), a wave's gun corrected from a stopwatch reading with the
preview first, a missed press typed as a time of day, and a fired gun that no stray press can
move."""

from __future__ import annotations

import re
import urllib.error
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, new_page
from tests.e2e.race import ADMIN_TOKEN, Server, free_port, make_event, now_ms

ELITE = ("1", "2", "3", "4")


def clock_text(epoch_ms: int) -> str:
    """The time of day (the event is in UTC) as the console shows it, HH:MM:SS.f."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, UTC)
    return f"{moment:%H:%M:%S}.{epoch_ms % 1000 // 100}"


@pytest.fixture
def waves(browser: Browser, tmp_path: Path, artifacts: Path) -> Iterator[Server]:
    """The e2e race with the mile in two waves (bibs 1-4 elite, 5-8 open), neither with a gun
    of its own in event.toml, and no gun fired yet."""
    event = make_event(tmp_path / "event")
    text = event.read_text(encoding="utf-8")
    event.write_text(text.replace('points = ["half", "finish"]\n', 'points = ["half", "finish"]\n'
                                  '\n  [[races.waves]]\n  id = "elite"\n'
                                  '\n  [[races.waves]]\n  id = "open"\n', 1), encoding="utf-8")
    people = event.parent / "participants.csv"
    rows = people.read_text(encoding="utf-8").splitlines()
    for index, row in enumerate(rows[1:], start=1):
        fields = row.split(",")
        if fields[5] == "mile":
            fields[6] = "elite" if fields[0] in ELITE else "open"
        rows[index] = ",".join(fields)
    people.write_text("\n".join(rows) + "\n", encoding="utf-8")
    server = Server(event, free_port(), artifacts / "server-gun-console.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def login(page: Page, server: Server, query: str = "") -> None:
    page.goto(f"{server.url}/console{query}")
    page.get_by_label("Token").fill(ADMIN_TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#gun-list .gun-race").first).to_be_visible()


def line(page: Page, key: str) -> Locator:
    return page.locator(f"#gun-list .gun-race[data-gun='{key}']")


def gun_actions(server: Server) -> int:
    return sum(1 for item in server.get("/api/journal?kind=action&limit=100")
               if item["summary"].startswith("gun:"))


def test_waves_a_correction_with_its_preview_and_no_stray_press(
        waves: Server, desktop: Page, browser: Browser, artifacts: Path) -> None:
    server = waves
    midnight = now_ms() // 86_400_000 * 86_400_000
    # Whole seconds (typed times have tenths), and the typed times stay on today.
    race_gun = max(now_ms() - 400_000, midnight + 120_000) // 1000 * 1000
    elite_gun = race_gun - 60_000
    server.fire_gun("mile", race_gun)
    console = desktop
    login(console, server)
    # Both waves start with the race's gun: they say so, and are not "not fired".
    for wave in ("elite", "open"):
        expect(line(console, f"mile/{wave}").locator(".gun-state")).to_have_text(
            f"inherits the race's gun ({clock_text(race_gun)})")
    expect(line(console, "mile/").locator(".gun-state")).to_have_text(
        re.compile(rf"^gun at {re.escape(clock_text(race_gun))}, fired by admin"))
    expect(line(console, "kids/").locator(".gun-state")).to_have_text("not fired")
    console.screenshot(path=str(artifacts / "console-guns-inherit.png"), full_page=True)

    # The elite wave went a minute early: its own gun, then finishes for everyone.
    server.post("/api/races/mile/gun", {"wave": "elite", "time_ms": elite_gun})
    for number, bib in enumerate(("1", "5", "2", "6", "3", "7", "4", "8")):  # interleaved
        origin = elite_gun if bib in ELITE else race_gun
        server.read("finish-main", bib, origin + 300_000 + number * 10_000)
    elite = line(console, "mile/elite")
    expect(elite.locator(".gun-state")).to_have_text(
        re.compile(rf"^gun at {re.escape(clock_text(elite_gun))}, fired by "))

    # A fired gun has no "Gun!" to press: neither the race's nor the elite wave's.
    for label in ("Backwards Mile", "Backwards Mile · wave elite"):
        expect(console.get_by_role("button", name=f"Fire the gun for {label}", exact=True))\
            .to_have_count(0)
    expect(line(console, "mile/open").get_by_role("button", name=re.compile("Fire the gun")))\
        .to_have_count(1)  # the open wave has no gun of its own yet
    before = gun_actions(server)
    with pytest.raises(urllib.error.HTTPError) as refused:  # a stray press through the API
        server.post("/api/races/mile/gun", {"wave": None})
    assert refused.value.code == 409
    refused.value.close()  # an HTTPError holds the response's socket until closed
    assert gun_actions(server) == before

    # The elite wave's starter's stopwatch read 5:00.0 at a time of day: its gun was 45 s
    # later than pressed. Preview first: the table is what the API's dry run answers.
    true_gun = elite_gun + 45_000
    read_at = clock_text(true_gun + 300_000)
    elite.get_by_role("button", name="Correct the gun of Backwards Mile · wave elite").click()
    form = elite.locator("form")
    form.get_by_label("Time given as").select_option("stopwatch")
    form.get_by_label("Time of day it was read (HH:MM:SS.f)").fill(read_at)
    form.get_by_label("Stopwatch reading (MM:SS.f)").fill("5:00.0")
    form.get_by_label("Reason").fill("starter's stopwatch")
    confirm = form.get_by_role("button", name="Confirm")
    expect(confirm).to_be_disabled()
    form.get_by_role("button", name="Preview").click()
    expect(confirm).to_be_enabled()
    dry = server.post("/api/races/mile/gun?dry_run=true", {
        "wave": "elite", "local_time": read_at, "elapsed": "5:00.0", "correct": True})
    assert dry["changes"] and dry["retimed"] == 4
    table_bibs = form.locator("table tbody tr td:first-child")
    expect(table_bibs).to_have_text([change["bib"] for change in dry["changes"]])
    expect(form.locator("table tbody tr").first).to_contain_text(
        dry["changes"][0]["after"]["time"])
    expect(form).to_contain_text(f"{len(dry['changes'])} athletes would change place or "
                                 "status. 4 athletes' times would change.")
    console.screenshot(path=str(artifacts / "console-gun-preview.png"), full_page=True)
    assert server.get("/api/guns")[1]["gun_ms"] == elite_gun  # a preview changes nothing

    # On a phone, mid-correction: nothing of the panel is cut.
    phone = new_page(browser, PHONE, locale="en-GB")
    try:
        login(phone, server)
        phone_elite = line(phone, "mile/elite")
        phone_elite.get_by_role("button", name="Correct the gun of Backwards Mile · wave elite")\
            .click()
        phone_form = phone_elite.locator("form")
        expect(phone_form.get_by_label("Stopwatch reading (MM:SS.f)")).to_be_hidden()
        phone_form.get_by_label("Gun time (HH:MM:SS.f)").fill(clock_text(true_gun))
        phone_form.get_by_role("button", name="Preview").click()
        expect(phone_form.locator("table tbody tr")).to_have_count(len(dry["changes"]))
        cut = phone.evaluate("""() => [...document.querySelectorAll(
                '#gun-list .gun-race, #gun-list form, #gun-list button, #gun-list input')]
            .filter(node => node.getBoundingClientRect().right > window.innerWidth + 1).length""")
        assert cut == 0
        phone_form.scroll_into_view_if_needed()
        phone.screenshot(path=str(artifacts / "console-gun-preview-phone.png"))
    finally:
        phone.context.close()

    confirm.click()
    expect(elite.locator(".gun-state")).to_have_text(
        re.compile(rf"^gun at {re.escape(clock_text(true_gun))}, fired by admin"))
    expect(line(console, "mile/elite")).to_contain_text("Gun corrected.")
    guns = {(item["race"], item["wave"]): item for item in server.get("/api/guns")}
    assert guns["mile", "elite"]["gun_ms"] == true_gun
    assert guns["mile", "elite"]["reason"] == "starter's stopwatch"
    rows = {row["bib"]: row for row in server.get("/api/races/mile/results")["rows"]}
    for change in dry["changes"]:
        after = change["after"]
        assert (rows[change["bib"]]["place"], rows[change["bib"]]["gun_ms"]) == (
            after["place"], after["time_ms"])

    # The kids' gun was missed: typed as a time of day, previewed, confirmed.
    kids_gun = race_gun + 30_000
    kids = line(console, "kids/")
    kids.get_by_role("button", name="Type the gun time of Kids' 400 m").click()
    kids.get_by_label("Gun time (HH:MM:SS.f)").fill(clock_text(kids_gun))
    kids.get_by_role("button", name="Preview").click()
    kids.get_by_role("button", name="Confirm").click()
    expect(kids.locator(".gun-state")).to_have_text(
        re.compile(rf"^gun at {re.escape(clock_text(kids_gun))}, fired by admin"))
    expect(kids.get_by_role("button", name="Correct the gun of Kids' 400 m")).to_be_visible()
    console.screenshot(path=str(artifacts / "console-guns-after.png"), full_page=True)


def test_a_stray_press_on_a_fired_race_in_the_console_moves_nothing(
        server: Server, browser: Browser, artifacts: Path) -> None:
    """Two desks press "Gun!" for the mile; the first confirms. The second's confirm reaches
    a fired gun: refused with the 409's words (when, by whom), the gun stays, and the panel
    then shows it fired, with no "Gun!" to press."""
    first, second = (new_page(browser, DESKTOP, locale="en-GB") for _ in range(2))
    try:
        login(first, server)
        login(second, server)
        for desk in (second, first):
            desk.get_by_role("button", name="Fire the gun for Backwards Mile", exact=True).click()
        first.get_by_role("button", name=re.compile("^Confirm gun at")).click()
        expect(line(first, "mile/").locator(".gun-state")).to_have_text(re.compile("^gun at"))
        fired = server.get("/api/races")[0]["gun_ms"]
        assert fired is not None
        # The second desk's press is still armed: its panel waited, and does not move.
        line(second, "mile/").get_by_role("button", name=re.compile("^Confirm gun at")).click()
        refusal = line(second, "mile/").get_by_role("alert")
        expect(refusal).to_contain_text("the gun of race mile is set already")
        expect(refusal).to_contain_text(f"{clock_text(fired)}, fired by admin")
        expect(line(second, "mile/").locator(".gun-state")).to_have_text(
            re.compile(rf"^gun at {re.escape(clock_text(fired))}"))
        expect(line(second, "mile/").get_by_role("button", name=re.compile("Fire the gun")))\
            .to_have_count(0)
        assert server.get("/api/races")[0]["gun_ms"] == fired
        assert gun_actions(server) == 1
        second.screenshot(path=str(artifacts / "console-gun-refused.png"), full_page=True)
    finally:
        first.context.close()
        second.context.close()
