"""Whether a timekeeper's action can apply, checked before it is journaled (pure).

The live core refuses (`ActionError`) an action that `check_action` finds wrong, so the journal
holds only actions that apply: an unknown bib, race, wave or point, a chip someone else wears,
a gun outside the event's days, a reader clock offset of more than a day, a penalty of a day or
more, text too long for its column or holding control characters.
"""

from __future__ import annotations

from timing.corrections import correction_problem
from timing.entries import (
    ActionEntry,
    ActionError,
    athlete_from,
    checked_reader,
    describe_error,
    gun_time,
    status_of,
    voided_seq,
)
from timing.limits import BIB_MAX, CATEGORY_MAX, CHIP_MAX, NAME_MAX, PENALTY_MAX_MS, REASON_MAX
from timing.model import Athlete
from timing.standings import Standings
from timing.text import text_problem


def check_action(standings: Standings, action: ActionEntry) -> None:
    """Raise ActionError if `action` would not apply to `standings`."""
    payload = action.payload
    reason = text_problem(action.reason, "reason", REASON_MAX)
    if reason is not None:
        raise ActionError(f"{action.action}: {reason}")
    if action.action in ("status", "penalty", "chip"):
        bib = str(payload.get("bib"))
        if not standings.has_athlete(bib):
            raise ActionError(f"{action.action}: no participant has bib {bib!r}")
    if action.action == "gun":
        _check_gun(standings, action)
    elif action.action == "chip":
        chip = str(payload.get("chip"))
        problem = text_problem(chip, "chip code", CHIP_MAX, free=False)
        if problem is not None or not chip:
            raise ActionError(f"chip: {problem or 'no chip code'}")
        owner = standings.chip_owner(chip)
        if owner not in (None, payload.get("bib")) and not payload.get("move"):
            raise ActionError(f"chip: {chip} already belongs to bib {owner} (move it "
                              "explicitly to swap)")
    elif action.action in ("edit", "participant"):
        _check_athlete(standings, action)
    elif action.action == "reader":
        try:
            config = checked_reader(action.payload)
        except (KeyError, ValueError) as error:
            raise ActionError(f"reader: {describe_error(error)}") from None
        if standings.has_reader(config.id):
            raise ActionError(f"reader: {config.id!r} already exists")
        if config.point not in {point.id for point in standings.event.points}:
            raise ActionError(f"reader: no point {config.point!r}")
    elif action.action == "status" and payload.get("status") is not None:
        status_of(payload.get("status"))
    elif action.action == "penalty":
        try:
            seconds = float(str(payload.get("seconds")))
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds * 1000 < PENALTY_MAX_MS:
            raise ActionError(f"penalty: seconds must be a number from 0 to under a day, not "
                              f"{payload.get('seconds')!r}")
    elif action.action == "void" and "reader" not in payload:
        if voided_seq(action) is None:
            raise ActionError(f"void: {payload.get('seq')!r} is no journal sequence number")
    elif action.action in ("void", "reassign"):
        problem = correction_problem(standings, action.action, payload)
        if problem is not None:
            raise ActionError(f"{action.action}: {problem}")


def _check_gun(standings: Standings, action: ActionEntry) -> None:
    race_id = str(action.payload.get("race"))
    try:
        race = standings.race(race_id)
    except KeyError:
        raise ActionError(f"gun: no race {race_id!r}") from None
    wave = action.payload.get("wave")
    if wave is not None and race.wave(str(wave)) is None:
        raise ActionError(f"gun: race {race_id} has no wave {wave!r}")
    gun_time(standings, action.payload)


def _check_athlete(standings: Standings, action: ActionEntry) -> None:
    name = action.action
    bib = str(action.payload.get("bib"))
    registered = standings.has_athlete(bib)
    if name == "edit" and not registered:
        raise ActionError(f"edit: no participant has bib {bib!r}")
    if name == "participant" and registered:
        raise ActionError(f"participant: bib {bib} is already registered")
    try:
        athlete = athlete_from(action.payload)
        standings.race(athlete.race)
    except (KeyError, ValueError) as error:
        raise ActionError(f"{name}: {describe_error(error)}") from None
    problem = athlete_problem(athlete)
    if problem is not None:
        raise ActionError(f"{name}: bib {bib}: {problem}")
    for chip in athlete.chips:
        owner = standings.chip_owner(chip)
        if owner not in (None, bib):
            raise ActionError(f"{name}: chip {chip} already belongs to bib {owner}")


def athlete_problem(athlete: Athlete) -> str | None:
    """Why `athlete` cannot be kept as a participant (a field too long for its column, or
    holding characters it may not), or None."""
    if not athlete.bib:
        return "no bib"
    checks = [(athlete.bib, "bib", BIB_MAX, False),
              (athlete.first_name, "first_name", NAME_MAX, True),
              (athlete.last_name, "last_name", NAME_MAX, True),
              (athlete.club, "club", NAME_MAX, True),
              (athlete.category, "category", CATEGORY_MAX, True),
              *((chip, "chip code", CHIP_MAX, False) for chip in athlete.chips)]
    for value, field, limit, free in checks:
        problem = text_problem(value, field, limit, free=free)
        if problem is not None:
            return problem
    return None
