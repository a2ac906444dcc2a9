"""The form runner: fills an open form one slot at a time, verifying the customer first when the
form needs it, and hands the filled slots to the form's flow (see :mod:`assistant.decide.flows.base`)."""

from __future__ import annotations

import hashlib

from assistant.decide.context import Context
from assistant.decide.flows.base import SAID, FlowRegistry, Slots, lookup_customer
from assistant.decide.turn import ToolError, Turn
from assistant.decide.verification import IdentityChecks, Verifier
from assistant.reply.draft import Draft
from assistant.sessions.slots import ActiveForm, ConfirmationOutcome, SlotName


class FormRunner:
    """Starts and advances forms; one per assistant (it holds no conversation state)."""

    def __init__(self, flows: FlowRegistry, ctx: Context, verifier: Verifier | None = None) -> None:
        self.flows = flows
        self.ctx = ctx
        self.verifier = verifier or Verifier(ctx, IdentityChecks())

    def start(self, turn: Turn, name: str, slots: Slots | None = None) -> Draft:
        turn.step("form", name, event="start")
        return self.advance(turn, ActiveForm(name=name, slots=slots or {}))

    def advance(self, turn: Turn, form: ActiveForm) -> Draft:
        spec = self.flows.forms.get(form.name)
        flow = self.flows.get(form.name)
        slots: Slots = dict(form.slots)
        if spec.requires_auth and not turn.state.authenticated:
            if form.requested is None:
                slots.setdefault(SAID, turn.text)
            asked, slots = self.verifier.authenticate(turn, spec.purpose, slots)
            if asked is not None:
                return self._ask(turn, form.name, slots, "identity", asked)
            said = slots.pop(SAID, None)
            if isinstance(said, str) and said != turn.text:
                # What the customer asked before verifying ("cancel #W0000001") fills slots now.
                earlier = turn.about(said)
                first = flow.fill(earlier, self.ctx, slots, None)
                turn.state = earlier.state
                slots.update(first.values)
                if first.problem is not None:
                    return self._ask(turn, form.name, slots, first.problem_slot, first.problem)
        filled = flow.fill(turn, self.ctx, slots, form.requested)
        slots.update(filled.values)
        if filled.problem is not None and filled.abort:
            if turn.state.active_form is not None:
                turn.set_slot(SlotName.ACTIVE_FORM, None)
            return filled.problem
        if filled.problem is not None:
            return self._ask(turn, form.name, slots, filled.problem_slot or form.requested, filled.problem)
        for slot in spec.slots:
            if slot not in slots:
                return self._ask(turn, form.name, slots, slot, flow.ask(turn, self.ctx, slots, slot))
        if turn.state.active_form is not None:
            turn.set_slot(SlotName.ACTIVE_FORM, None)
        turn.step("form", form.name, event="complete")
        draft = flow.act(turn, self.ctx, slots)
        if turn.state.pending_confirmation is not None:
            turn.set_slot(SlotName.CONFIRMING_FORM, ActiveForm(name=form.name, slots=slots))
        return draft

    def answers(self, turn: Turn, form: ActiveForm) -> bool:
        """Whether the message answers the open form's question (see :meth:`Flow.answers`)."""
        if form.requested is None:
            return False
        return self.flows.get(form.name).answers(turn, self.ctx, dict(form.slots), form.requested)

    def revise(self, turn: Turn) -> Draft | None:
        """A correction said to a confirmation prompt ("no, I meant the white one"): the form
        behind the prompt is reopened with what the message changes, and goes on from there
        (a new confirmation, or the question the change raises). None: the message changes
        nothing of it."""
        form = turn.state.slots.confirming_form
        pending = turn.state.pending_confirmation
        if form is None or pending is None:
            return None
        flow = self.flows.get(form.name)
        if pending.tool not in {tool.name for tool in flow.tools}:
            return None
        slots = flow.revise(turn, self.ctx, dict(form.slots))
        if slots is None:
            return None
        turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
        turn.step("form", form.name, event="revised")
        missing = next((slot for slot in self.flows.forms.get(form.name).slots if slot not in slots), None)
        return self.advance(turn, ActiveForm(name=form.name, slots=slots, requested=missing))

    def _ask(self, turn: Turn, name: str, slots: Slots, requested: str | None, question: Draft) -> Draft:
        """Keep the form open, waiting for ``requested``, and send ``question``; the form counts
        how many times in a row the very same question went out (the router acts on a third)."""
        before = turn.state.active_form
        digest = hashlib.sha256(question.text.encode()).hexdigest()[:16]
        again = before is not None and before.name == name and before.question == digest
        asked = before.asked + 1 if again and before is not None else 1
        form = ActiveForm(name=name, slots=slots, requested=requested, asked=asked, question=digest)
        if turn.state.active_form != form:
            turn.set_slot(SlotName.ACTIVE_FORM, form)
        return question

    def _verified(self, turn: Turn) -> Draft:
        return self.ctx.draft("auth_ok", name=turn.state.slots.customer_name or "there")

    def verify_switch(self, turn: Turn) -> Draft | None:
        """A second identity in a verified conversation is refused (one customer per conversation)."""
        identity = turn.entities.identity
        if identity is None or not turn.state.authenticated:
            return None
        outcome = lookup_customer(turn, identity)
        if not isinstance(outcome, ToolError) and outcome.result.customer_id == turn.state.customer_id:
            return self._verified(turn)
        return self.ctx.draft("auth_other_customer", failed=True)
