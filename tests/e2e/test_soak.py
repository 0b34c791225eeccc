"""The soak of issue 12: for half a minute a scripted race goes on while random valid and
invalid requests of every role and a reader sending garbage hit a running `gambero serve`.
Afterwards no request was answered with a 5xx, every acknowledged read is in the results and
the journal exactly once, Ctrl-C stops the server cleanly, it starts again with the same
results, and those equal a rebuild from the journal. (`bench/soak.py` runs it for longer.)"""

from __future__ import annotations

import os
from pathlib import Path

from tests.soak import checked_soak

SECONDS = float(os.environ.get("GAMBERO_SOAK_SECONDS", "30"))


def test_soak(tmp_path: Path) -> None:
    print(checked_soak(tmp_path, SECONDS).summary())
