"""The form runner: fills an open form one slot at a time, verifying the customer first when the
form needs it, and hands the filled slots to the form's flow (see :mod:`assistant.decide.flows.base`)."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.base import SAID, FlowRegistry, Slots, lookup_customer
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.sessions.slots import ActiveForm, SlotName
from dialogue_rules.forms import FormSpec


class FormRunner:
    """Starts and advances forms; one per assistant (it holds no conversation state)."""

    def __init__(self, flows: FlowRegistry, ctx: Context) -> None:
        self.flows = flows
        self.ctx = ctx

    def start(self, turn: Turn, name: str, slots: Slots | None = None) -> Draft:
        turn.step("form", name, event="start")
        return self.advance(turn, ActiveForm(name=name, slots=slots or {}))

    def advance(self, turn: Turn, form: ActiveForm) -> Draft:
        spec = self.flows.forms.get(form.name)
        flow = self.flows.get(form.name)
        slots: Slots = dict(form.slots)
        if spec.requires_auth and not turn.state.authenticated:
            asked = self._authenticate(turn, spec, form)
            if asked is not None:
                return asked
            said = slots.pop(SAID, None)
            if isinstance(said, str) and said != turn.text:
                # What the customer asked before verifying ("cancel #W0000001") fills slots now.
                earlier = turn.about(said)
                first = flow.fill(earlier, self.ctx, slots, None)
                turn.state = earlier.state
                slots.update(first.values)
                if first.problem is not None:
                    self._save(turn, form.name, slots, first.problem_slot)
                    return first.problem
        filled = flow.fill(turn, self.ctx, slots, form.requested)
        slots.update(filled.values)
        if filled.problem is not None and filled.abort:
            if turn.state.active_form is not None:
                turn.set_slot(SlotName.ACTIVE_FORM, None)
            return filled.problem
        if filled.problem is not None:
            self._save(turn, form.name, slots, filled.problem_slot or form.requested)
            return filled.problem
        for slot in spec.slots:
            if slot not in slots:
                self._save(turn, form.name, slots, slot)
                return flow.ask(turn, self.ctx, slots, slot)
        if turn.state.active_form is not None:
            turn.set_slot(SlotName.ACTIVE_FORM, None)
        turn.step("form", form.name, event="complete")
        return flow.act(turn, self.ctx, slots)

    def _save(self, turn: Turn, name: str, slots: Slots, requested: str | None) -> None:
        form = ActiveForm(name=name, slots=slots, requested=requested)
        if turn.state.active_form != form:
            turn.set_slot(SlotName.ACTIVE_FORM, form)

    def _verified(self, turn: Turn) -> Draft:
        return self.ctx.draft("auth_ok", name=turn.state.slots.customer_name or "there")

    def _authenticate(self, turn: Turn, spec: FormSpec, form: ActiveForm) -> Draft | None:
        """None once the customer is verified; else the question or the failure to send."""
        identity = turn.entities.identity
        if identity is None:
            slots = dict(form.slots)
            if form.requested is None:
                slots.setdefault(SAID, turn.text)
            self._save(turn, form.name, slots, "identity")
            failed = form.requested == "identity"
            return self.ctx.draft("auth_ask", purpose=spec.purpose, failed=failed)
        outcome = lookup_customer(turn, identity)
        if isinstance(outcome, ToolError):
            self._save(turn, form.name, dict(form.slots), "identity")
            if outcome.code in ("not_found", "invalid_arguments"):
                return self.ctx.draft("auth_failed", failed=True)
            return self.ctx.draft("tool_failed", failed=True)
        result = outcome.result
        turn.set_slot(SlotName.CUSTOMER_ID, result.customer_id)
        turn.set_slot(SlotName.CUSTOMER_NAME, result.first_name)
        return None

    def verify_switch(self, turn: Turn) -> Draft | None:
        """A second identity in a verified conversation is refused (one customer per conversation)."""
        identity = turn.entities.identity
        if identity is None or not turn.state.authenticated:
            return None
        outcome = lookup_customer(turn, identity)
        if not isinstance(outcome, ToolError) and outcome.result.customer_id == turn.state.customer_id:
            return self._verified(turn)
        return self.ctx.draft("auth_other_customer", failed=True)
