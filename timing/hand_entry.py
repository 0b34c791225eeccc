"""What a time typed at the desk should make a timekeeper look twice at (pure).

A hand time is never refused for these: the timekeeper may know better (a late entry from a
paper list, a finish seen before the chip's). They are said, with the entry, so that nothing is
accepted silently. An entry for a bib nobody has is not a warning but an outcome of its own
("unknown"): it is kept in the journal and can be given to the right bib.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from timing.standings import Standings

FAR_FROM_NOW_MS = 15 * 60 * 1000
"""A time typed more than this from the moment it is sent: the wrong hour, or a slip."""

WarningCode = Literal["no_gun", "before_gun", "already_finished", "far_from_now",
                      "not_on_course"]


class EntryWarning(NamedTuple):
    bib: str
    time_ms: int
    code: WarningCode
    detail_ms: int | None = None
    """The time it is about: the gun, the finish already recorded, or now."""


def entry_warnings(standings: Standings, bib: str, point: str, ms: int, now_ms: int,
                   typed: bool) -> list[EntryWarning]:
    """What is odd about a hand time `ms` for `bib` at `point`; `typed`: the time was given
    (not "now"), so it may be far from now. An unknown bib gives none (see the module)."""
    if not standings.has_athlete(bib):
        return []
    athlete = standings.athlete(bib)
    race = standings.race(athlete.race)
    found: list[EntryWarning] = []
    if point not in race.points:
        found.append(EntryWarning(bib, ms, "not_on_course"))
    gun = race.gun_for(athlete.wave)
    if gun is None:
        found.append(EntryWarning(bib, ms, "no_gun"))
    elif ms < gun:
        found.append(EntryWarning(bib, ms, "before_gun", gun))
    if point == race.finish_point:
        finishes = standings.chosen_passings(bib).get(point, ())
        if len(finishes) >= race.laps and finishes and finishes[-1] <= ms:
            found.append(EntryWarning(bib, ms, "already_finished", finishes[-1]))
    if typed and abs(ms - now_ms) > FAR_FROM_NOW_MS:
        found.append(EntryWarning(bib, ms, "far_from_now", now_ms))
    return found
