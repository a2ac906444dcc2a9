"""The schema of ``entities.yaml`` and helpers the extractors share (number words, cue lists)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dialogue_rules.loading import compile_pattern, parse_rules

ENTITIES_FILE = "entities.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NumbersConfig(_Strict):
    words: dict[str, int]


class OrderIdConfig(_Strict):
    pattern: str
    context_pattern: str


class EmailConfig(_Strict):
    pattern: str
    spoken_pattern: str


class ZipConfig(_Strict):
    pattern: str
    keyword: str


class ComparatorConfig(_Strict):
    prefix: list[str] = Field(default_factory=list)
    suffix: list[str] = Field(default_factory=list)
    weak: list[str] = Field(default_factory=list)


class MoneyConfig(_Strict):
    amount: str
    non_money_units: list[str]
    around_tolerance: float = Field(ge=0, lt=1)
    comparators: dict[str, ComparatorConfig]
    range_prefix: str
    range_unmarked_prefixes: list[str]
    range_separator: str


class QuantityConfig(_Strict):
    phrases: dict[str, int]
    counted: str
    verbs: str
    explicit: str
    not_after: str
    max: int = Field(ge=1)


class SizeUnit(_Strict):
    pattern: str
    axis: str
    unit: str
    factor: int = Field(ge=1)
    format: str
    case_sensitive: bool = False


class NumericSize(_Strict):
    pattern: str
    axis: str
    confidence: float = Field(gt=0, le=1)


class SizeConfig(_Strict):
    letters: dict[str, str]
    word_before: str
    weak_word_before: str
    weak_words: list[str]
    word_after: str
    not_word_after: str
    units: list[SizeUnit]
    numeric: list[NumericSize]
    letter_sizes: str
    single_letters: str


class ColorConfig(_Strict):
    values: dict[str, list[str]]
    weak: list[str] = Field(default_factory=list)
    families: dict[str, list[str]]
    not_colors: list[str] = Field(default_factory=list)


class CardDigitsConfig(_Strict):
    pattern: str


class PersonNameConfig(_Strict):
    strong_intros: str
    weak_intros: str
    name_token: str
    bare_with_zip: str
    not_names: list[str]


class ProductRefConfig(_Strict):
    ordinals: dict[str, int]
    not_after: str
    nouns: str
    numbered: str
    range: str
    all: str
    demonstrative: str
    cheapest: str
    priciest: str
    attribute: str
    not_attributes: list[str]


class EntityConfig(_Strict):
    """The validated contents of ``entities.yaml``; ``origin`` names the file in errors."""

    origin: str = ENTITIES_FILE
    numbers: NumbersConfig
    order_id: OrderIdConfig
    email: EmailConfig
    zip_code: ZipConfig
    card_digits: CardDigitsConfig
    money: MoneyConfig
    quantity: QuantityConfig
    size: SizeConfig
    colors: ColorConfig
    person_name: PersonNameConfig
    product_ref: ProductRefConfig

    def compile(self, pattern: str, where: str, *, flags: int = re.IGNORECASE) -> re.Pattern[str]:
        return compile_pattern(pattern, where=f"{self.origin}: {where}", flags=flags)

    def number_words_pattern(self) -> str:
        """An alternation of the number words, longest first ("a hundred" before "hundred")."""
        return alternation(self.numbers.words)

    def number_value(self, token: str) -> int | None:
        """An integer from digits or a number word ("three", "twenty-five"); None otherwise."""
        token = token.strip().lower()
        if token.isdigit():
            return int(token)
        words = self.numbers.words
        if token in words:
            return words[token]
        parts = re.split(r"[\s-]+", token)
        if len(parts) == 2 and parts[0] in words and parts[1] in words:
            tens, units = words[parts[0]], words[parts[1]]
            if tens % 10 == 0 and 20 <= tens <= 90 and 1 <= units <= 9:
                return tens + units
        return None


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of literal words/phrases, longest first; spaces match any whitespace."""
    items = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(item).replace(r"\ ", r"\s+") for item in items)


def load_entity_config(path: Path | None = None) -> EntityConfig:
    """Validate ``path`` (default: the packaged entities.yaml); errors name the bad entry."""
    origin, config = parse_rules(EntityConfig, ENTITIES_FILE, path, package="dialogue_rules.entities")
    return config.model_copy(update={"origin": origin})


@lru_cache(maxsize=1)
def default_entity_config() -> EntityConfig:
    return load_entity_config()
