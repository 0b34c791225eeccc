"""Soak: a scripted race under random requests of every role and a reader sending garbage, as
long as you like, against a `gambero serve` of its own on 127.0.0.1.

    python bench/soak.py --seconds 600

The same run as tests/e2e/test_soak.py (which CI runs for 30 s): afterwards no request was
answered with a 5xx, every acknowledged read is in the results and the journal exactly once,
Ctrl-C stops the server, a restart and a rebuild from the journal give the same results. Prints
what was sent and answered; exits 1 with the first failures if a check fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' soak driver

from backends import machine_line

from tests.soak import checked_soak


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=300.0)
    args = options.parse_args()
    print(machine_line())
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gambero-soak-") as folder:
        try:
            report = checked_soak(Path(folder), args.seconds)
        except AssertionError as failure:
            print(f"soak FAILED after {time.monotonic() - started:.0f} s: {failure}")
            return 1
    print(f"soak of {args.seconds:g} s passed in {time.monotonic() - started:.0f} s: "
          f"{report.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
