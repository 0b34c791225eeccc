"""Finding people as people type them (pure): accents and case ignored, curly and straight
apostrophes alike, first and last name in either order, words by their beginning.

`Schafer` finds `Schäfer`, `O Suilleabhain` finds `Ó Súilleabháin`, `dangelo` and `d'ang`
(with a straight or a curly apostrophe) find `D'Angelo`, `giulia f` and `Ferrari Giulia` find
`Giulia Ferrari`. A name is cut into words at
spaces, hyphens and apostrophes; a word also counts joined to the next one across an apostrophe
or hyphen (`dangelo`, `dellacqua`). Every word of the query must begin some word of the name,
each a different one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPLIT = re.compile("[\\s\\-\u2010\u2011\u2012\u2013\u2014'\u2019\u2018\u02bc`\u00b4.,]+")
"""Between words: spaces, hyphens and dashes, apostrophes (straight, curly, modifier, grave,
acute), dots and commas (`St. John`, `Rossi, Giulia`)."""
_JOINERS = re.compile("['\u2019\u2018\u02bc`\u00b4\\-\u2010\u2011]")
"""What joins two words of one name (`D'Angelo`, `Dell'Acqua-Santangelo`)."""
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae",
                          "œ": "oe", "\u0131": "i"})
"""Letters that do not decompose into a base letter and a mark."""


def folded(text: str) -> str:
    """`text` lower-cased, without accents (`Ó Súilleabháin` -> `o suilleabhain`)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=262_144)
def name_words(first_name: str, last_name: str) -> tuple[str, ...]:
    """The words a name can be found by (cached: a search visits every row of a race)."""
    words: list[str] = []
    for part in (first_name, last_name):
        text = folded(part)
        words += (word for word in _SPLIT.split(text) if word)
        for joined in re.split(r"\s+", text):  # D'Angelo -> dangelo; Dell'Acqua-S -> dellacquas
            compact = _JOINERS.sub("", joined)
            if compact and _JOINERS.search(joined):
                words.append(compact)
    return tuple(words)


def query_words(query: str) -> tuple[str, ...]:
    return tuple(word for word in _SPLIT.split(folded(query.strip())) if word)


def finds(query: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """Whether every word of `query` begins a different word of `words` (either order)."""
    free = list(words)
    # Longest query words first: "giulia gi" must not let "gi" take the only "giulia".
    for wanted in sorted(query, key=len, reverse=True):
        for index, word in enumerate(free):
            if word.startswith(wanted):
                del free[index]
                break
        else:
            return False
    return True
