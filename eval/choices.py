"""Can the bundled model pick among enumerated choices? A measurement, not a feature.

The assistant asks "which of these versions?" with a numbered list (an exchange, a sold-out
wish). Rules read the answer by position ("the third one"), by the option values it names
("the black one with tactile switches") or by its price. This builds such questions from a
catalog (tau retail's products: up to four versions of one product, one of them wanted) and
answers in a customer's ways, then scores rules alone and the LLM choosing a number under a
GBNF grammar (``0`` for "cannot tell"). A choice that is not the wanted version would be a
wrong proposal, so what matters is right answers *and* wrong ones.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from assistant.decide.picks import position
from assistant.llm.protocol import LLM, ChatMessage, LLMError
from dialogue_rules.entities.extract import extract_all
from dialogue_rules.option_values import OptionValues, default_option_values

_ORDINALS = ("first", "second", "third", "fourth")
STYLES = ("values", "one_value", "ordinal", "number", "price")


@dataclass(frozen=True)
class ChoiceCase:
    product: str
    labels: tuple[str, ...]
    options: tuple[dict[str, str], ...]
    prices: tuple[Decimal, ...]
    wanted: int
    answer: str
    style: str


@dataclass
class ChoiceReport:
    cases: int = 0
    right: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    by_style: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, who: str, case: ChoiceCase, chosen: int | None) -> None:
        style = self.by_style.setdefault(case.style, Counter())
        if chosen is None:
            style[f"{who}_none"] += 1
        elif chosen == case.wanted:
            self.right[who] += 1
            style[f"{who}_right"] += 1
        else:
            self.wrong[who] += 1
            style[f"{who}_wrong"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "right": dict(self.right),
            "wrong": dict(self.wrong),
            "by_style": {k: dict(v) for k, v in sorted(self.by_style.items())},
        }


def _label(options: dict[str, str], price: Decimal) -> str:
    return f"{', '.join(f'{k} {v}' for k, v in options.items())} ({price} USD)"


def build_cases(products: dict[str, Any], *, count: int, seed: int) -> list[ChoiceCase]:
    """``count`` questions about products with at least three versions, answers in varied styles."""
    rng = random.Random(seed)
    pool = sorted((p for p in products.values() if len(p["variants"]) >= 3), key=lambda p: p["name"])
    cases: list[ChoiceCase] = []
    while len(cases) < count and pool:
        product = rng.choice(pool)
        variants = rng.sample(list(product["variants"].values()), min(4, len(product["variants"])))
        options = tuple(dict(v["options"]) for v in variants)
        prices = tuple(Decimal(str(v["price"])) for v in variants)
        wanted = rng.randrange(len(variants))
        differing = [k for k in options[wanted] if len({o.get(k) for o in options}) > 1]
        style = STYLES[len(cases) % len(STYLES)]
        answer = _answer(rng, style, options, prices, wanted, differing)
        if answer is None:
            continue
        labels = tuple(_label(o, p) for o, p in zip(options, prices, strict=True))
        cases.append(ChoiceCase(product["name"], labels, options, prices, wanted, answer, style))
    return cases


def _answer(
    rng: random.Random,
    style: str,
    options: tuple[dict[str, str], ...],
    prices: tuple[Decimal, ...],
    wanted: int,
    differing: list[str],
) -> str | None:
    mine = options[wanted]
    if style == "values":
        said = [f"{k} {mine[k]}" if rng.random() < 0.5 else mine[k] for k in differing]
        return rng.choice(["I'd like the one with {}.", "{} please", "Let's go with {}."]).format(
            " and ".join(said)
        )
    if style == "one_value":
        unique = [k for k in differing if sum(o.get(k) == mine[k] for o in options) == 1]
        return f"the {mine[rng.choice(unique)]} one" if unique else None
    if style == "ordinal":
        return rng.choice(["the {} one", "I'll take the {} one", "{} one please"]).format(_ORDINALS[wanted])
    if style == "number":
        return rng.choice(["number {}", "option {}", "{}"]).format(wanted + 1)
    if prices.count(prices[wanted]) > 1:
        return None
    return rng.choice(["the one for ${}", "the {} dollar one"]).format(prices[wanted])


def by_rules(case: ChoiceCase, values: OptionValues) -> int | None:
    """What the rules read: a position, the versions having every value named, or a price."""
    entities = extract_all(case.answer)
    at = position(case.answer, entities)
    if at is not None:
        return at % len(case.labels) if -len(case.labels) <= at < len(case.labels) else None
    known: dict[str, set[str]] = {}
    for opts in case.options:
        for k, v in opts.items():
            known.setdefault(k, set()).add(v)
    named = values.named(case.answer, known)
    if named:
        fits = [i for i, opts in enumerate(case.options) if all(opts.get(k) in vs for k, vs in named.items())]
        return fits[0] if len(fits) == 1 else None
    targets = {p.target for p in entities.prices if p.target is not None}
    hits = [i for i, price in enumerate(case.prices) if price in targets]
    return hits[0] if len(hits) == 1 else None


def by_llm(case: ChoiceCase, llm: LLM) -> int | None:
    """The model's number under a grammar that allows only 0..N (0: cannot tell)."""
    listed = "\n".join(f"{n}. {label}" for n, label in enumerate(case.labels, 1))
    messages: list[ChatMessage] = [
        {"role": "system", "content": "You read a shop customer's answer. Reply with one number only."},
        {
            "role": "user",
            "content": f"Which version of the {case.product} do you want?\n{listed}\n"
            f'Customer: "{case.answer}"\nThe number of the version the customer chose '
            f"(0 if unclear):",
        },
    ]
    grammar = "root ::= [0-" + str(len(case.labels)) + "]"
    try:
        done = llm.chat(messages=messages, max_tokens=2, grammar=grammar)
    except LLMError:
        return None
    picked = int(done.text.strip() or "0")
    return picked - 1 if picked else None


def measure(
    data_dir: Path,
    *,
    count: int,
    seed: int,
    llm: LLM | None,
    progress: Callable[[], None] | None = None,
) -> tuple[ChoiceReport, list[tuple[ChoiceCase, int | None, int | None]]]:
    products = json.loads((data_dir / "products.json").read_text(encoding="utf-8"))
    values = default_option_values()
    report = ChoiceReport()
    rows = []
    for case in build_cases(products, count=count, seed=seed):
        report.cases += 1
        rules = by_rules(case, values)
        report.add("rules", case, rules)
        model = by_llm(case, llm) if llm is not None else None
        if llm is not None:
            report.add("llm", case, model)
        rows.append((case, rules, model))
        if progress is not None:
            progress()
    return report, rows
