"""The decision of one turn: which rule, form or action answers the message.

Order (the first that applies decides):

1. guardrails: an off-topic message is declined; a message that tries to steer the assistant
   (prompt injection, "give me a 100% discount") is refused and nothing in it is acted on;
2. handoff: an intent whose action hands off (the customer asks for a person, a complaint), a
   strongly negative message, a request outside the tools' scope; but a complaint said with a
   task the tools do is that task, and an out-of-scope word in the named product's title is no
   request;
3. a pending confirmation: "yes" runs the confirmed tool with its token; a correction ("no, I
   meant the white one") reopens the form behind it with the change; "no" cancels; anything
   else leaves it unconfirmed and goes on;
4. an open form: "never mind" stops it; a question about the catalog while it waits for who the
   customer is (an intent flagged ``aside``) is answered and the form stays open; a message for
   another task (an intent flagged ``interrupts_form``) leaves it; anything else fills its slots;
5. the intent's action (:mod:`assistant.decide.actions`): a form, a handler, or the fallback
   for ``unknown`` (the LLM's command, a search, or a clarifying question); with several tasks
   in the message, on its own task's words, the others queued (:mod:`assistant.decide.goals`)
   and begun in the reply that finishes it.

Failed turns in a row (not understood, refused) are counted; at
``dialogue.failed_turns_before_handoff`` the conversation passes to a person. The same question
is never sent a third time in a row: buttons the third time, then a person.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from assistant.decide.actions import Action, ActionEnv, ActionRegistry, HandOff, default_actions
from assistant.decide.context import Context
from assistant.decide.fallback import Fallback
from assistant.decide.flows.account import ACCOUNT_FLOWS
from assistant.decide.flows.base import Flow, FlowRegistry, confirmation_draft, refusal
from assistant.decide.flows.exchange import EXCHANGE_FLOWS
from assistant.decide.flows.orders import ORDER_FLOWS
from assistant.decide.flows.returns import RETURN_FLOWS
from assistant.decide.flows.runner import FormRunner
from assistant.decide.flows.shopping import SHOP_FLOWS
from assistant.decide.goals import restated, split_goals
from assistant.decide.handoff import hand_off
from assistant.decide.named_products import in_named_title
from assistant.decide.picks import picked
from assistant.decide.turn import ToolError, Turn
from assistant.decide.verification import IdentityChecks, Verifier
from assistant.llm.protocol import LLM
from assistant.reply.draft import Draft
from assistant.sessions.slots import ActiveForm, ConfirmationOutcome, Mode, SlotName
from dialogue_rules.handoff import HandoffRules
from dialogue_rules.intents import IntentConfig, IntentResult, MatchSource

log = logging.getLogger(__name__)
_IDENTITY_KINDS = frozenset({"email", "zip_code", "person_name"})


def default_flows() -> list[Flow]:
    """A new instance of every built-in flow (one per form of the packaged ``forms.yaml``)."""
    return [cls() for cls in (*ORDER_FLOWS, *RETURN_FLOWS, *EXCHANGE_FLOWS, *SHOP_FLOWS, *ACCOUNT_FLOWS)]


def build_router(
    ctx: Context,
    *,
    intents: IntentConfig,
    handoff: HandoffRules,
    llm: LLM | None,
    max_failed_turns: int,
    actions: ActionRegistry | None = None,
    identity: IdentityChecks | None = None,
) -> Router:
    """The router with the built-in flows and, unless given, the built-in actions."""
    runner = FormRunner(
        FlowRegistry(ctx.forms.forms, default_flows()), ctx, Verifier(ctx, identity or IdentityChecks())
    )
    env = ActionEnv(
        ctx=ctx, runner=runner, fallback=Fallback(ctx=ctx, runner=runner, llm=llm), handoff=handoff
    )
    return Router(
        env=env,
        actions=actions or ActionRegistry(default_actions()),
        intents=intents,
        max_failed_turns=max_failed_turns,
    )


class Router:
    def __init__(
        self, *, env: ActionEnv, actions: ActionRegistry, intents: IntentConfig, max_failed_turns: int
    ) -> None:
        actions.check(intents=intents.names(), forms=env.runner.flows.names(), triggers=env.handoff.names())
        self.env = env
        self.ctx = env.ctx
        self.runner = env.runner
        self.actions = actions
        self.intents = intents
        self.max_failed_turns = max_failed_turns

    def warm_up(self) -> None:
        """Prepare the model for the first turn that needs it (see :meth:`Fallback.warm_up`)."""
        self.env.fallback.warm_up()

    def route(self, turn: Turn) -> Draft:
        self.runner.verifier.lapse(turn)
        before = turn.state.active_form
        draft = self._no_third_ask(turn, before, self._decide(turn))
        return self._next_goal(turn, self._count_failure(turn, draft))

    def _next_goal(self, turn: Turn, draft: Draft) -> Draft:
        """With the task before done (or dropped), the next one said with it begins, in the same
        reply."""
        queued = turn.state.slots.queued_goals
        state = turn.state
        if not queued or state.mode is not Mode.BOT or state.active_form or state.pending_confirmation:
            return draft
        goal, rest = queued[0], queued[1:]
        turn.set_slot(SlotName.QUEUED_GOALS, list(rest))
        turn.step("goal", goal.intent, event="start")
        view = turn.about(goal.text)
        view.intent = replace(turn.intent, intent=goal.intent)
        following = self.actions.get(goal.intent).run(view, self.env)
        turn.state = view.state
        return draft.then(following)

    def _run(self, turn: Turn, action: Action) -> Draft:
        """Run the intent's action on the words of its own task, queueing the other tasks the
        message asks for (:mod:`assistant.decide.goals`)."""
        waiting = turn.state.slots.queued_goals
        kept = restated(waiting, turn.intent.intent, turn.text)
        if len(kept) != len(waiting):
            turn.set_slot(SlotName.QUEUED_GOALS, kept)
        tasks = split_goals(turn.intent, self.intents, self.actions, turn.text)
        if not tasks:
            return action.run(turn, self.env)
        first, queued = tasks[0], tasks[1:]
        turn.set_slot(SlotName.QUEUED_GOALS, [*kept, *queued])
        turn.step("goal", first.intent, event="split", queued=[g.intent for g in queued])
        view = turn.about(first.text)
        view.intent = replace(turn.intent, intent=first.intent)
        action = self.actions.get(first.intent)
        if view.entities.identity is None and turn.entities.identity is not None:
            # who the customer is holds for every task of the message ("..., I'm jane@example.com")
            who = [e for e in turn.entities.items if e.kind in _IDENTITY_KINDS]
            view.entities = replace(view.entities, items=(*view.entities.items, *who))
        draft = action.run(view, self.env)
        turn.state = view.state
        return draft

    def _no_third_ask(self, turn: Turn, before: ActiveForm | None, draft: Draft) -> Draft:
        """The same question is not asked a third time in a row: the third time it comes as a
        choice of buttons (when it has any); after that, or without buttons, a person takes over."""
        form = turn.state.active_form
        if form is None or form.asked < 3 or (before is not None and before.asked >= form.asked):
            return draft
        if self._identity_bounded(turn):
            return draft
        buttons = draft.buttons()
        if form.asked == 3 and buttons:
            turn.step("form", form.name, event="asked_again", slot=form.requested)
            labels = "; ".join(f"{n}) {reply.label}" for n, reply in enumerate(buttons, 1))
            return self.ctx.draft("ask_pick_one", choices=labels, quick_replies=buttons)
        return hand_off(turn, self.ctx, self.env.handoff.trigger("repeated_failure"))

    def _count_failure(self, turn: Turn, draft: Draft) -> Draft:
        if turn.state.mode is not Mode.BOT or self._identity_bounded(turn):
            return draft
        if not draft.failed:
            if turn.state.failed_turns:
                turn.set_slot(SlotName.FAILED_TURNS, 0)
            return draft
        failed = turn.state.failed_turns + 1
        turn.set_slot(SlotName.FAILED_TURNS, failed)
        if failed >= self.max_failed_turns:
            return hand_off(turn, self.ctx, self.env.handoff.trigger("repeated_failure"))
        return draft

    def _identity_bounded(self, turn: Turn) -> bool:
        """Tries at "who are you?" are bounded by the store's lockout (``auth.max_failures``
        per account and per client, across conversations), so they are not failed turns that
        hand the conversation to a person: a customer unsure which of their emails the account
        has may try them (a person cannot verify them any better)."""
        form = turn.state.active_form
        return form is not None and form.requested == "identity" and self.runner.verifier.bounded

    def _decide(self, turn: Turn) -> Draft:
        guarded = turn.guarded
        turn.intent = self._task_over_tone(turn.intent)
        intent = turn.intent
        turn.step("intent", intent.intent, confidence=intent.confidence, source=intent.source.value)
        if guarded.off_topic and guarded.violation is not None:
            return self.ctx.draft("off_topic", message=guarded.violation.message)
        if guarded.suspicious:
            turn.step(
                "guardrail", "suspicious", ok=False, flags=sorted(k.value for k in guarded.flag_kinds())
            )
            return self.ctx.draft("injection_refused")
        action = self.actions.get(intent.intent)
        if isinstance(action, HandOff) and not _guessed_in_form(turn):
            return action.run(turn, self.env)
        # An upset customer who asks for something the tools do ("I'm really frustrated, I want
        # to exchange it") is served, not handed off; asking for a person still hands off.
        task = intent.source is MatchSource.PATTERN and self.actions.form_of(intent.intent) is not None
        sentiment = replace(intent.sentiment, strong_negative=False) if task else intent.sentiment
        trigger = self.env.handoff.check(
            sentiment=sentiment, text=turn.text, failed_turns=0, max_failed_turns=10**6
        )
        if trigger is not None and trigger.name == "out_of_scope":
            said = self.env.handoff.out_of_scope_words(turn.text)
            if in_named_title(turn, self.ctx, said):  # a product's own name, not a request
                turn.step("handoff", trigger.name, ok=False, reason="product title")
                trigger = None
        if trigger is not None:
            return hand_off(turn, self.ctx, trigger)
        answered = self._pending_confirmation(turn)
        if answered is None and turn.state.active_form is not None:
            answered = self._in_form(turn)
        if answered is not None:
            return answered
        return self._run(turn, action)

    def _task_over_tone(self, intent: IntentResult) -> IntentResult:
        """ "I'm really frustrated, I want to exchange it": the complaint is the tone, the
        exchange the request. A complaint (an intent that hands off for negative sentiment) said
        with a task the tools do, both by pattern, is the task."""
        action = self.actions.get(intent.intent)
        if not (isinstance(action, HandOff) and action.trigger == "negative_sentiment"):
            return intent
        for candidate in intent.candidates:
            if candidate.source is MatchSource.PATTERN and self.actions.form_of(candidate.intent) is not None:
                return replace(intent, intent=candidate.intent, confidence=candidate.score)
        return intent

    def _pending_confirmation(self, turn: Turn) -> Draft | None:
        pending = turn.state.pending_confirmation
        if pending is None:
            return None
        intent = turn.intent.intent
        if pending.is_expired(turn.now):
            turn.resolve_confirmation(ConfirmationOutcome.EXPIRED)
            return self.ctx.draft("confirm_expired") if intent in ("affirm", "deny") else None
        if intent == "affirm":
            turn.resolve_confirmation(ConfirmationOutcome.ACCEPTED)
            found = self.runner.flows.for_tool(pending.tool)
            if found is None:  # pragma: no cover - every side-effect tool the engine prepares has a flow
                return self.ctx.draft("tool_failed", failed=True)
            tool, flow = found
            outcome = turn.call(tool, dict(pending.args), confirmation=pending.token)
            if isinstance(outcome, ToolError):
                return refusal(self.ctx, outcome)
            return flow.done(turn, self.ctx, outcome)
        revised = self.runner.revise(turn)
        if revised is not None:
            return revised
        if intent == "deny":
            turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
            return self.ctx.draft("confirm_declined")
        if intent in ("unknown", "thanks") and not turn.entities.items:
            # Neither yes nor no: ask again rather than guess.
            return confirmation_draft(self.ctx, pending.summary)
        ids = set(turn.entities.order_ids)
        if (
            ids
            and ids == {pending.args.get("order_id")}
            and intent in ("order_status", "authenticate", "unknown")
        ):
            # "It was order #W..." naming the order already in the prompt: still the same question.
            return confirmation_draft(self.ctx, pending.summary)
        turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
        return None

    def _in_form(self, turn: Turn) -> Draft | None:
        form = turn.state.active_form
        if form is None:
            return None
        choice = picked(turn) if form.requested is not None else None
        if choice is not None:
            # "the second one" to a question asked with buttons: read as a tap on that button
            turn.step("form", form.name, event="picked", choice=choice)
            view = turn.about(choice)
            draft = self.runner.advance(view, form)
            turn.state = view.state
            return draft
        if self.ctx.forms.is_abort(turn.text) or (
            turn.intent.intent == "deny" and form.requested != "reason"
        ):
            turn.set_slot(SlotName.ACTIVE_FORM, None)
            return self.ctx.draft("flow_cancelled")
        intent = turn.intent
        switching = (
            self.intents.interrupts_form(intent.intent)
            and intent.source is MatchSource.PATTERN
            and self.actions.form_of(intent.intent) != form.name
        )
        # A tap on a product card's button is a new request, unless it repeats this form's product.
        tapped = turn.product_id is not None and form.slots.get("product") != turn.product_id
        answered = (
            _fills_requested(turn, form.requested)
            or (form.requested == "identity" and self.runner.verifier.gives_facts(turn))
            or self.runner.answers(turn, form)
        )
        if (
            not answered
            and form.requested == "identity"
            and intent.source is MatchSource.PATTERN
            and self.intents.aside(intent.intent)
        ):
            return self._aside(turn, form)
        if (switching or tapped) and not answered:
            turn.set_slot(SlotName.ACTIVE_FORM, None)
            turn.step("form", form.name, event="left")
            return None
        return self.runner.advance(turn, form)

    def _aside(self, turn: Turn, form: ActiveForm) -> Draft:
        """A question about the catalog while the form waits for who the customer is ("How
        much is the water bottle?" asked for an email): answered, and the form kept open with its
        purpose recalled (the same question is not counted as asked again)."""
        turn.step("form", form.name, event="aside", intent=turn.intent.intent)
        answer = self.actions.get(turn.intent.intent).run(turn, self.env)
        if turn.state.active_form != form:  # the answer opened a form of its own
            return answer
        purpose = self.runner.flows.forms.get(form.name).purpose
        return answer.then(self.ctx.draft("auth_still_needed", purpose=purpose))


def _guessed_in_form(turn: Turn) -> bool:
    """A handoff intent only guessed from similar examples, said while a form waits for an
    answer: the form reads it first ("It was a mistake to order it" answers "why cancel?")."""
    form = turn.state.active_form
    return form is not None and form.requested is not None and turn.intent.source is MatchSource.EXAMPLE


def _fills_requested(turn: Turn, requested: str | None) -> bool:
    """Whether the message carries the value the open form asked for."""
    entities = turn.entities
    if requested == "order_id":
        return bool(entities.order_ids)
    return False
