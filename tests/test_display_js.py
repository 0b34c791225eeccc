"""The pages' JavaScript logic (time formatting, hand-timing merge, the websocket client's
reconnect and resume, the results store, records, the announcer's predictions, languages),
unit-tested under node's own test runner (tests/js/*.test.mjs); and the pages' files."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api.app import PAGES

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "display" / "static"


def test_display_javascript_unit_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the pages' JavaScript unit tests need it")
    tests = sorted(str(path) for path in (ROOT / "tests" / "js").glob("*.test.mjs"))
    assert tests, "no JavaScript tests found"
    done = subprocess.run([node, "--test", *tests], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def test_every_page_and_asset_exists() -> None:
    """The server's page routes (api/app.py PAGES) find their files; every asset a page names
    is under display/static (served as /static); every module a script imports exists; no
    page loads anything from another site."""
    for name in PAGES.values():
        text = (ROOT / "display" / name).read_text(encoding="utf-8")
        assert '<html lang="en">' in text, name
        assert "http://" not in text and "https://" not in text, f"{name} loads from the network"
        assets = re.findall(r'(?:src|href)="/static/([^"]+)"', text)
        assert "common.css" in assets, name
        for asset in assets:
            assert (STATIC / asset).is_file(), f"{name}: {asset}"
    for script in (STATIC / "js").glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert "https://" not in text and "http://" not in text, script.name
        for module in re.findall(r'from "\./([^"]+)"', text):
            assert (script.parent / module).is_file(), f"{script.name} imports {module}"


def module_graph(entry: str) -> set[str]:
    found: set[str] = set()
    pending = [entry]
    while pending:
        text = (STATIC / "js" / pending.pop()).read_text(encoding="utf-8")
        for module in re.findall(r'from "\./([^"]+)"', text):
            if module not in found:
                found.add(module)
                pending.append(module)
    return found


def test_pages_preload_every_module_they_import() -> None:
    """A slow phone fetches all of a page's modules at once instead of import by import."""
    for name in PAGES.values():
        text = (ROOT / "display" / name).read_text(encoding="utf-8")
        entry = re.search(r'<script type="module" src="/static/js/([^"]+)"', text)
        assert entry is not None, name
        preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/js/([^"]+)"', text))
        assert preloaded == module_graph(entry.group(1)), name
