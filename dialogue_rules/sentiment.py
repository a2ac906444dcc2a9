"""A lexicon sentiment score, the complaint and human-handoff signal.

No maintained sentiment library (vaderSentiment, TextBlob) is a dependency of this project,
so this is a small VADER-style scorer over ``sentiment.yaml``: word and phrase weights,
intensifiers, negation, ALL-CAPS and "!" emphasis, swear words. It answers one question well
enough for routing ("is this customer strongly unhappy?"), not fine-grained sentiment.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dialogue_rules.entities.config import alternation
from dialogue_rules.loading import compile_pattern, parse_rules


@dataclass(frozen=True)
class Sentiment:
    """``score`` in [-1, 1]; ``strong_negative`` is the complaint/handoff signal."""

    score: float
    strong_negative: bool
    terms: tuple[str, ...] = ()


SENTIMENT_FILE = "sentiment.yaml"
_TOKEN = re.compile(r"[a-z*]+(?:'[a-z]+)?", re.IGNORECASE)
_MAX_EXCLAMATIONS = 3


class _LexiconFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alpha: float = Field(gt=0)
    strong_negative_threshold: float = Field(ge=-1, le=0)
    negation_window: int = Field(ge=1)
    negation_factor: float
    caps_factor: float = Field(ge=1)
    exclamation_boost: float = Field(ge=0)
    negations: list[str]
    intensifiers: dict[str, float]
    swear: list[str]
    swear_weight: float = Field(lt=0)
    words: dict[str, float]
    phrases: dict[str, float]


@dataclass(frozen=True)
class SentimentLexicon:
    settings: _LexiconFile
    phrase_pattern: re.Pattern[str]
    phrase_weights: dict[str, float]


def load_sentiment_lexicon(path: Path | None = None) -> SentimentLexicon:
    origin, raw = parse_rules(_LexiconFile, SENTIMENT_FILE, path)
    phrases = {" ".join(k.lower().split()): v for k, v in raw.phrases.items()}
    pattern = compile_pattern(rf"(?<![\w'])(?:{alternation(phrases)})(?![\w'])", where=f"{origin}: phrases")
    return SentimentLexicon(raw, pattern, phrases)


@lru_cache(maxsize=1)
def default_sentiment_lexicon() -> SentimentLexicon:
    return load_sentiment_lexicon()


def score_sentiment(text: str, *, lexicon: SentimentLexicon | None = None) -> Sentiment:
    """Sentiment of one message: ``score`` in [-1, 1]; ``strong_negative`` at or below the
    configured threshold (a lone swear word or "this is ridiculous" reaches it)."""
    lex = lexicon or default_sentiment_lexicon()
    cfg = lex.settings
    total = 0.0
    terms: list[str] = []
    covered: list[tuple[int, int]] = []
    for match in lex.phrase_pattern.finditer(text):
        phrase = " ".join(match.group(0).lower().split())
        total += lex.phrase_weights[phrase]
        terms.append(phrase)
        covered.append(match.span())
    tokens = list(_TOKEN.finditer(text))
    shouting = _shouting(tokens)
    negations = set(cfg.negations)
    swear = set(cfg.swear)
    for i, match in enumerate(tokens):
        if any(start <= match.start() < end for start, end in covered):
            continue
        word = match.group(0).lower()
        weight = cfg.swear_weight if word in swear else cfg.words.get(word, 0.0)
        if not weight:
            continue
        previous = [t.group(0).lower() for t in tokens[max(0, i - cfg.negation_window) : i]]
        if previous and previous[-1] in cfg.intensifiers:
            weight *= cfg.intensifiers[previous[-1]]
        if word not in swear and any(p in negations for p in previous):
            weight *= cfg.negation_factor
        if shouting and match.group(0).isupper() and len(match.group(0)) > 2:
            weight *= cfg.caps_factor
        total += weight
        terms.append(word)
    if total:
        bangs = min(text.count("!"), _MAX_EXCLAMATIONS) * cfg.exclamation_boost
        total += bangs if total > 0 else -bangs
    compound = total / math.sqrt(total * total + cfg.alpha) if total else 0.0
    compound = max(-1.0, min(1.0, compound))
    strong = compound <= cfg.strong_negative_threshold
    return Sentiment(round(compound, 4), strong, tuple(terms))


def _shouting(tokens: list[re.Match[str]]) -> bool:
    """Some words, but not all, are in capitals (an all-caps message is just caps lock)."""
    words = [t.group(0) for t in tokens if len(t.group(0)) > 2]
    upper = [w for w in words if w.isupper()]
    return bool(upper) and len(upper) < len(words)
