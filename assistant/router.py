"""The decision of one turn: which rule, form, handler or LLM command answers the message.

Order (the first that applies decides):

1. guardrails: an off-topic message is declined; a message that tries to steer the assistant
   (prompt injection, "give me a 100% discount") is refused and nothing in it is acted on;
2. handoff triggers: the customer asks for a person, a strongly negative message, a request
   outside the tools' scope;
3. a pending confirmation: "yes" runs the confirmed tool with its token, "no" cancels, anything
   else leaves it unconfirmed and goes on;
4. an open form: "never mind" stops it; a message for another task leaves it; anything else
   fills its slots;
5. the intent: a form (cancel, return, track...) or a handler (search, cart, policy...);
6. unknown intent: the LLM proposes one command from the closed set (grammar-bound); without a
   model, product words are searched and anything else gets a clarifying question.

Failed turns in a row (not understood, refused) are counted; at
``dialogue.failed_turns_before_handoff`` the conversation passes to a person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from assistant import handlers_catalog as catalog
from assistant import handlers_misc as misc
from assistant.commands import (
    AnswerFromDocs,
    AskClarification,
    CommandContext,
    Handoff,
    Search,
    SetSlot,
    StartFlow,
    propose_command,
)
from assistant.flows import FormRunner, confirmation_draft, refusal
from assistant.kit import Kit
from assistant.llm import LLM
from assistant.responder import Draft
from assistant.turn import ToolError, Turn
from assistant.types import ConfirmationOutcome, Mode, SlotName
from dialogue_rules.handoff import HandoffRules, HandoffTrigger
from dialogue_rules.registry import RuleRegistry
from dialogue_rules.search_terms import SearchTerms
from dialogue_rules.types import MatchSource

log = logging.getLogger(__name__)

Handler = Callable[[Turn, Kit], Draft]
#: Intents that answer a pending question rather than start something.
_ANSWERS = frozenset({"affirm", "deny", "authenticate", "thanks", "unknown"})
#: Intents that start something else even while a form is open (a pattern hit is required).
_SWITCHES = frozenset(
    {
        "search_products",
        "recommend",
        "view_cart",
        "ask_policy",
        "greet",
        "goodbye",
        "order_status",
        "list_orders",
        "cancel_order",
        "return_items",
        "exchange_items",
        "change_address",
        "checkout",
        "add_to_cart",
    }
)
_SLOT_NAMES = ("email", "order_id", "zip_code", "reason")


@dataclass(frozen=True)
class NamedHandler:
    name: str
    run: Handler


class Router:
    def __init__(
        self,
        *,
        kit: Kit,
        runner: FormRunner,
        handoff: HandoffRules,
        terms: SearchTerms,
        llm: LLM | None,
    ) -> None:
        self.kit = kit
        self.runner = runner
        self.handoff = handoff
        self.terms = terms
        self.llm = llm
        self.handlers: RuleRegistry[NamedHandler] = RuleRegistry("intent handler")
        for name, run in (
            ("greet", misc.greet),
            ("goodbye", misc.goodbye),
            ("thanks", misc.thanks),
            ("search_products", self._search),
            ("recommend", lambda t, k: catalog.recommend(t, k, self.terms)),
            ("product_details", lambda t, k: catalog.product_details(t, k, self.terms)),
            ("check_availability", lambda t, k: catalog.availability(t, k, self.terms)),
            ("price_question", lambda t, k: catalog.price_question(t, k, self.terms)),
            ("view_cart", misc.view_cart),
            ("remove_from_cart", misc.remove_from_cart),
            ("ask_policy", lambda t, k: misc.policy_answer(t, k, self.terms)),
        ):
            self.handlers.register(NamedHandler(name, run))
        self.handlers.freeze()

    def _search(self, turn: Turn, kit: Kit) -> Draft:
        return catalog.search(turn, kit, self.terms)

    # The turn -------------------------------------------------------------------------------
    def route(self, turn: Turn) -> Draft:
        draft = self._decide(turn)
        return self._count_failure(turn, draft)

    def _count_failure(self, turn: Turn, draft: Draft) -> Draft:
        if turn.state.mode is not Mode.BOT:
            return draft
        if not draft.failed:
            if turn.state.failed_turns:
                turn.set_slot(SlotName.FAILED_TURNS, 0)
            return draft
        failed = turn.state.failed_turns + 1
        turn.set_slot(SlotName.FAILED_TURNS, failed)
        if failed >= self.kit.max_failed_turns:
            return self._hand_off(turn, self.handoff.trigger("repeated_failure"))
        return draft

    def _hand_off(self, turn: Turn, trigger: HandoffTrigger) -> Draft:
        turn.change_mode(Mode.AGENT, reason=trigger.name)
        if turn.state.active_form is not None:
            turn.set_slot(SlotName.ACTIVE_FORM, None)
        # A "yes" given later, after the person hands back, must not run an old action.
        turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
        if turn.state.failed_turns:
            turn.set_slot(SlotName.FAILED_TURNS, 0)
        return self.kit.draft(trigger.template)

    def _decide(self, turn: Turn) -> Draft:
        guarded = turn.guarded
        turn.step(
            "intent", turn.intent.intent, confidence=turn.intent.confidence, source=turn.intent.source.value
        )
        if guarded.off_topic and guarded.violation is not None:
            return self.kit.draft("off_topic", message=guarded.violation.message)
        if guarded.suspicious:
            turn.step(
                "guardrail", "suspicious", ok=False, flags=sorted(k.value for k in guarded.flag_kinds())
            )
            return self.kit.draft("injection_refused")
        trigger = self.handoff.check(
            intent=turn.intent, text=turn.text, failed_turns=0, max_failed_turns=10**6
        )
        if trigger is not None:
            return self._hand_off(turn, trigger)
        answered = self._pending_confirmation(turn)
        if answered is not None:
            return answered
        form = turn.state.active_form
        if form is not None:
            answered = self._in_form(turn)
            if answered is not None:
                return answered
        return self._by_intent(turn)

    def _pending_confirmation(self, turn: Turn) -> Draft | None:
        pending = turn.state.pending_confirmation
        if pending is None:
            return None
        intent = turn.intent.intent
        if pending.is_expired(turn.now):
            turn.resolve_confirmation(ConfirmationOutcome.EXPIRED)
            return self.kit.draft("confirm_expired") if intent in ("affirm", "deny") else None
        if intent == "affirm":
            turn.resolve_confirmation(ConfirmationOutcome.ACCEPTED)
            outcome = turn.call(pending.tool, dict(pending.args), confirmation=pending.token)
            if isinstance(outcome, ToolError):
                return refusal(self.kit, outcome)
            flow = self.runner.flows.for_tool(pending.tool)
            if flow is None:  # pragma: no cover - every side-effect tool the engine prepares has a flow
                return self.kit.draft("tool_failed", failed=True)
            return flow.done(turn, self.kit, outcome)
        if intent == "deny":
            turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
            return self.kit.draft("confirm_declined")
        if intent in ("unknown", "thanks") and not turn.entities.items:
            # Neither yes nor no: ask again rather than guess.
            return confirmation_draft(self.kit, pending.summary)
        turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
        return None

    def _in_form(self, turn: Turn) -> Draft | None:
        form = turn.state.active_form
        if form is None:
            return None
        if self.kit.forms.is_abort(turn.text) or (
            turn.intent.intent == "deny" and form.requested != "reason"
        ):
            turn.set_slot(SlotName.ACTIVE_FORM, None)
            return self.kit.draft("flow_cancelled")
        intent = turn.intent
        switching = (
            intent.intent in _SWITCHES
            and intent.source is MatchSource.PATTERN
            and self.kit.forms.form_for_intent(intent.intent) is not self.runner.flows.forms.get(form.name)
        )
        # A tap on a product card's button is a new request, unless it repeats this form's product.
        tapped = turn.product_id is not None and form.slots.get("product") != turn.product_id
        if (switching or tapped) and not _fills_requested(turn, form.requested):
            turn.set_slot(SlotName.ACTIVE_FORM, None)
            turn.step("form", form.name, event="left")
            return None
        return self.runner.advance(turn, form)

    def _by_intent(self, turn: Turn) -> Draft:
        intent = turn.intent.intent
        if intent == "authenticate" and turn.state.authenticated:
            switched = self.runner.verify_switch(turn)
            if switched is not None:
                return switched
        spec = self.kit.forms.form_for_intent(intent)
        if spec is not None:
            return self.runner.start(turn, spec.name)
        if intent in self.handlers:
            return self.handlers.get(intent).run(turn, self.kit)
        if intent in ("affirm", "deny"):
            return misc.thanks(turn, self.kit) if intent == "affirm" else self.kit.draft("confirm_declined")
        if intent == "out_of_scope":
            return self.kit.draft("off_topic", message=self.kit.text("clarify"))
        return self._unknown(turn)

    def _unknown(self, turn: Turn) -> Draft:
        entities = turn.entities
        if entities.identity is not None:
            if turn.state.authenticated:
                return self.runner.verify_switch(turn) or self.kit.draft("clarify", failed=True)
            return self.runner.start(turn, "authenticate")
        if entities.order_ids:
            return self.runner.start(turn, "track_order")
        if self.llm is not None:
            return self._llm_command(turn)
        spans = [e.span for e in entities.items]
        if self.terms.query_words(turn.text, spans) or entities.prices or entities.colors:
            return _unsure_search(catalog.search(turn, self.kit, self.terms))
        return misc.clarify(turn, self.kit)

    def _llm_command(self, turn: Turn) -> Draft:
        if self.llm is None:  # pragma: no cover - checked by the caller
            return misc.clarify(turn, self.kit)
        context = CommandContext(
            flow_names=tuple(self.runner.flows.names()),
            slot_names=_SLOT_NAMES,
            last_products=tuple(p.title for p in turn.state.last_products),
        )
        proposal = propose_command(self.llm, user_text=turn.text, context=context)
        command = proposal.command
        turn.step(
            "command",
            command.command,
            ok=proposal.reason is None,
            confidence=round(proposal.confidence, 3),
            reason=proposal.reason,
            raw=proposal.raw[:200],
        )
        spans = [e.span for e in turn.entities.items]
        product_words = self.terms.query_words(turn.text, spans)
        match command:
            case Search():
                f = command.filters
                extra = {
                    k: v
                    for k, v in (("category", f.category), ("brand", f.brand), ("in_stock_only", f.in_stock))
                    if v
                }
                return catalog.search(turn, self.kit, self.terms, query=command.query, extra=extra)
            case StartFlow():
                return self.runner.start(turn, command.name)
            case AnswerFromDocs():
                if self.terms.is_policy_question(turn.text) or not product_words:
                    return misc.policy_answer(turn, self.kit, self.terms, question=turn.text)
                return _unsure_search(catalog.search(turn, self.kit, self.terms))
            case Handoff():
                return self.kit.draft("clarify", failed=True)
            case SetSlot() | AskClarification():
                if product_words and proposal.reason == "low_confidence":
                    return _unsure_search(catalog.search(turn, self.kit, self.terms))
                return misc.clarify(turn, self.kit)
        return misc.clarify(turn, self.kit)  # pragma: no cover - the match is exhaustive


def _unsure_search(draft: Draft) -> Draft:
    """A search the rules only guessed at: finding nothing counts as not understanding."""
    if draft.template == "search_none":
        draft.failed = True
    return draft


def _fills_requested(turn: Turn, requested: str | None) -> bool:
    """Whether the message carries the value the open form asked for."""
    entities = turn.entities
    if requested == "order_id":
        return bool(entities.order_ids)
    if requested == "identity":
        return entities.identity is not None
    return False
