"""The enumerated-choice measurement: cases are built from the catalog as described, rules read
each answer style, and the model's answer is always one of the listed numbers (or none)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.llm.llama_cpp import LlamaCppLLM
from dialogue_rules.option_values import default_option_values
from eval.choices import STYLES, build_cases, by_llm, by_rules

pytest_plugins = ["tests.assistant.llm.stub_server"]


@pytest.fixture(scope="module")
def products(tau_dir: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((tau_dir / "products.json").read_text(encoding="utf-8"))
    return loaded


def test_cases_come_from_the_catalog_in_every_style(products: dict[str, object]) -> None:
    cases = build_cases(products, count=25, seed=5)
    assert len(cases) == 25 and {c.style for c in cases} == set(STYLES)
    for case in cases:
        assert 3 <= len(case.labels) <= 4 and 0 <= case.wanted < len(case.labels)
        product = next(p for p in products.values() if p["name"] == case.product)  # type: ignore[index]
        assert all(o in [v["options"] for v in product["variants"].values()] for o in case.options)  # type: ignore[index]
    assert build_cases(products, count=25, seed=5) == cases  # the seed decides
    assert build_cases(products, count=25, seed=6) != cases


def test_rules_read_every_style_without_a_wrong_choice(products: dict[str, object]) -> None:
    values = default_option_values()
    cases = build_cases(products, count=50, seed=11)
    chosen = [by_rules(case, values) for case in cases]
    assert all(c is None or c == case.wanted for c, case in zip(chosen, cases, strict=True))
    assert sum(c == case.wanted for c, case in zip(chosen, cases, strict=True)) >= 45


def test_the_model_answers_only_with_a_listed_number(products: dict[str, object], llm: LlamaCppLLM) -> None:
    for case in build_cases(products, count=3, seed=2):
        picked = by_llm(case, llm)
        assert picked is None or 0 <= picked < len(case.labels)
