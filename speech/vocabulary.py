"""Vocabulary biasing: the catalog's words as the recognizer's prompt, ranked by what customers
say, so "backpack" or "Hydrapeak" come out spelled as the shop spells them.

Product types come first (customers name the kind of thing far more often than a brand), then
brands and option values, then product titles for what budget is left (small catalogs), each
weighted by how many variants carry it, within the
token budget (``speech.vocabulary_tokens``). The former order (brands, then categories, then the
titles of the first products by id) let brand names crowd out the product types, and the model
then heard brands in ordinary words ("waterproof" as "Walga proof").

faster-whisper's ``hotwords`` are placed in the same place as this prompt (after the
"previous text" token, before the start of the transcript), so with no earlier text they are
the same tokens; the prompt is used for both recognizer modes.

:class:`CatalogVocabulary` rebuilds the prompt, the lexicon and the corrector
(:mod:`speech.correction`) when the catalog changes (its change feed position moves), checked at
most every ``recheck_seconds``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from speech.correction import CatalogCorrector
from speech.lexicon import Lexicon, catalog_version, read_lexicon
from speech.rescore import CatalogTerms, words_of
from store.db import Database

log = logging.getLogger(__name__)
_CHARS_PER_TOKEN = 4  # a fair estimate for English product words with Whisper's BPE
_WEIGHTS = {"type": 3.0, "brand": 1.5, "option": 1.2, "plural": 0.6, "title": 0.3}


def ranked_terms(lexicon: Lexicon) -> list[str]:
    """The catalog's terms, most said first: weight of the kind x log(1 + how common)."""
    scored: list[tuple[float, str]] = []
    for term, count in lexicon.types.items():
        scored.append((_WEIGHTS["type"] * math.log1p(count), term))
        if term in lexicon.plurals:  # the prompt's "backpack" already leans toward "backpacks"
            scored.append((_WEIGHTS["plural"] * math.log1p(count), lexicon.plurals[term]))
    for term, count in lexicon.options.items():
        scored.append((_WEIGHTS["option"] * math.log1p(count), term))
    for term, count in lexicon.brands.items():
        scored.append((_WEIGHTS["brand"] * math.log1p(count), term))
    for term, count in lexicon.titles.items():  # what is left of the budget: small catalogs
        scored.append((_WEIGHTS["title"] * math.log1p(count), term))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [term for _, term in scored]


TokenCount = Callable[[str], int]


def estimated_tokens(text: str) -> int:
    return -(-len(text) // _CHARS_PER_TOKEN)


def vocabulary_prompt(
    terms: list[str], *, max_tokens: int, count: TokenCount = estimated_tokens
) -> str | None:
    """The terms in order, each once, as long as the prompt stays within ``max_tokens``
    (counted by ``count``: the recognizer's own tokenizer when there is one)."""
    seen: set[str] = set()
    picked: list[str] = []
    for term in terms:
        clean = " ".join(term.split())
        key = clean.lower()
        if not clean or key in seen:
            continue
        if count(", ".join([*picked, clean]) + ".") > max_tokens:
            continue
        seen.add(key)
        picked.append(clean)
    if not picked:
        return None
    prompt = ", ".join(picked) + "."
    log.info("speech vocabulary: %d terms, %d characters", len(picked), len(prompt))
    return prompt


def lexicon_prompt(lexicon: Lexicon, *, max_tokens: int, count: TokenCount = estimated_tokens) -> str | None:
    if max_tokens <= 0:
        return None
    return vocabulary_prompt(ranked_terms(lexicon), max_tokens=max_tokens, count=count)


def catalog_prompt(
    database: Database, *, max_tokens: int, count: TokenCount = estimated_tokens
) -> str | None:
    return lexicon_prompt(read_lexicon(database), max_tokens=max_tokens, count=count)


def type_pattern(type_forms: Iterable[str]) -> re.Pattern[str] | None:
    """Any of the product types' spoken forms (singular or plural) as whole words; None without
    types."""
    forms = sorted(type_forms, key=len, reverse=True)
    if not forms:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b", re.IGNORECASE)


def catalog_terms(
    lexicon: Lexicon, type_forms: Mapping[str, str], product_types: re.Pattern[str] | None
) -> CatalogTerms | None:
    """What the second hearing needs of the catalog (:mod:`speech.rescore`); None when the
    catalog has no product types."""
    if product_types is None:
        return None
    brands = frozenset(w for brand in lexicon.brands for w in words_of(brand))
    # keyed by the brand's words, as a transcript's are matched ("Ben & Jerry's" -> "ben jerry's")
    shares = {
        " ".join(words_of(brand)): {kind: count / total for kind, count in kinds.items()}
        for brand, kinds in lexicon.brand_types.items()
        if (total := sum(kinds.values())) and words_of(brand)
    }
    return CatalogTerms(product_types, type_forms, keep=brands, brand_types=shares)


class CatalogVocabulary:
    """The lexicon and prompt of the shop's current catalog, rebuilt when it changes."""

    def __init__(
        self,
        database: Database,
        *,
        max_tokens: int,
        extra: str | None = None,
        count: TokenCount = estimated_tokens,
        recheck_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._max_tokens = max_tokens
        self._extra = extra
        self._count = count
        self._recheck = recheck_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._build(read_lexicon(database))
        self._checked = clock()

    def _build(self, lexicon: Lexicon) -> None:
        """Everything the voice channel reads of the catalog, from its lexicon."""
        self.lexicon = lexicon
        self.prompt = self._prompt()
        self.corrector = CatalogCorrector(lexicon)
        self.product_types = type_pattern(self.corrector.type_forms)
        self.terms = catalog_terms(lexicon, self.corrector.type_forms, self.product_types)

    def _prompt(self) -> str | None:
        parts = [lexicon_prompt(self.lexicon, max_tokens=self._max_tokens, count=self._count), self._extra]
        return " ".join(p for p in parts if p) or None

    def refresh(self) -> bool:
        """Rebuild if the catalog changed since the last read (checked at most every
        ``recheck_seconds``); True when it was rebuilt."""
        now = self._clock()
        if now - self._checked < self._recheck:
            return False
        with self._lock:
            self._checked = now
            try:
                version = catalog_version(self._database)
            except Exception:  # the store is busy or gone: keep the vocabulary we have
                log.warning("could not check the catalog for vocabulary changes", exc_info=True)
                return False
            if version == self.lexicon.version:
                return False
            self._build(read_lexicon(self._database))
        log.info("speech vocabulary rebuilt after catalog changes", extra={"catalog_version": version})
        return True
