"""Dialogue scenarios: multi-turn conversations with what each turn must do and the store's end
state, written in ``eval/scenarios/*.yaml`` against the fixture shop (eval/fixture_shop.py).

One file per category::

    category: cancel
    scenarios:
      - name: cancel_pending_order
        turns:
          - user: "I want to cancel my order"
            expect: {template: auth_ask}
          - user: "alice@example.com"
            expect: {template: ask_order_id, tools: [find_customer_by_email]}
          ...
        end:
          orders: {"#W0000001": cancelled}
          stock: {V-TEE-BL-M: 41}

Per turn, ``expect`` may hold: ``template`` (the reply template, or a list of acceptable ones),
``tools`` (tools that must be called, in this order, others may come between), ``not_tools``
(tools that must not run), ``failed_tools`` (tools that must have been refused),
``products`` (product ids that must be among the cards), ``text`` (substrings the reply must
contain, case-insensitive), ``not_text``, ``mode`` and ``silent`` (the bot said nothing).
``end`` may hold ``orders`` (id -> status), ``stock`` (variant -> units), ``cart`` (variant ->
quantity; ``{}`` for an empty cart), ``mode``, ``customer`` (the verified customer id or
null) and ``unchanged: true`` (no order or stock differs from the fixture shop).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ConfigError

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TurnExpect(_Strict):
    template: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    not_tools: list[str] = Field(default_factory=list)
    failed_tools: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)
    not_text: list[str] = Field(default_factory=list)
    mode: str | None = None
    silent: bool | None = None

    @field_validator("template", "text", "not_text", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class ScenarioTurn(_Strict):
    user: str = Field(min_length=0, max_length=5000)
    channel: str = "web"
    expect: TurnExpect = Field(default_factory=TurnExpect)
    agent: str | None = Field(default=None, description="An agent message sent before this turn.")


class EndState(_Strict):
    orders: dict[str, str] = Field(default_factory=dict)
    stock: dict[str, int] = Field(default_factory=dict)
    cart: dict[str, int] | None = None
    mode: str | None = None
    customer: str | None = Field(default="__any__")
    unchanged: bool = False


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: str = ""
    description: str = ""
    turns: list[ScenarioTurn] = Field(min_length=1)
    end: EndState = Field(default_factory=EndState)


class _File(_Strict):
    category: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    scenarios: list[Scenario] = Field(min_length=1)


def load_scenarios(folder: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario under ``folder``, with its file's category; names must be unique."""
    found: list[Scenario] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            parsed = _File.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{path}: invalid scenario file: {exc}", key=str(path)) from exc
        found.extend(s.model_copy(update={"category": parsed.category}) for s in parsed.scenarios)
    names = [s.name for s in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"duplicate scenario names: {', '.join(duplicates)}", key=str(folder))
    return found
