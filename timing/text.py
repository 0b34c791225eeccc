"""Text that people typed, checked before it is kept (pure: no I/O).

Two kinds of text come in. Identifiers (bibs, chip codes, ids) name things: they may hold no
control or formatting character at all. Free text (names, clubs, reasons) may hold the
formatting characters of right-to-left scripts, but their embeddings, overrides and isolates are
closed at the end of the text (`isolate_bidi`), so that a name can never reverse the page's own
text around it. Neither may hold a control character (NUL, a line break, a tab): the API refuses
one, a file has it replaced by a space and says so at its line.
"""

from __future__ import annotations

import unicodedata

_EMBEDDINGS = {"\u202a", "\u202b", "\u202d", "\u202e"}
"""LRE, RLE, LRO, RLO: each open until a PDF (U+202C)."""
_ISOLATES = {"\u2066", "\u2067", "\u2068"}
"""LRI, RLI, FSI: each open until a PDI (U+2069)."""
_PDF = "\u202c"
_PDI = "\u2069"


_NEVER = {"Cc", "Cs", "Zl", "Zp"}
"""Control characters, lone surrogates, line and paragraph separators: in no text."""


def control_character(text: str, *, free: bool) -> str | None:
    """The first character `text` may not hold, or None. Free text may hold formatting
    characters (bidi marks, zero-width joiners) and any space; an identifier only printable
    characters and the plain space."""
    if text.isprintable():  # nearly always: a scan in C
        return None
    for char in text:
        if char.isprintable():
            continue
        category = unicodedata.category(char)
        if free and category not in _NEVER:
            continue
        return char
    return None


def text_problem(text: str, field: str, max_length: int, *, free: bool = True) -> str | None:
    """Why `text` cannot be kept as `field`, or None."""
    if len(text) > max_length:
        return f"{field} is longer than {max_length} characters ({len(text)})"
    char = control_character(text, free=free)
    if char is not None:
        return f"{field} holds the control character {describe(char)}"
    return None


def describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def without_controls(text: str) -> str:
    """Free text with its control characters (not formatting ones) replaced by spaces."""
    return "".join(" " if not char.isprintable() and unicodedata.category(char) in _NEVER
                   else char for char in text).strip()


def isolate_bidi(text: str) -> str:
    """`text` with every bidi embedding, override and isolate it opens closed at its end, and
    every closing character that closes nothing dropped (UAX #9: a PDI closes what was opened
    after its isolate too)."""
    if not any(char in _EMBEDDINGS or char in _ISOLATES or char in (_PDF, _PDI)
               for char in text):
        return text
    kept: list[str] = []
    open_marks: list[str] = []
    for char in text:
        if char in _EMBEDDINGS or char in _ISOLATES:
            open_marks.append(char)
        elif char == _PDF:
            if not open_marks or open_marks[-1] not in _EMBEDDINGS:
                continue
            open_marks.pop()
        elif char == _PDI:
            if not any(mark in _ISOLATES for mark in open_marks):
                continue
            while open_marks.pop() not in _ISOLATES:
                pass
        kept.append(char)
    kept.extend(_PDI if mark in _ISOLATES else _PDF for mark in reversed(open_marks))
    return "".join(kept)


def clean_free_text(text: str) -> str:
    """Free text as it is kept: control characters replaced, bidi controls isolated."""
    return isolate_bidi(without_controls(text))
