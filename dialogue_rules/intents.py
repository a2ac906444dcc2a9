"""Intent matching: patterns first, then nearest neighbour over example utterances.

``IntentMatcher(embedder=...)`` embeds every example of ``intents.yaml`` once, when it is
built; the caller owns the embedder (the one the search index uses) and keeps one matcher per
process. ``match(text)`` returns every candidate with its score, best first:

1. pattern hits score ``pattern_score + priority / 1000`` (an intent's ``exclude`` patterns
   veto its own hits, e.g. "I don't want to cancel");
2. a strongly negative sentiment adds the complaint intent, ranked below every pattern hit;
3. otherwise the example with the highest cosine similarity decides, if it reaches
   ``similarity_threshold``; below it the result is ``"unknown"`` and the LLM step takes over.

Without an embedder only steps 1-2 run (rules-only deployments, tests of the patterns).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import UnknownNameError
from dialogue_rules.guardrails import GuardedInput
from dialogue_rules.loading import compile_pattern, parse_rules
from dialogue_rules.sentiment import Sentiment, SentimentLexicon, score_sentiment
from retrieval.embeddings import Embedder

UNKNOWN_INTENT = "unknown"


class MatchSource(enum.StrEnum):
    PATTERN = "pattern"
    EXAMPLE = "example"
    SENTIMENT = "sentiment"
    NONE = "none"


@dataclass(frozen=True)
class IntentCandidate:
    intent: str
    score: float
    source: MatchSource
    evidence: str  # the pattern's id, the nearest example, or the sentiment terms


@dataclass(frozen=True)
class IntentResult:
    """The best intent (``"unknown"`` below the confidence threshold) and every candidate,
    best first, with its score and where it came from."""

    intent: str
    confidence: float
    source: MatchSource
    candidates: tuple[IntentCandidate, ...]
    sentiment: Sentiment

    @property
    def is_unknown(self) -> bool:
        return self.intent == UNKNOWN_INTENT

    def has(self, intent: str) -> bool:
        return any(c.intent == intent for c in self.candidates)

    def score_of(self, intent: str) -> float:
        return max((c.score for c in self.candidates if c.intent == intent), default=0.0)


INTENTS_FILE = "intents.yaml"
MIN_EXAMPLES = 8
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,47}$")


class _IntentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: int = Field(default=50, ge=0, le=99)
    interrupts_form: bool = False
    aside: bool = False
    min_similarity: float | None = Field(default=None, gt=0, lt=1)
    patterns: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[str] = Field(min_length=MIN_EXAMPLES)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern_score: float = Field(gt=0, le=0.9)
    similarity_threshold: float = Field(gt=0, lt=1)
    sentiment_intent: str | None = None
    off_topic_intent: str | None = None


class _IntentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: _Settings
    intents: dict[str, _IntentEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> _IntentFile:
        bad = [name for name in self.intents if not _NAME.match(name) or name == UNKNOWN_INTENT]
        if bad:
            raise ValueError(f"invalid intent names (lower_snake_case, not 'unknown'): {', '.join(bad)}")
        for key in ("sentiment_intent", "off_topic_intent"):
            wanted = getattr(self.settings, key)
            if wanted is not None and wanted not in self.intents:
                raise ValueError(f"settings.{key} {wanted!r} is not an intent")
        return self


@dataclass(frozen=True)
class IntentRule:
    name: str
    priority: int
    patterns: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    examples: tuple[str, ...]
    min_similarity: float | None = None
    interrupts_form: bool = False
    """Said while a form is open, this intent may leave the form (see ``intents.yaml``)."""
    aside: bool = False
    """Said while a form waits for who the customer is, this intent is answered and the form
    stays open (see ``intents.yaml``)."""


@dataclass(frozen=True)
class IntentConfig:
    """The compiled contents of ``intents.yaml``."""

    intents: tuple[IntentRule, ...]
    pattern_score: float
    similarity_threshold: float
    sentiment_intent: str | None
    off_topic_intent: str | None = None

    def names(self) -> list[str]:
        return [rule.name for rule in self.intents]

    def get(self, name: str) -> IntentRule:
        for rule in self.intents:
            if rule.name == name:
                return rule
        raise UnknownNameError("intent", name, self.names())

    def interrupts_form(self, name: str) -> bool:
        """Whether intent ``name`` may leave an open form (False for ``unknown``)."""
        return name != UNKNOWN_INTENT and self.get(name).interrupts_form

    def aside(self, name: str) -> bool:
        """Whether intent ``name`` is answered while a form waits for the customer's identity,
        the form kept open (False for ``unknown``)."""
        return name != UNKNOWN_INTENT and self.get(name).aside


def load_intent_config(path: Path | None = None) -> IntentConfig:
    """Compile ``path`` (default: the packaged intents.yaml). Every pattern is compiled here,
    so a bad one fails at load with a ConfigError naming the intent and the pattern."""
    origin, raw = parse_rules(_IntentFile, INTENTS_FILE, path)
    rules = []
    for name, entry in raw.intents.items():
        where = f"{origin}: intents.{name}"
        patterns = tuple(
            compile_pattern(p, where=f"{where}.patterns[{i}]") for i, p in enumerate(entry.patterns)
        )
        exclude = tuple(
            compile_pattern(p, where=f"{where}.exclude[{i}]") for i, p in enumerate(entry.exclude)
        )
        examples = tuple(e.strip() for e in entry.examples if e.strip())
        rules.append(
            IntentRule(
                name,
                entry.priority,
                patterns,
                exclude,
                examples,
                entry.min_similarity,
                entry.interrupts_form,
                entry.aside,
            )
        )
    s = raw.settings
    return IntentConfig(
        tuple(rules), s.pattern_score, s.similarity_threshold, s.sentiment_intent, s.off_topic_intent
    )


@lru_cache(maxsize=1)
def default_intent_config() -> IntentConfig:
    return load_intent_config()


class IntentMatcher:
    """Matches one message to intents. Build once per process; ``match`` is thread-safe."""

    def __init__(
        self,
        *,
        embedder: Embedder | None,
        config: IntentConfig | None = None,
        lexicon: SentimentLexicon | None = None,
    ) -> None:
        self.config = config or default_intent_config()
        self._embedder = embedder
        self._lexicon = lexicon
        self._example_intents: list[str] = []
        self._example_texts: list[str] = []
        for rule in self.config.intents:
            for example in rule.examples:
                self._example_intents.append(rule.name)
                self._example_texts.append(example)
        self._matrix: np.ndarray | None = None
        if embedder is not None:
            self._matrix = embedder.embed_documents(texts=self._example_texts)

    def match(self, text: str, *, top_k: int = 5) -> IntentResult:
        """Ranked intent candidates for ``text`` (run it on ``GuardedInput.text``)."""
        sentiment = score_sentiment(text, lexicon=self._lexicon)
        candidates = self.pattern_candidates(text)
        wanted = self.config.sentiment_intent
        if sentiment.strong_negative and wanted is not None and all(c.intent != wanted for c in candidates):
            # Below every pattern hit: "I want a refund, this is awful" stays a return.
            score = round(self.config.pattern_score, 4)
            candidates.append(
                IntentCandidate(wanted, score, MatchSource.SENTIMENT, ", ".join(sentiment.terms))
            )
        candidates.sort(key=lambda c: -c.score)
        hit = bool(candidates)
        seen = {c.intent for c in candidates}
        for candidate in self.example_candidates(text):
            if candidate.intent not in seen:
                candidates.append(candidate)
                seen.add(candidate.intent)
        ranked = tuple(candidates[: max(top_k, 1)])
        if hit:
            best = ranked[0]
            return IntentResult(best.intent, best.score, best.source, ranked, sentiment)
        for candidate in ranked:
            if candidate.score < self.config.similarity_threshold:
                break
            if candidate.score >= self._min_similarity(candidate.intent):
                return IntentResult(candidate.intent, candidate.score, candidate.source, ranked, sentiment)
        confidence = ranked[0].score if ranked else 0.0
        return IntentResult(UNKNOWN_INTENT, confidence, MatchSource.NONE, ranked, sentiment)

    def match_guarded(self, guarded: GuardedInput, *, top_k: int = 5) -> IntentResult:
        """Match a message after the guardrails: one they declined as off-topic is the
        off-topic intent (evidence: the guardrail category); one they refused is unknown."""
        wanted = self.config.off_topic_intent
        if guarded.off_topic and wanted is not None and guarded.violation is not None:
            score = self._pattern_score(self.config.get(wanted))
            evidence = f"guardrails.off_topic.{guarded.violation.detail.get('category', '')}"
            candidate = IntentCandidate(wanted, score, MatchSource.PATTERN, evidence)
            return IntentResult(
                wanted, score, MatchSource.PATTERN, (candidate,), score_sentiment(guarded.text)
            )
        if not guarded.ok:
            return IntentResult(UNKNOWN_INTENT, 0.0, MatchSource.NONE, (), score_sentiment(guarded.text))
        return self.match(guarded.text, top_k=top_k)

    def pattern_candidates(self, text: str) -> list[IntentCandidate]:
        """Every intent one of whose patterns matches (and none of whose excludes do)."""
        found: list[IntentCandidate] = []
        for rule in self.config.intents:
            if any(p.search(text) for p in rule.exclude):
                continue
            for index, pattern in enumerate(rule.patterns):
                if pattern.search(text):
                    evidence = f"{rule.name}.patterns[{index}]"
                    found.append(
                        IntentCandidate(rule.name, self._pattern_score(rule), MatchSource.PATTERN, evidence)
                    )
                    break
        return sorted(found, key=lambda c: -c.score)

    def example_candidates(self, text: str) -> list[IntentCandidate]:
        """One candidate per intent: its example nearest to ``text`` by cosine similarity."""
        if self._embedder is None or self._matrix is None or not text.strip():
            return []
        query = self._embedder.embed_query(text=text)
        similarities = self._matrix @ query
        best: dict[str, tuple[float, int]] = {}
        for index, score in enumerate(similarities.tolist()):
            intent = self._example_intents[index]
            if intent not in best or score > best[intent][0]:
                best[intent] = (score, index)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        return [
            IntentCandidate(intent, round(float(score), 4), MatchSource.EXAMPLE, self._example_texts[index])
            for intent, (score, index) in ranked
        ]

    def _min_similarity(self, intent: str) -> float:
        """The example similarity ``intent`` needs (actions that change things need more)."""
        rule = self.config.get(intent)
        return max(self.config.similarity_threshold, rule.min_similarity or 0.0)

    def _pattern_score(self, rule: IntentRule) -> float:
        return round(self.config.pattern_score + rule.priority / 1000, 4)
