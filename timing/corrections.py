"""Corrections of reads at the desk (pure): a read voided, or an entry typed under a bib nobody
has given to the right bib.

A correction names the journal entry it corrects (`seq`) and carries the read as that entry
counts now (reader, chip or bib, reader time as stored), so that applying it finds the very
read in the standings, live and on a rebuild alike. The corrected entry stays in the journal;
`Standings.voided` remembers which entries were corrected and by which action, so that no read
is voided twice and the desk can show what was voided.

- `void`: the read no longer counts, as if it had never arrived.
- `reassign`: a read of a bib nobody has (a typo at the keyboard) is taken away from that bib
  and counted for `to_bib`, at the same point and time. It is one action, so the two halves
  cannot come apart. The read it gives `to_bib` can itself be voided later (its `seq` is then
  the reassign's).
"""

from __future__ import annotations

from collections.abc import Mapping

from timing.reads import Read
from timing.standings import Standings
from timing.stored_time import decode_time, encode_time


def read_payload(seq: int, reader_id: str, read: Read) -> dict[str, object]:
    """What a correction records of the read it corrects: enough to find it again."""
    micros, clock = encode_time(read)
    return {"seq": seq, "reader": reader_id, "chip": read.chip, "bib": read.bib,
            "time": micros, "clock": clock}


def corrected_read(payload: Mapping[str, object]) -> tuple[str, Read]:
    """(reader id, read) a correction names (ValueError, KeyError on a malformed payload)."""
    moment, dated = decode_time(int(str(payload["time"])), str(payload["clock"]))
    bib = payload.get("bib")
    return str(payload["reader"]), Read(str(payload.get("chip") or ""), moment, dated,
                                        bib=None if bib is None else str(bib))


def given_read(payload: Mapping[str, object]) -> tuple[str, Read]:
    """(reader id, read) a reassign counts for its `to_bib`: the same reader and time."""
    reader_id, read = corrected_read(payload)
    return reader_id, Read("", read.time, read.dated, bib=str(payload["to_bib"]))


def correction_problem(standings: Standings, name: str,
                       payload: Mapping[str, object]) -> str | None:
    """Why the correction `name` ("void" of a read, or "reassign") cannot apply, or None."""
    seq = payload.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        return f"{seq!r} is no journal sequence number"
    by = standings.voided.get(seq)
    if by is not None:
        return f"entry {seq} was corrected already (by entry {by})"
    try:
        reader_id, read = corrected_read(payload)
    except (KeyError, ValueError, OverflowError) as error:
        return f"entry {seq}: a read that cannot be found ({error})"
    if not standings.has_read(reader_id, read):
        return f"entry {seq} is no read that counts now"
    if name == "reassign":
        to_bib = str(payload.get("to_bib"))
        if not standings.has_athlete(to_bib):
            return f"no participant has bib {to_bib!r}"
        owner = (standings.chip_owner(read.chip) if read.bib is None
                 else read.bib if standings.has_athlete(read.bib) else None)
        if owner is not None:
            return (f"entry {seq} is bib {owner}'s read: void it and enter the time for the "
                    "right bib")
    return None


def apply_correction(standings: Standings, name: str, payload: Mapping[str, object],
                     seq: int) -> set[str]:
    """Apply the correction `name` (journal entry `seq`); the bibs whose result may change.
    ValueError when it cannot apply."""
    problem = correction_problem(standings, name, payload)
    if problem is not None:
        raise ValueError(problem)
    reader_id, read = corrected_read(payload)
    standings.remove_read(reader_id, read)
    changed = set()
    owner = standings.chip_owner(read.chip) if read.bib is None else read.bib
    if owner is not None and standings.has_athlete(owner):
        changed.add(owner)
    if name == "reassign":
        reader_id, given = given_read(payload)
        standings.add_read(reader_id, given)
        changed.add(str(payload["to_bib"]))
    standings.voided[int(str(payload["seq"]))] = seq
    return changed
