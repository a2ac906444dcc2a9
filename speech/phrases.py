"""The voice channel's phrases and word lists (``phrases.yaml``), loaded once."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

PATH = Path(__file__).with_name("phrases.yaml")


class Currency(BaseModel):
    symbol: str
    major: str
    major_one: str
    minor: str
    minor_one: str


class Phrases(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    did_you_say: str
    say_again: str
    read_back: str
    more_products: str
    no_more_products: str
    agent_mode: str
    ordinals: list[str] = Field(min_length=1)
    prompt_words: str
    id_prompts: list[str] = Field(min_length=1)
    id_cues: list[str]
    id_leads: list[str]
    not_id_words: list[str] = []
    rehear_prompts: list[str] = Field(min_length=1)
    grammar_words: frozenset[str] = frozenset()
    plural_only: frozenset[str] = frozenset()
    more_words: list[str]
    currencies: dict[str, Currency]
    rewrites: list[tuple[str, str]]

    def id_prompts_for(self, catalog: str | None) -> list[str | None]:
        """The prompts of the second hearing for ids, the catalog's vocabulary filled in."""
        return _filled(self.id_prompts, catalog)

    def rehear_prompts_for(self, catalog: str | None) -> list[str | None]:
        """The prompts of the second hearing for a cut-short transcript."""
        return _filled(self.rehear_prompts, catalog)

    def ordinal(self, index: int) -> str:
        return self.ordinals[index] if index < len(self.ordinals) else f"Number {index + 1}"

    def compiled_rewrites(self) -> list[tuple[re.Pattern[str], str]]:
        return [(re.compile(pattern, re.IGNORECASE), repl) for pattern, repl in self.rewrites]

    def is_more(self, text: str) -> bool:
        said = re.sub(r"[^\w\s']", " ", text.lower())
        return " ".join(said.split()) in self.more_words


def _filled(prompts: list[str], catalog: str | None) -> list[str | None]:
    """``{catalog}`` filled in; an empty prompt is None (decode without one)."""
    filled = [p.replace("{catalog}", catalog or "").strip() for p in prompts]
    return [p or None for p in filled]


@lru_cache(maxsize=1)
def load_phrases(path: Path = PATH) -> Phrases:
    return Phrases.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
