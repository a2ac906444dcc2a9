"""Flows: the code behind each form, and the runner that fills forms one slot at a time.

A :class:`Flow` is registered under its form's name (``forms.yaml`` says which slots, in which
order, and whether the customer must be verified first). Each turn of an open form:

1. a form that needs a verified customer verifies them first (email, or first + last name and
   zip code, looked up with the ``find_customer_*`` tools); one customer per conversation;
2. ``fill`` reads slot values from the message (entities, the order's items, the products
   shown), checking them with read-only tools; a value that does not check out comes back as a
   problem reply, and the slot is asked again;
3. the first missing slot is asked with ``ask``;
4. when all are filled, ``act`` runs the task: read-only tools directly, side effects by asking
   the policy layer for a confirmation, shown to the customer with the exact summary;
5. after the customer's "yes", ``done`` phrases the side effect's result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.kit import Kit
from assistant.responder import Draft
from assistant.turn import ToolError, Turn
from assistant.types import ActiveForm, SlotName
from dialogue_rules.forms import FormSpec
from dialogue_rules.registry import RuleRegistry
from dialogue_rules.types import AuthIdentity
from shopassist.errors import ActionRefusedError, ConfigError, InvalidArgumentsError, RegistryError
from tools.policy import ToolOutcome

Slots = dict[str, Any]
SAID = "_said"  # form slot: the message that started a form, kept while the customer is verified


@dataclass
class Filled:
    """What ``fill`` found: new slot values, and a reply if a value was refused."""

    values: Slots = field(default_factory=dict)
    problem: Draft | None = None
    problem_slot: str | None = None
    abort: bool = False  # the task cannot go on (e.g. an empty cart at checkout): close the form


class Flow(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def tools(self) -> tuple[str, ...]:
        """Side-effect tools whose confirmed results :meth:`done` phrases."""
        ...

    def fill(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled: ...
    def ask(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft: ...
    def act(self, turn: Turn, kit: Kit, slots: Slots) -> Draft: ...
    def done(self, turn: Turn, kit: Kit, outcome: ToolOutcome) -> Draft: ...


class FlowBase:
    """Defaults for flows without side effects."""

    name = ""
    tools: tuple[str, ...] = ()

    def done(self, turn: Turn, kit: Kit, outcome: ToolOutcome) -> Draft:  # pragma: no cover - unused
        raise InvalidArgumentsError(f"flow {self.name} runs no confirmed tool")


class NoSlotFlow(FlowBase):
    """A flow whose form has no slots: it acts as soon as it starts (after verification)."""

    def fill(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled:
        return Filled()

    def ask(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft:  # pragma: no cover - no slots
        raise no_question(self.name, slot)


def no_question(form: str, slot: str) -> ConfigError:
    """forms.yaml lists a slot the flow's code does not ask for."""
    return ConfigError(
        f"form {form!r} has no question for slot {slot!r}: add it to its flow in assistant/flows_*.py",
        key=f"forms.{form}.slots",
    )


def lookup_customer(turn: Turn, identity: AuthIdentity) -> ToolOutcome | ToolError:
    """Find the customer an email, or a full name plus zip code, belongs to."""
    if identity.email:
        return turn.call("find_customer_by_email", {"email": identity.email})
    args = {"first_name": identity.first_name, "last_name": identity.last_name, "zip": identity.zip_code}
    return turn.call("find_customer_by_name_zip", args)


def confirm(turn: Turn, kit: Kit, tool: str, args: dict[str, Any]) -> Draft:
    """Ask the policy layer to check a side effect and the customer to confirm its summary."""
    pending = turn.prepare(tool, args)
    if isinstance(pending, ToolError):
        return refusal(kit, pending)
    return confirmation_draft(kit, pending.summary)


def confirmation_draft(kit: Kit, summary: str) -> Draft:
    """Ask the customer to confirm exactly ``summary`` (the policy layer's text)."""
    return kit.draft("confirm_action", summary=summary, facts=[summary])


def refusal(kit: Kit, error: ToolError) -> Draft:
    """The customer-facing reply for a refused or failed tool call."""
    exc = error.error
    if isinstance(exc, ActionRefusedError | InvalidArgumentsError) or exc.code in (
        "action_refused",
        "invalid_arguments",
    ):
        return kit.draft("action_refused", reason=exc.message, failed=True)
    if exc.code in ("not_found", "permission_denied"):
        order = exc.context.get("id", "")
        return kit.draft("order_not_found", order_id=order, choices="", failed=True)
    return kit.draft("tool_failed", failed=True)


class FlowRegistry:
    """Flows by form name, checked against the form definitions."""

    def __init__(self, forms: RuleRegistry[FormSpec], flows: Iterable[Flow]) -> None:
        self.forms = forms
        self._flows: RuleRegistry[Flow] = RuleRegistry("flow")
        for flow in flows:
            forms.get(flow.name)  # a flow must have a form definition
            self._flows.register(flow)
        missing = [name for name in forms.names() if name not in self._flows]
        if missing:
            raise RegistryError(f"forms without a flow: {', '.join(missing)}", forms=missing)
        self._by_tool = {tool: flow for flow in self._flows for tool in flow.tools}

    def get(self, name: str) -> Flow:
        return self._flows.get(name)

    def for_tool(self, tool: str) -> Flow | None:
        return self._by_tool.get(tool)

    def names(self) -> list[str]:
        return self._flows.names()


class FormRunner:
    def __init__(self, flows: FlowRegistry, kit: Kit) -> None:
        self.flows = flows
        self.kit = kit

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
                first = flow.fill(earlier, self.kit, slots, None)
                turn.state = earlier.state
                slots.update(first.values)
                if first.problem is not None:
                    self._save(turn, form.name, slots, first.problem_slot)
                    return first.problem
        filled = flow.fill(turn, self.kit, slots, form.requested)
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
                return flow.ask(turn, self.kit, slots, slot)
        if turn.state.active_form is not None:
            turn.set_slot(SlotName.ACTIVE_FORM, None)
        turn.step("form", form.name, event="complete")
        return flow.act(turn, self.kit, slots)

    def _save(self, turn: Turn, name: str, slots: Slots, requested: str | None) -> None:
        form = ActiveForm(name=name, slots=slots, requested=requested)
        if turn.state.active_form != form:
            turn.set_slot(SlotName.ACTIVE_FORM, form)

    def _verified(self, turn: Turn) -> Draft:
        return self.kit.draft("auth_ok", name=turn.state.slots.customer_name or "there")

    def _authenticate(self, turn: Turn, spec: FormSpec, form: ActiveForm) -> Draft | None:
        """None once the customer is verified; else the question or the failure to send."""
        identity = turn.entities.identity
        if identity is None:
            slots = dict(form.slots)
            if form.requested is None:
                slots.setdefault(SAID, turn.text)
            self._save(turn, form.name, slots, "identity")
            failed = form.requested == "identity"
            return self.kit.draft("auth_ask", purpose=spec.purpose, failed=failed)
        outcome = lookup_customer(turn, identity)
        if isinstance(outcome, ToolError):
            self._save(turn, form.name, dict(form.slots), "identity")
            if outcome.code in ("not_found", "invalid_arguments"):
                return self.kit.draft("auth_failed", failed=True)
            return self.kit.draft("tool_failed", failed=True)
        result: Any = outcome.result
        turn.set_slot(SlotName.CUSTOMER_ID, result.customer_id)
        turn.set_slot(SlotName.CUSTOMER_NAME, result.first_name)
        return None

    def verify_switch(self, turn: Turn) -> Draft | None:
        """A second identity in a verified conversation is refused (one customer per conversation)."""
        identity = turn.entities.identity
        if identity is None or not turn.state.authenticated:
            return None
        outcome = lookup_customer(turn, identity)
        if (
            not isinstance(outcome, ToolError)
            and getattr(outcome.result, "customer_id", None) == turn.state.customer_id
        ):
            return self._verified(turn)
        return self.kit.draft("auth_other_customer", failed=True)
