"""The alarm bar, as a timekeeper uses it: a decoder that connects to the server drops; its alarm
shows what is wrong, since when and what clears it; "Acknowledge" takes it off the bar (into a
small note, and into the journal with who and when); it comes back only when the decoder
reconnects and drops again. On a phone, in German, nothing is cut."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.race import ADMIN_TOKEN, Server, free_port


def connect(port: int) -> socket.socket:
    """Connect as the decoder does (the server may not be listening yet: try again)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.1)


def reader_state(server: Server) -> str:
    return str(server.get("/api/readers/gate")["state"])


def wait_for_state(server: Server, state: str) -> None:
    deadline = time.monotonic() + 15
    while reader_state(server) != state:
        assert time.monotonic() < deadline, f"gate never {state}"
        time.sleep(0.05)


def log_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Token").fill(ADMIN_TOKEN)
    page.keyboard.press("Enter")


def test_an_alarm_is_acknowledged_from_the_console_and_comes_back_when_it_drops_again(
        server: Server, desktop: Page, phone: Page, artifacts: Path) -> None:
    port = free_port()
    server.post("/api/readers", {"id": "gate", "point": "finish", "format": "raceresult",
                                 "host": f"listen:127.0.0.1:{port}"})
    decoder = connect(port)
    wait_for_state(server, "connected")
    decoder.close()
    wait_for_state(server, "disconnected")

    log_in(desktop, f"{server.url}/console")
    bar = desktop.locator("#alarms")
    gate = bar.locator('li.alarm-item[data-alarm="reader:gate:link"]')
    expect(gate).to_contain_text("Reader gate is not connected")
    expect(gate).to_contain_text("disconnected: ")  # the server's own words: what failed
    expect(gate).to_contain_text("since ")
    expect(gate).to_contain_text("Clears when the reader is connected again.")
    expect(desktop.locator("#reader-list")).to_contain_text("NOT connected")
    desktop.screenshot(path=str(artifacts / "console-alarm.png"))

    gate.get_by_role("button", name="Acknowledge: Reader gate is not connected").click()
    expect(gate).to_have_count(0)
    note = bar.locator("details.alarm-seen")
    expect(note.locator("summary")).to_have_text("1 acknowledged")
    expect(bar).to_have_class("alarms settled")
    note.locator("summary").click()
    expect(note).to_contain_text("acknowledged by admin:GAMBERO_ADMIN_TOKEN at ")
    desktop.screenshot(path=str(artifacts / "console-alarm-acknowledged.png"))
    journal = server.get("/api/journal?kind=action")
    entry = next(item for item in journal if "reader:gate:link" in str(item))
    assert entry["actor"] == "admin:GAMBERO_ADMIN_TOKEN" and entry["at_ms"] > 0

    # The decoder reconnects (the alarm clears) and drops again: a new occurrence, back on the bar.
    decoder = connect(port)
    wait_for_state(server, "connected")
    expect(note).to_have_count(0)
    decoder.close()
    expect(gate).to_contain_text("Reader gate is not connected")
    button = gate.get_by_role("button", name="Acknowledge: Reader gate is not connected")
    expect(button).to_be_enabled()
    expect(bar).to_have_class("alarms")

    # On a phone, in German: the alarm, its cause and its button, nothing cut.
    log_in(phone, f"{server.url}/console?lang=de")
    phone_gate = phone.locator('#alarms li.alarm-item[data-alarm="reader:gate:link"]')
    expect(phone_gate).to_contain_text("Lesegerät gate ist nicht verbunden")
    expect(phone_gate).to_contain_text("Erlischt, wenn das Lesegerät wieder verbunden ist.")
    expect(phone_gate.get_by_role("button", name="Bestätigen: Lesegerät gate ist nicht verbunden")
           ).to_be_visible()
    cut = phone.evaluate("""() => [...document.querySelectorAll('#alarms li, #alarms button')]
        .filter(node => node.scrollWidth > node.clientWidth + 1).length""")
    assert cut == 0
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(artifacts / "console-alarm-phone-de.png"))
