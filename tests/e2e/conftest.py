"""Browser tests: Debian's chromium driven by the Python playwright package (never
`playwright install`). They skip, saying why, only when chromium or playwright is missing.
Screenshots go to $GAMBERO_E2E_ARTIFACTS (default tests/e2e/artifacts/, git-ignored)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.race import Server, serving

CHROMIUM = Path(os.environ.get("GAMBERO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
    HAVE_PLAYWRIGHT = True
    # The machine running the tests may be busy (CI, other jobs): a page may take a few
    # seconds to show what it is waiting for; it must still show it.
    expect.set_options(timeout=10_000)
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_PLAYWRIGHT = False


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per test module: playwright's sync API keeps an event loop running in this
    thread while it is open, which the asyncio tests of other modules cannot share."""
    if not HAVE_PLAYWRIGHT:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium, or set "
                    "GAMBERO_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("GAMBERO_E2E_ARTIFACTS",
                                 Path(__file__).resolve().parent / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def server(browser: Browser, tmp_path: Path, artifacts: Path) -> Iterator[Server]:
    with serving(tmp_path / "event", artifacts) as running:
        yield running


def new_page(browser: Browser, shape: dict[str, Any], **extra: Any) -> Page:
    context = browser.new_context(**shape, **extra)
    context.set_default_timeout(15000)
    return context.new_page()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, DESKTOP, locale="en-GB")
    yield page
    page.context.close()


@pytest.fixture
def browser_page_factory(browser: Browser) -> Iterator[Any]:
    """Further desktop pages (each its own context), closed after the test."""
    pages: list[Page] = []

    def make() -> Page:
        page = new_page(browser, DESKTOP, locale="en-GB")
        pages.append(page)
        return page
    yield make
    for page in pages:
        page.context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, PHONE, locale="en-GB")
    yield page
    page.context.close()
