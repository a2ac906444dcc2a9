"""A reply before phrasing (:class:`Draft`), and :class:`Drafts`, which renders the shop's reply
templates into drafts with the facts they may state.

Every handler and flow ends a turn with a draft; the responder (:mod:`assistant.reply.responder`)
sends its text or an LLM rewrite that passes the grounding check against the draft's facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from assistant.reply.formatting import format_money, format_price_range
from assistant.reply.grounding import FactSheet
from assistant.reply.templates import Rendered, Templates
from assistant.sessions.shown import Citation, ProductCard, QuickReply
from core.facts import FactValue


class HasFacts(Protocol):
    """A tool result: its fact-marked values are what a reply built on it may state."""

    def facts(self) -> list[FactValue]: ...


@dataclass
class Draft:
    """A reply before phrasing: the template's text, and what it is allowed to state."""

    rendered: Rendered
    facts: list[str] = field(default_factory=list)
    values: list[FactValue] = field(default_factory=list)
    products: tuple[ProductCard, ...] = ()
    citations: tuple[Citation, ...] = ()
    quick_replies: tuple[QuickReply, ...] | None = None
    failed: bool = False  # the turn did not understand or could not help (handoff counting)

    @property
    def template(self) -> str:
        return self.rendered.name

    @property
    def text(self) -> str:
        return self.rendered.text

    def buttons(self) -> tuple[QuickReply, ...]:
        return self.rendered.quick_replies if self.quick_replies is None else self.quick_replies

    def sheet(self) -> FactSheet:
        return FactSheet.build(draft=self.text, facts=self.facts, values=self.values)

    def then(self, other: Draft) -> Draft:
        """This reply followed by ``other`` in one message (one task done, the next begun); sent
        as written (never rephrased), with ``other``'s buttons."""
        rendered = Rendered(
            name=other.template,
            text=f"{self.text}\n\n{other.text}",
            quick_replies=other.buttons(),
            phrase=False,
        )
        return Draft(
            rendered=rendered,
            facts=[*self.facts, *other.facts],
            values=[*self.values, *other.values],
            products=other.products or self.products,
            citations=(*self.citations, *other.citations),
            quick_replies=other.buttons(),
            failed=other.failed,
        )


@dataclass(frozen=True)
class Drafts:
    """Renders reply templates into drafts, in the shop's currency."""

    templates: Templates
    currency: str

    def money(self, amount: Decimal | float | str | None) -> str:
        return format_money(amount, self.currency)

    def price_range(self, low: Decimal, high: Decimal | None) -> str:
        return format_price_range(low, high, self.currency)

    def text(self, template: str, /, **values: Any) -> str:
        return self.templates.text(template, **values)

    def draft(
        self,
        template: str,
        /,
        *,
        facts: Iterable[str] = (),
        results: Iterable[HasFacts] = (),
        products: Sequence[ProductCard] = (),
        citations: Sequence[Citation] = (),
        quick_replies: Sequence[QuickReply] | None = None,
        failed: bool = False,
        **values: Any,
    ) -> Draft:
        fact_values: list[FactValue] = []
        for result in results:
            fact_values.extend(result.facts())
        return Draft(
            rendered=self.templates.render(template, **values),
            facts=list(facts),
            values=fact_values,
            products=tuple(products),
            citations=tuple(citations),
            quick_replies=None if quick_replies is None else tuple(quick_replies),
            failed=failed,
        )
