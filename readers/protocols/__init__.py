"""Sans-IO parsers for chip reader wire formats, one module per vendor.

`make_parser(name)` builds a fresh parser for a format name as used in `event.toml` and by
`gambero parse`.
"""

from __future__ import annotations

import importlib

from readers.protocols.base import Parser

_PARSERS: dict[str, str] = {
    "ipico": "readers.protocols.ipico:IpicoParser",
    "ultra": "readers.protocols.ultra:UltraParser",
    "raceresult": "readers.protocols.raceresult:RaceResultParser",
    "p3": "readers.protocols.p3:P3Parser",
    "manual": "readers.protocols.manual:ManualParser",
    "llrp": "readers.llrp:LlrpParser",
}
NEEDS_EXTRA = {"llrp": "llrp"}
"""Formats whose parser needs an optional extra (`pip install 'gambero[EXTRA]'`)."""

FORMATS: tuple[str, ...] = tuple(_PARSERS)


class UnknownFormat(ValueError):
    pass


def make_parser(name: str) -> Parser:
    """A new parser for the format `name` (one of `FORMATS`)."""
    try:
        target = _PARSERS[name]
    except KeyError:
        raise UnknownFormat(
            f"unknown reader format {name!r} (known: {', '.join(FORMATS)})") from None
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        extra = NEEDS_EXTRA.get(name)
        if extra is None:
            raise
        raise UnknownFormat(f"format {name!r} needs {error.name}: "
                            f"pip install 'gambero[{extra}]'") from error
    parser_class = getattr(module, class_name)
    parser: Parser = parser_class()
    return parser


__all__ = ["FORMATS", "Parser", "UnknownFormat", "make_parser"]
