"""Writes a small event folder (event.toml + participants.csv) for the live tests: the same
race as `helpers.small_event`, with the readers given as TOML tables."""

from __future__ import annotations

from pathlib import Path

from timing.model import Athlete

EVENT_TOML = """\
[event]
name = "Live test"
date = "2026-05-10"
timezone = "Europe/Rome"

[[races]]
id = "1k"
name = "One K"
distance_m = 1000
gun = "09:00:00"
points = ["start", "finish"]
min_lap_s = 30
precision = "0.01"

[[points]]
id = "start"
kind = "start"

[[points]]
id = "finish"
kind = "finish"
"""


def write_event(folder: Path, athletes: list[Athlete], readers: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = []
    for reader in readers:
        lines = ["[[readers]]"] + [f'{key} = "{value}"' for key, value in reader.items()]
        tables.append("\n".join(lines))
    path = folder / "event.toml"
    path.write_text(EVENT_TOML + "\n" + "\n\n".join(tables) + "\n", encoding="utf-8")
    rows = ["bib,first_name,last_name,gender,birth_date,race,wave,chips,club"]
    rows += [f"{a.bib},{a.first_name},{a.last_name},{a.gender},,{a.race},,{' '.join(a.chips)},"
             for a in athletes]
    (folder / "participants.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
