"""Variants described by some of their options, on made-up catalogs (no demo-shop vocabulary)."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.decide.variants import described, option_values
from dialogue_rules.option_values import default_option_values

VALUES = default_option_values()


@dataclass(frozen=True)
class V:
    id: str
    options: dict[str, str]


KETTLES = [
    V("k1", {"capacity": "1L", "material": "plastic", "stovetop compatibility": "gas"}),
    V("k2", {"capacity": "1.5L", "material": "glass", "stovetop compatibility": "gas"}),
    V("k3", {"capacity": "1.5L", "material": "glass", "stovetop compatibility": "induction"}),
    V("k4", {"capacity": "2L", "material": "stainless steel", "stovetop compatibility": "induction"}),
]


def test_the_variants_with_every_named_value() -> None:
    assert [v.id for v in described(VALUES, "the 1.5 liters glass one", KETTLES)] == ["k2", "k3"]
    assert [v.id for v in described(VALUES, "1.5 liters, glass, for induction", KETTLES)] == ["k3"]
    assert described(VALUES, "a red one", KETTLES) == []  # names nothing this product has


def test_a_replacement_keeps_what_is_not_named() -> None:
    current = KETTLES[0].options  # 1L plastic, gas
    picked = described(VALUES, "I'd like it in 1.5L glass instead", KETTLES[1:], current=current)
    assert [v.id for v in picked] == ["k2"]  # stays on gas


def test_the_same_value_as_now_does_not_narrow_a_change() -> None:
    current = KETTLES[1].options  # 1.5L glass gas
    picked = described(VALUES, "same 1.5L glass but for induction", KETTLES, current=current)
    assert [v.id for v in picked] == ["k3"]


def test_option_values_of_variants() -> None:
    assert option_values(KETTLES)["capacity"] == {"1L", "1.5L", "2L"}
