"""A product type heard with one of its words wrong, put back when the recognizer itself finds
the sentence with the type nearly as likely as what it wrote.

Why: Whisper tiny.en writes a word it hears better in general English for one of a two-word
product type's: "best lamps" for "desk lamps", "running tube" for "running shoe", "world clock"
for "wall clock", "please jacket" for "fleece jacket" (the spoken test set, fast and noisy
voices). Beam search's runner-ups rarely hold the type (:mod:`speech.rehear`), and no spelling or
sound rule is sure of them (:mod:`speech.correction`). But the model can score a given sentence
against the audio (Whisper's forced alignment): "Show me desk lamps in black." scores a little
below "Show me, best lamp's in black.", while a type the customer did not say scores far below
("desk lamp" for a spoken "floor lamp": 4.7 nats a token lower).

So for a sentence naming no product type, every window of its words that has one word of a
type of as many words in the same place ("X lamp" for "desk lamp") gives a candidate with the
type put in; the candidate the recognizer scores best is taken when it is within
``MAX_SCORE_GAP`` of the heard sentence (mean log-probability per token) and no candidate of
another type is within ``MARGIN`` of it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

MAX_SCORE_GAP = 0.6  # mean log-probability per token below the heard sentence
MARGIN = 0.3  # over the best candidate of another type
MAX_CANDIDATES = 12
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_BETWEEN = re.compile(r"[\s,]*")  # words of one phrase: only spaces and commas between them


@dataclass(frozen=True)
class Candidate:
    text: str
    form: str
    """The product type's spoken form put in."""


def candidates(text: str, forms: Iterable[str], *, grammar: Collection[str] = ()) -> list[Candidate]:
    """The sentence with each product type of two or more words put in place of a window of as
    many words with one word of it, in its place, already there ("show me best lamps" ->
    "show me desk lamps"), replacing no ``grammar`` word ("and watch" is no "smart watch"); at
    most ``MAX_CANDIDATES``."""
    words = list(_WORD.finditer(text))
    lowered = [w[0].lower() for w in words]
    found: dict[str, Candidate] = {}
    for form in sorted(forms):
        wanted = form.split()
        size = len(wanted)
        if size < 2:
            continue
        for start in range(len(words) - size + 1):
            window = lowered[start : start + size]
            replaced = [a for a, b in zip(window, wanted, strict=True) if a != b]
            if len(replaced) == size or not replaced or any(a in grammar for a in replaced):
                continue
            joined = all(
                _BETWEEN.fullmatch(text[words[k].end() : words[k + 1].start()])
                for k in range(start, start + size - 1)
            )
            if not joined:
                continue
            made = text[: words[start].start()] + form + text[words[start + size - 1].end() :]
            found.setdefault(made, Candidate(made, form))
    return list(found.values())[:MAX_CANDIDATES]


def chosen(
    heard: float, scored: list[tuple[Candidate, float]], type_of: Mapping[str, str]
) -> Candidate | None:
    """The candidate to take (see the module's docstring), given the heard sentence's score and
    each candidate's; ``type_of`` maps a spoken form to its type (singular and plural are one)."""
    if not scored:
        return None
    ranked = sorted(scored, key=lambda pair: pair[1], reverse=True)
    best, score = ranked[0]
    others = [s for c, s in ranked[1:] if type_of.get(c.form, c.form) != type_of.get(best.form, best.form)]
    if heard - score > MAX_SCORE_GAP or (others and score - others[0] < MARGIN):
        return None
    return best
