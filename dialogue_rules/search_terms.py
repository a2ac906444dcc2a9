"""The vocabulary that turns a shopping message into a catalog query (``search_terms.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from core.words import tokens, words
from dialogue_rules.loading import compile_pattern, parse_rules

SEARCH_TERMS_FILE = "search_terms.yaml"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filler_words: list[str] = Field(min_length=1)
    cheaper_patterns: list[str] = Field(min_length=1)
    in_stock_patterns: list[str] = Field(min_length=1)
    refine_patterns: list[str] = Field(min_length=1)
    personal_patterns: list[str] = Field(min_length=1)
    policy_words: list[str] = Field(min_length=1)


@dataclass(frozen=True)
class SearchTerms:
    filler: frozenset[str]
    cheaper: tuple[re.Pattern[str], ...]
    in_stock: tuple[re.Pattern[str], ...]
    refine: tuple[re.Pattern[str], ...]
    policy: frozenset[str]
    personal: tuple[re.Pattern[str], ...] = ()

    def query_words(self, text: str, spans: list[tuple[int, int]], *, numbers: bool = False) -> str:
        """``text`` without the entity ``spans``, the personal phrases ("for me", "for my sister":
        who it is for, never what) and filler words: the product words (numbers too with
        ``numbers``: model numbers are part of a product's name, "Zvezda 7027")."""
        spans = [*spans, *self.personal_spans(text)]
        kept = []
        for token in tokens(text, keep="'-"):
            if any(start < token.end and token.start < end for start, end in spans):
                continue
            word = token.text.lower().strip("'-")
            if word and word not in self.filler and (numbers or not word.isdigit()):
                kept.append(token.text)
        return " ".join(kept)

    def wants_cheaper(self, text: str) -> bool:
        return any(p.search(text) for p in self.cheaper)

    def wants_in_stock(self, text: str) -> bool:
        return any(p.search(text) for p in self.in_stock)

    def is_policy_question(self, text: str) -> bool:
        return any(word in self.policy for word in words(text, keep="'-"))

    def is_refinement(self, text: str) -> bool:
        return any(p.search(text) for p in self.refine)

    def wants_personal(self, text: str) -> bool:
        """A recommendation for the customer (or someone they name), not for a product."""
        return any(p.search(text) for p in self.personal)

    def personal_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the personal phrases are ("for me", "gift ideas"), to leave out of a query."""
        return [m.span() for p in self.personal for m in p.finditer(text)]


def load_search_terms(path: Path | None = None) -> SearchTerms:
    origin, raw = parse_rules(_File, SEARCH_TERMS_FILE, path)

    def compiled(patterns: list[str], where: str) -> tuple[re.Pattern[str], ...]:
        return tuple(compile_pattern(p, where=f"{origin}: {where}[{i}]") for i, p in enumerate(patterns))

    return SearchTerms(
        frozenset(w.lower() for w in raw.filler_words),
        compiled(raw.cheaper_patterns, "cheaper_patterns"),
        compiled(raw.in_stock_patterns, "in_stock_patterns"),
        compiled(raw.refine_patterns, "refine_patterns"),
        frozenset(w.lower() for w in raw.policy_words),
        compiled(raw.personal_patterns, "personal_patterns"),
    )


@lru_cache(maxsize=1)
def default_search_terms() -> SearchTerms:
    return load_search_terms()
