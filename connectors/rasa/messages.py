"""What the Rasa actions say: a tool's result as text (package-data Jinja templates, one per
tool, in ``messages.yaml``) and its products as cards for a custom payload, plus the fixed texts
for asking, refusing and confirming.

Templates render in Jinja's sandbox with strict undefined values: a template naming a field its
result lacks fails loudly (a test renders every one), never a message with a hole in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

import yaml
from jinja2 import StrictUndefined
from jinja2 import Template as JinjaTemplate
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from assistant.reply.formatting import address_line, card_from, format_money, format_price_range, options_text
from core.errors import ConfigError, UnknownNameError
from tools.base import ToolResult
from tools.catalog import ProductSummary
from tools.recommendation import Recommendation

MESSAGES_FILE = "messages.yaml"
CARDS_PAYLOAD = "product_cards"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    results: dict[str, str] = Field(min_length=1)
    texts: dict[str, str] = Field(min_length=1)


Event = dict[str, Any]


@dataclass(frozen=True)
class Message:
    """One bot message: text, buttons, and a custom payload (product cards)."""

    text: str
    buttons: tuple[dict[str, str], ...] = ()
    custom: dict[str, Any] | None = None

    def utterance(self) -> dict[str, Any]:
        """Keyword arguments of ``CollectingDispatcher.utter_message``."""
        return {"text": self.text, "buttons": list(self.buttons) or None, "json_message": self.custom}


@dataclass
class ActionReply:
    """What an action sends back: bot messages and tracker events (``rasa_sdk.events``)."""

    messages: list[Message] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _products(value: Any) -> Iterator[tuple[ProductSummary, str | None]]:
    """Every product in a result, with its recommendation reason if it has one."""
    if isinstance(value, Recommendation):
        yield value.product, value.reason
    elif isinstance(value, ProductSummary):
        yield value, None
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _products(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _products(item)


def product_cards(result: ToolResult) -> list[dict[str, Any]]:
    """The result's products as cards (the web chat's card shape), each at most once."""
    cards: dict[str, dict[str, Any]] = {}
    for product, reason in _products(result):
        if product.product_id in cards:
            continue
        card = card_from(product).model_dump(mode="json")
        if reason:
            card["reason"] = reason
        cards[product.product_id] = card
    return list(cards.values())


class Messages:
    """The templates of ``messages.yaml``, compiled once, rendered in the shop's currency."""

    def __init__(self, *, currency: str, source: str | None = None) -> None:
        text = source if source is not None else _packaged()
        try:
            parsed = _File.model_validate(yaml.safe_load(text))
        except (yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"connectors/rasa/{MESSAGES_FILE} is invalid: {exc}") from None
        self.currency = currency
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        env.filters["money"] = lambda amount: format_money(amount, currency)
        env.filters["price_range"] = lambda low, high=None: format_price_range(low, high, currency)
        env.filters["address"] = lambda address: address_line(address or {})
        env.filters["options"] = lambda options: options_text(options)
        self._results: dict[str, JinjaTemplate] = {
            name: env.from_string(source) for name, source in parsed.results.items()
        }
        self._texts = {name: Template(source) for name, source in parsed.texts.items()}

    def has_result(self, tool: str) -> bool:
        return tool in self._results

    def result(self, tool: str, result: ToolResult) -> Message:
        """The result as a message; its products, if any, as a ``product_cards`` payload."""
        template = self._results.get(tool)
        if template is None:
            raise UnknownNameError("result message", tool, self._results)
        values = {name: getattr(result, name) for name in type(result).model_fields}
        text = template.render(**values).strip()
        cards = product_cards(result)
        custom = {"type": CARDS_PAYLOAD, "products": cards} if cards else None
        return Message(text, custom=custom)

    def text(self, name: str, /, **values: Any) -> str:
        template = self._texts.get(name)
        if template is None:
            raise UnknownNameError("message", name, self._texts)
        return template.substitute(values)


@lru_cache(maxsize=1)
def _packaged() -> str:
    return resources.files(__package__).joinpath(MESSAGES_FILE).read_text(encoding="utf-8")


def problems_text(errors: list[Mapping[str, Any]]) -> str:
    return "; ".join(f"{e.get('argument', '?')}: {e.get('problem', '?')}" for e in errors)
