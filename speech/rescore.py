"""A product type misheard, put back when the recognizer itself finds the sentence with the type
nearly as likely as what it wrote.

Why: Whisper tiny.en writes words it hears better in general English for a product type's:
"best lamps" for "desk lamps", "running tube" for "running shoe", "of this care" for "office
chair", "Wager model" for "water bottle", "codeware" for "cookware" (the spoken test set, fast
and noisy voices). Beam search's runner-ups rarely hold the type (:mod:`speech.rehear`), and no
spelling or sound rule alone is sure of them (:mod:`speech.correction`). But the model can
score a given sentence against the audio (Whisper's forced alignment): "I need a water bottle
for my sister." scores above "I need a Wager model for my sister.", while a type the customer
did not say scores far below ("desk lamp" for a spoken "floor lamp").

So for a sentence naming no product type, each window of up to ``MAX_WINDOW`` of its words that
sounds like a type (metaphone keys, or the spelling, ``MIN_SOUND`` alike or more: "of this
care" / "office chair" 0.73) gives a candidate with the type in its place, unless the window is
grammar words only or holds a word the catalog keeps (a brand is never replaced). A window
whose first word starts with a grammar word may have that word put back before the type ("Show
meetings" -> "Show me jeans"). The ``MAX_CANDIDATES`` most alike are scored with ``TOKEN_BONUS``
per token (fewer tokens are not by themselves likelier: garbled "Mied and Pervs broken" would
lose to "tents broken"); the best is taken when it scores at most ``MAX_LOSS`` below the heard
sentence and no candidate of another type is within ``MARGIN`` of it. A type that a brand named
in the sentence sells gains how much likelier the brand makes it (:meth:`CatalogTerms.prior`):
"the Ergonomix of this care" is "the Ergonomix office chair" when Ergonomix makes chairs only.

Measured on the spoken test set's questions (eight voices) and 30 spoken policy, delivery and
account questions (eight voices), both on the demo and the tau shop: see README, "Hearing the
catalog's words".
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import jellyfish
from rapidfuzz import fuzz

from speech.recognizer import Likelihood

MAX_LOSS = 8.0  # log-probability (nats, with TOKEN_BONUS) the sentence with the type may lose
MARGIN = 2.0  # nats over the best candidate of another type
TOKEN_BONUS = 2.0  # nats per token, as a word insertion bonus in speech decoding
MIN_SOUND = 0.65  # how alike a window and a type sound (0-1) for a candidate
MAX_WINDOW = 3  # words
MAX_CANDIDATES = 16
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_BETWEEN = re.compile(r"[\s,\-]*")  # words of one phrase: only spaces, commas, hyphens between them


@dataclass(frozen=True)
class CatalogTerms:
    """What the second hearing knows of the catalog's words."""

    product_types: re.Pattern[str]
    """Finds a product type named in a transcript."""
    type_forms: Mapping[str, str]
    """Each spoken form of a type (singular and plural) -> the type."""
    keep: frozenset[str] = frozenset()
    """Words (lower case) never replaced by a type: the catalog's brands."""
    brand_types: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict)
    """Brand (its :func:`words_of`, one space apart) -> each product type of its products -> the
    share of them."""

    @functools.cached_property
    def _types(self) -> int:
        return len(set(self.type_forms.values()))

    @functools.cached_property
    def _longest_brand(self) -> int:
        return max((len(brand.split()) for brand in self.brand_types), default=0)

    def prior(self, text: str) -> dict[str, float]:
        """Nats added to the score of a type the brands named in ``text`` sell: how much likelier
        the type is given the brand than with no brand named (each type alike), ln(share x
        types), where that is above 0. "How much is the Ergonomix of this care?": the shop's
        Ergonomix products are all office chairs, so "office chair" gains ln(20) in a shop of
        20 types. The sentence's runs of words are looked up (a catalog may have thousands of
        brands)."""
        words = words_of(text)
        runs = {
            " ".join(words[start : start + size])
            for size in range(1, self._longest_brand + 1)
            for start in range(len(words) - size + 1)
        }
        gains: dict[str, float] = {}
        for brand in runs & self.brand_types.keys():
            for kind, share in self.brand_types[brand].items():
                if share * self._types > 1:
                    gains[kind] = max(gains.get(kind, 0.0), math.log(share * self._types))
        return gains


def words_of(text: str) -> list[str]:
    """A text's words in lower case: how brands and sentences are matched ("Ben & Jerry's" ->
    ["ben", "jerry's"])."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Candidate:
    text: str
    form: str
    """The product type's spoken form put in."""
    alike: float = 1.0
    """How alike the replaced words and the type sound (0-1)."""


def _squash(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


@functools.lru_cache(maxsize=4096)
def _keys(phrase: str) -> tuple[str, str]:
    """A phrase's letters (spaces aside) and their metaphone key; a catalog's type forms are
    keyed once, not once per window of every sentence."""
    letters = _squash(phrase)
    return letters, jellyfish.metaphone(letters) if letters else ""


def sound_alike(heard: str, form: str) -> float:
    """How alike two phrases sound or are spelled, 0-1: the better of their metaphone keys' and
    their letters' similarity, spaces aside ("of this care" / "office chair": 0.73)."""
    (a, a_sound), (b, b_sound) = _keys(heard), _keys(form)
    if not a or not b:
        return 0.0
    return max(fuzz.ratio(a_sound, b_sound), fuzz.ratio(a, b)) / 100


def candidates(
    text: str, forms: Collection[str], *, grammar: Collection[str] = (), keep: Collection[str] = ()
) -> list[Candidate]:
    """The sentence with a product type put in place of a window of its words (see the module's
    docstring), most alike first; at most ``MAX_CANDIDATES``."""
    words = list(_WORD.finditer(text))
    lowered = [w[0].lower() for w in words]
    found: dict[str, Candidate] = {}
    for size in range(1, MAX_WINDOW + 1):
        for start in range(len(words) - size + 1):
            window = lowered[start : start + size]
            joined = all(
                _BETWEEN.fullmatch(text[words[k].end() : words[k + 1].start()])
                for k in range(start, start + size - 1)
            )
            if not joined or all(w in grammar for w in window):
                continue
            # a grammar word run into the type's first word: "Show meetings" for "Show me jeans"
            leads = [g for g in grammar if window[0].startswith(g) and len(window[0]) > len(g) + 2]
            for form in forms:
                wanted = form.split()
                if window == wanted or any(w in keep and w not in wanted for w in window):
                    continue
                for put in (form, *(f"{g} {form}" for g in leads)):
                    alike = sound_alike(" ".join(window), put)
                    if alike < MIN_SOUND:
                        continue
                    made = text[: words[start].start()] + put + text[words[start + size - 1].end() :]
                    if made not in found or found[made].alike < alike:
                        found[made] = Candidate(made, form, alike)
    ranked = sorted(found.values(), key=lambda c: (-c.alike, c.text))
    return ranked[:MAX_CANDIDATES]


def score(likelihood: Likelihood) -> float:
    """A sentence's log-probability with ``TOKEN_BONUS`` per token: fewer tokens are not by
    themselves likelier ("Mied and Pervs broken" is no likelier as "tents broken")."""
    return likelihood.total + TOKEN_BONUS * likelihood.tokens


def chosen(
    heard: Likelihood,
    scored: list[tuple[Candidate, Likelihood]],
    type_of: Mapping[str, str],
    prior: Mapping[str, float] | None = None,
) -> Candidate | None:
    """The candidate to take (see the module's docstring), given the heard sentence's likelihood
    and each candidate's; ``type_of`` maps a spoken form to its type (singular and plural are
    one), ``prior`` a type to the nats its candidates gain (:meth:`CatalogTerms.prior`)."""
    if not scored:
        return None
    gain = prior or {}
    ranked = sorted(
        ((c, score(s) + gain.get(type_of.get(c.form, c.form), 0.0)) for c, s in scored),
        key=lambda p: p[1],
        reverse=True,
    )
    if not ranked:
        return None
    best, best_score = ranked[0]
    others = [s for c, s in ranked[1:] if type_of.get(c.form, c.form) != type_of.get(best.form, best.form)]
    if score(heard) - best_score > MAX_LOSS or (others and best_score - others[0] < MARGIN):
        return None
    return best
