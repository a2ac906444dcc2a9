from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.errors import RegistryError, UnknownNameError
from dialogue_rules.registry import RuleRegistry


@dataclass(frozen=True)
class _Rule:
    name: str


def test_register_get_and_order() -> None:
    registry = RuleRegistry("form", [_Rule("b_form"), _Rule("a_form")])
    assert registry.names() == ["b_form", "a_form"]
    assert registry.get("a_form") == _Rule("a_form")
    assert "b_form" in registry and len(registry) == 2
    assert [r.name for r in registry] == ["b_form", "a_form"]


def test_duplicate_names_fail() -> None:
    registry = RuleRegistry("form", [_Rule("x_form")])
    with pytest.raises(RegistryError, match="Form 'x_form' is already registered"):
        registry.register(_Rule("x_form"))


def test_unknown_name_lists_valid_names() -> None:
    registry = RuleRegistry("form", [_Rule("b_form"), _Rule("a_form")])
    with pytest.raises(UnknownNameError, match=r"Unknown form 'c_form'\. Valid names: a_form, b_form"):
        registry.get("c_form")


@pytest.mark.parametrize("name", ["", "Bad", "has space", "dash-ed"])
def test_invalid_names_fail(name: str) -> None:
    with pytest.raises(RegistryError, match="Invalid form name"):
        RuleRegistry("form", [_Rule(name)])


def test_frozen_registry_refuses_new_rules() -> None:
    registry = RuleRegistry("form", [_Rule("a_form")])
    registry.freeze()
    with pytest.raises(RegistryError, match="frozen"):
        registry.register(_Rule("b_form"))
    assert registry.names() == ["a_form"]
