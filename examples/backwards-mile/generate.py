"""Writes the example event beside this file: participants.csv and reads/ (event.toml and
adjustments.csv are written by hand). The generator is `gambero.backwards_mile`.

Run `python examples/backwards-mile/generate.py` (with Gambero installed).
"""

from __future__ import annotations

from pathlib import Path

from gambero.backwards_mile import main

if __name__ == "__main__":
    main(Path(__file__).resolve().parent)
