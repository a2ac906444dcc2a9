"""Handoff triggers: when a conversation should pass from the bot to a person.

``HandoffRules.check(sentiment=..., text=..., failed_turns=...)`` returns the first trigger that
fires for a message (see ``handoff.yaml``), or None. Intents that hand off (the customer asks for
a person, a complaint) are actions of the registry in ``assistant/decide/actions.py``, which
name their trigger here. The engine switches the session to ``agent`` mode with the
trigger's name as the reason and answers with the trigger's template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ConfigError, UnknownNameError
from dialogue_rules.loading import compile_pattern, parse_rules
from dialogue_rules.sentiment import Sentiment

HANDOFF_FILE = "handoff.yaml"
TRIGGER_ORDER = ("customer_request", "negative_sentiment", "out_of_scope", "repeated_failure")


class _Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: str = Field(min_length=1)
    patterns: list[str] = Field(default_factory=list)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    triggers: dict[str, _Trigger]


@dataclass(frozen=True)
class HandoffTrigger:
    name: str
    template: str


@dataclass(frozen=True)
class HandoffRules:
    templates: dict[str, str]
    out_of_scope: tuple[re.Pattern[str], ...]

    def _fire(self, name: str) -> HandoffTrigger:
        return HandoffTrigger(name, self.templates[name])

    def check(
        self, *, sentiment: Sentiment, text: str, failed_turns: int, max_failed_turns: int
    ) -> HandoffTrigger | None:
        """The first trigger that fires for this message, or None.

        ``failed_turns`` counts the failed turns in a row including this one.
        """
        if sentiment.strong_negative:
            return self._fire("negative_sentiment")
        if self.is_out_of_scope(text):
            return self._fire("out_of_scope")
        if failed_turns >= max_failed_turns:
            return self._fire("repeated_failure")
        return None

    def is_out_of_scope(self, text: str) -> bool:
        return any(p.search(text) for p in self.out_of_scope)

    def out_of_scope_words(self, text: str) -> list[str]:
        """What the out-of-scope patterns found in ``text`` ("personalized")."""
        return [m.group(0) for p in self.out_of_scope for m in p.finditer(text)]

    def names(self) -> list[str]:
        return list(self.templates)

    def trigger(self, name: str) -> HandoffTrigger:
        """The trigger called ``name``; an unknown name lists the valid ones."""
        if name not in self.templates:
            raise UnknownNameError("handoff trigger", name, self.templates)
        return self._fire(name)


def load_handoff_rules(path: Path | None = None) -> HandoffRules:
    origin, raw = parse_rules(_File, HANDOFF_FILE, path)
    missing = [name for name in TRIGGER_ORDER if name not in raw.triggers]
    unknown = [name for name in raw.triggers if name not in TRIGGER_ORDER]
    if missing or unknown:
        raise ConfigError(
            f"{origin}: triggers must be exactly {', '.join(TRIGGER_ORDER)} "
            f"(missing: {missing or 'none'}, unknown: {unknown or 'none'})",
            key=HANDOFF_FILE,
        )
    patterns = tuple(
        compile_pattern(p, where=f"{origin}: triggers.out_of_scope.patterns[{i}]")
        for i, p in enumerate(raw.triggers["out_of_scope"].patterns)
    )
    return HandoffRules(
        templates={name: t.template for name, t in raw.triggers.items()},
        out_of_scope=patterns,
    )


@lru_cache(maxsize=1)
def default_handoff_rules() -> HandoffRules:
    return load_handoff_rules()
