"""Issue 12's attack, end to end: a journal holding a reader whose clock offset is 1e16 s, a read
for it and a gun no date can show (what an older version let in) used to make `gambero serve`
fail to start with OverflowError. Now the server starts, the results go on without those
entries, and the console shows each as an alarm until it is voided."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.race import ADMIN_TOKEN, Server, chip, now_ms
from timing.entries import ReadEntry, add_reader, gun
from timing.model import ReaderConfig
from timing.reads import Read
from timing.store import Store


def poison(database: Path) -> int:
    """Append the attack's entries behind the server's back (it is stopped); returns the
    first sequence number. In a thread: playwright's sync API holds this thread's loop."""
    result: list[int] = []

    async def append() -> None:
        store = await Store.open(f"sqlite+aiosqlite:///{database}")
        try:
            event_id = next(iter((await store.event_ids()).values()))
            first = await store.last_seq(event_id) + 1
            await store.append(event_id, first, [
                add_reader(ReaderConfig("far", "finish", "ipico", clock_offset_ms=10**19)),
                ReadEntry("far", Read(chip("1"), datetime.now(UTC)), 0),
                gun("mile", 2**63 - 1)], recorded_ms=0)
            result.append(first)
        finally:
            await store.close()

    thread = threading.Thread(target=lambda: asyncio.run(append()))
    thread.start()
    thread.join(60)
    return result[0]


def test_a_poisoned_journal_starts_and_the_console_raises_the_alarm(
        server: Server, desktop: Page, phone: Page, artifacts: Path) -> None:
    start = now_ms()
    server.fire_gun("mile", start - 400_000)
    server.read("finish-main", "1", start)
    server.stop()
    first = poison(server.event.parent / "gambero.db")
    server.start()
    console = desktop
    console.goto(f"{server.url}/console")
    console.get_by_label("Token").fill(ADMIN_TOKEN)
    console.keyboard.press("Enter")
    alarms = console.locator("#alarms")
    expect(alarms).to_contain_text(f"Journal entry {first} (reader:")
    expect(alarms).to_contain_text("more than a day")
    expect(alarms).to_contain_text(f"Journal entry {first + 2} (gun:")
    console.screenshot(path=str(artifacts / "console-quarantined.png"), full_page=True)
    # On a phone, in the longest language: the summaries' long values wrap, nothing is cut.
    phone.goto(f"{server.url}/console?lang=de")
    phone.get_by_label("Token").fill(ADMIN_TOKEN)
    phone.keyboard.press("Enter")
    expect(phone.locator(f'#alarms li[data-alarm="quarantined:{first + 2}"]')).to_contain_text(
        f"Journaleintrag {first + 2}")
    phone.evaluate("window.scrollTo(0, 0)")
    cut = phone.evaluate("""() => [...document.querySelectorAll('#alarms li')]
        .filter(item => item.scrollWidth > item.clientWidth + 1).length""")
    assert cut == 0
    phone.screenshot(path=str(artifacts / "console-quarantined-phone-de.png"))
    rows = server.get("/api/races/mile/results")["rows"]
    winner = next(row for row in rows if row["bib"] == "1")
    assert winner["status"] == "FIN" and winner["gun_time"] == "6:40"
