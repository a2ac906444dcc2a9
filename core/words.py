"""The one word tokenizer: words (with their spans) in customer messages, titles and options.

A word is a run of letters, digits and underscores (any script: "café", "größe"); ``keep`` names
the characters that may also sit inside a word, for callers that must keep "don't", "t-shirt",
"1.5l" or "o\u2019clock" whole: any of ``'``, the right single quote (U+2019), ``-``, ``.``
and ``*``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

KEEPABLE = "'\u2019-.*"


@dataclass(frozen=True)
class Token:
    """A word and where it stands in the text (``text[start:end]``)."""

    text: str
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


@cache
def _pattern(keep: str) -> re.Pattern[str]:
    unknown = set(keep) - set(KEEPABLE)
    if unknown:
        raise ValueError(f"keep may hold only {KEEPABLE!r}, not {''.join(sorted(unknown))!r}")
    return re.compile(r"[\w" + re.escape(keep) + "]+") if keep else re.compile(r"\w+")


def tokens(text: str, *, keep: str = "") -> list[Token]:
    """The words of ``text`` as written, with their spans."""
    return [Token(m.group(0), m.start(), m.end()) for m in _pattern(keep).finditer(text)]


def words(text: str, *, keep: str = "") -> list[str]:
    """The lower-cased words of ``text``, in order."""
    return _pattern(keep).findall(text.lower())


def folded(text: object) -> str:
    """``text`` as a person compares it: runs of spaces as one, case folded ("Mary  Ann" and
    "mary ann" are the same name; non-ASCII letters fold too, unlike SQLite's lower())."""
    return " ".join(str(text).split()).casefold()


def stems(text: str, *, stop: Collection[str] = (), min_length: int = 3) -> set[str]:
    """Lower-cased words of at least ``min_length`` letters, not in ``stop``, with a plural "s"
    cut ("socks" and "sock" meet): good enough to tell which line of a short list is meant."""
    return {w.rstrip("s") for w in words(text) if len(w) >= min_length and w not in stop}
