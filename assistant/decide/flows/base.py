"""Flows: the code behind each form (``forms.yaml`` says which slots, in which order, and whether
the customer must be verified first). :class:`~assistant.decide.flows.runner.FormRunner` drives
them, one turn of an open form at a time:

1. a form that needs a verified customer verifies them first (email, or first + last name and
   zip code, looked up with the ``find_customer_*`` tools); one customer per conversation;
2. ``fill`` reads slot values from the message (entities, the order's items, the products
   shown), checking them with read-only tools; a value that does not check out comes back as a
   problem reply, and the slot is asked again;
3. the first missing slot is asked with ``ask``;
4. when all are filled, ``act`` runs the task: read-only tools directly, side effects by asking
   the policy layer for a confirmation, shown to the customer with the exact summary;
5. after the customer's "yes", ``done`` phrases the side effect's result.

Flows call tools by class (``turn.call(GetOrderStatus, ...)``) and get the tool's own result
type back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.decide.context import Context
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from core.errors import ActionRefusedError, ConfigError, InvalidArgumentsError, RegistryError
from dialogue_rules.entities.values import AuthIdentity
from dialogue_rules.forms import FormSpec
from dialogue_rules.registry import RuleRegistry
from tools.base import Tool
from tools.customer import CustomerIdentity, FindCustomerByEmail, FindCustomerByNameZip
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
    def tools(self) -> tuple[type[Tool[Any, Any]], ...]:
        """Side-effect tools whose confirmed results :meth:`done` phrases."""
        ...

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled: ...
    def ask(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft: ...
    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft: ...
    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[Any]) -> Draft:
        """Phrase a confirmed side effect; ``outcome`` is typed by the tool (one of :attr:`tools`)."""
        ...

    def answers(self, turn: Turn, ctx: Context, slots: Slots, requested: str) -> bool:
        """Whether the message answers the ``requested`` slot, though it reads like another task
        ("I'd like a clicky keyboard" answering "what instead?" is not a new search)."""
        ...

    def revise(self, turn: Turn, ctx: Context, slots: Slots) -> Slots | None:
        """A filled form's slots with what a correction after its confirmation prompt changes
        ("no, I meant the white backlight"); None when the message changes none of them."""
        ...


class FlowBase:
    """Defaults for flows without side effects."""

    name = ""
    tools: tuple[type[Tool[Any, Any]], ...] = ()

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[Any]) -> Draft:  # pragma: no cover
        raise InvalidArgumentsError(f"flow {self.name} runs no confirmed tool")

    def answers(self, turn: Turn, ctx: Context, slots: Slots, requested: str) -> bool:
        return False

    def revise(self, turn: Turn, ctx: Context, slots: Slots) -> Slots | None:
        return None


class NoSlotFlow(FlowBase):
    """A flow whose form has no slots: it acts as soon as it starts (after verification)."""

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        return Filled()

    def ask(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:  # pragma: no cover - no slots
        raise no_question(self.name, slot)


def no_question(form: str, slot: str) -> ConfigError:
    """forms.yaml lists a slot the flow's code does not ask for."""
    return ConfigError(
        f"form {form!r} has no question for slot {slot!r}: add it to its flow in assistant/decide/flows/",
        key=f"forms.{form}.slots",
    )


def lookup_customer(turn: Turn, identity: AuthIdentity) -> ToolOutcome[CustomerIdentity] | ToolError:
    """Find the customer an email, or a full name plus zip code, belongs to."""
    if identity.email:
        return turn.call(FindCustomerByEmail, {"email": identity.email})
    args = {"first_name": identity.first_name, "last_name": identity.last_name, "zip": identity.zip_code}
    return turn.call(FindCustomerByNameZip, args)


def confirm(turn: Turn, ctx: Context, tool: type[Tool[Any, Any]], args: dict[str, Any]) -> Draft:
    """Ask the policy layer to check a side effect and the customer to confirm its summary."""
    pending = turn.prepare(tool, args)
    if isinstance(pending, ToolError):
        return refusal(ctx, pending)
    return confirmation_draft(ctx, pending.summary)


def confirmation_draft(ctx: Context, summary: str) -> Draft:
    """Ask the customer to confirm exactly ``summary`` (the policy layer's text)."""
    return ctx.draft("confirm_action", summary=summary, facts=[summary])


def refusal(ctx: Context, error: ToolError) -> Draft:
    """The customer-facing reply for a refused or failed tool call."""
    exc = error.error
    if isinstance(exc, ActionRefusedError | InvalidArgumentsError) or exc.code in (
        "action_refused",
        "invalid_arguments",
    ):
        return ctx.draft("action_refused", reason=exc.message, failed=True)
    if exc.code in ("not_found", "permission_denied"):
        order = exc.context.get("id", "")
        return ctx.draft("order_not_found", order_id=order, choices="", failed=True)
    return ctx.draft("tool_failed", failed=True)


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
        self._by_tool = {tool.name: (tool, flow) for flow in self._flows for tool in flow.tools}

    def get(self, name: str) -> Flow:
        return self._flows.get(name)

    def for_tool(self, tool: str) -> tuple[type[Tool[Any, Any]], Flow] | None:
        """The side-effect tool called ``tool`` and the flow that phrases its result."""
        return self._by_tool.get(tool)

    def names(self) -> list[str]:
        return self._flows.names()
