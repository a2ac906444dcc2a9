"""What answers a message no intent matched (the ``unknown`` intent's action).

An identity or an order id alone starts verification or tracking. Otherwise the LLM, when
there is one, proposes one command from the closed set (grammar-bound; see
:mod:`assistant.llm.commands`), which the rules then carry out or refuse; without a model,
product words are searched and anything else gets a clarifying question. A model that fails
(its server down, a decode error) or was busy past its queue budget
(:mod:`assistant.llm.admission`) is treated as no model for that turn.
"""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.runner import FormRunner
from assistant.decide.handlers import catalog, policy, talk
from assistant.decide.turn import Turn
from assistant.llm.commands import (
    AnswerFromDocs,
    AskClarification,
    CommandContext,
    Handoff,
    Search,
    SetSlot,
    StartFlow,
    propose_command,
    warm_up,
)
from assistant.llm.protocol import LLM
from assistant.reply.draft import Draft

#: Slots the LLM may name in a ``set_slot`` command.
SLOT_NAMES = ("email", "order_id", "zip_code", "reason")


def unsure_search(draft: Draft) -> Draft:
    """A search the rules only guessed at: finding nothing counts as not understanding."""
    if draft.template == "search_none":
        draft.failed = True
    return draft


class Fallback:
    def __init__(self, *, ctx: Context, runner: FormRunner, llm: LLM | None) -> None:
        self.ctx = ctx
        self.runner = runner
        self.llm = llm

    def decide(self, turn: Turn) -> Draft:
        entities = turn.entities
        if entities.identity is not None:
            if turn.state.authenticated:
                return self.runner.verify_switch(turn) or self.ctx.draft("clarify", failed=True)
            return self.runner.start(turn, "authenticate")
        if entities.order_ids:
            return self.runner.start(turn, "track_order")
        if self.llm is not None:
            proposed = self._command(turn, self.llm)
            if proposed is not None:
                return proposed
        return self._rules(turn)

    def _rules(self, turn: Turn) -> Draft:
        """Without the model: product words are searched, anything else gets a clarifying question."""
        entities = turn.entities
        spans = [e.span for e in entities.items]
        if self.ctx.terms.query_words(turn.text, spans) or entities.prices or entities.colors:
            return unsure_search(catalog.search(turn, self.ctx))
        return talk.clarify(turn, self.ctx)

    def warm_up(self) -> None:
        """Have the model evaluate the command prompt's fixed part now (:func:`warm_up`)."""
        if self.llm is not None:
            warm_up(self.llm, context=self._context(()))

    def _context(self, last_products: tuple[str, ...]) -> CommandContext:
        return CommandContext(
            flow_names=tuple(self.runner.flows.names()), slot_names=SLOT_NAMES, last_products=last_products
        )

    def _command(self, turn: Turn, llm: LLM) -> Draft | None:
        """The model's command carried out; None when the model failed (server down, decode
        error) or was busy, so the rules answer as they do without a model."""
        ctx = self.ctx
        context = self._context(tuple(p.title for p in turn.state.last_products))
        proposal = propose_command(llm, user_text=turn.text, context=context)
        command = proposal.command
        turn.step(
            "command",
            command.command,
            ok=proposal.reason is None,
            confidence=round(proposal.confidence, 3),
            reason=proposal.reason,
            raw=proposal.raw[:200],
        )
        if proposal.reason in ("llm_error", "llm_busy"):  # failed or busy past the budget: as without one
            return None
        spans = [e.span for e in turn.entities.items]
        product_words = ctx.terms.query_words(turn.text, spans)
        match command:
            case Search():
                f = command.filters
                extra = {
                    k: v
                    for k, v in (("category", f.category), ("brand", f.brand), ("in_stock_only", f.in_stock))
                    if v
                }
                return catalog.search(turn, ctx, query=command.query, extra=extra)
            case StartFlow():
                return self.runner.start(turn, command.name)
            case AnswerFromDocs():
                if ctx.terms.is_policy_question(turn.text) or not product_words:
                    return policy.policy_answer(turn, ctx, question=turn.text)
                return unsure_search(catalog.search(turn, ctx))
            case Handoff():
                return ctx.draft("clarify", failed=True)
            case SetSlot() | AskClarification():
                if product_words and proposal.reason == "low_confidence":
                    return unsure_search(catalog.search(turn, ctx))
                return talk.clarify(turn, ctx)
        return talk.clarify(turn, ctx)  # pragma: no cover - the match is exhaustive
