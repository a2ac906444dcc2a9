"""Which slots the actions read and set: one per tool argument name, plus the few of our own.

A tool's argument ``order_id`` is read from the latest message's ``order_id`` entities, else from
the ``order_id`` slot; both are declared in the generated domain. The same argument name means
the same thing across tools (an order id is an order id), so one slot serves them all; where two
tools type it differently, the slot is ``any`` and the tool's own model checks the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tools.base import Tool
from tools.registry import ToolRegistry

if TYPE_CHECKING:
    from rasa_sdk import Tracker

SlotType = Literal["text", "float", "bool", "list", "any"]

VERIFIED = "verified_customer"
"""The verified customer's id: set only by ``action_verify_customer``, checked against the
binding held server-side on every action."""
CONFIRMATION = "shop_confirmation"
"""The confirmation token of the pending side effect (from ``action_prepare_<tool>``)."""
PENDING = "shop_pending_action"
"""The action the pending confirmation is for (``action_cancel_order``)."""
SUMMARY = "shop_pending_summary"
"""What the pending side effect will do, as shown to the customer."""
RESULT = "shop_result"
"""The last tool's result as JSON (``{"tool": ..., "result": {...}, "replayed": ...}``)."""
ERROR = "shop_error"
"""The last refusal's code (``authentication_required``, ``permission_denied``, ...), or None."""
MISSING = "shop_missing"
"""The argument names the last action still needs."""

VERIFY_ACTION = "action_verify_customer"
VERIFY_TOOL = "verify_customer"

OWN_SLOTS: dict[str, tuple[SlotType, str]] = {
    VERIFIED: ("text", "The verified customer's id (set only by action_verify_customer)."),
    CONFIRMATION: ("text", "The token confirming the pending side effect."),
    PENDING: ("text", "The action the pending confirmation is for."),
    SUMMARY: ("text", "What the pending side effect will do."),
    RESULT: ("any", "The last tool result."),
    ERROR: ("text", "The code of the last refusal."),
    MISSING: ("list", "The arguments the last action still needs."),
}


def action_name(tool: str) -> str:
    return f"action_{tool}"


def prepare_name(tool: str) -> str:
    return f"action_prepare_{tool}"


@dataclass(frozen=True)
class ArgumentSlot:
    """A slot holding one argument name of one or more tools."""

    name: str
    type: SlotType
    description: str
    from_entity: bool
    """Filled from an entity of the same name (scalars and lists of scalars)."""


def _schema_type(prop: dict[str, Any], defs: dict[str, Any]) -> SlotType:
    ref = prop.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1], {})
        return "text" if "enum" in target else "any"  # enums are words; models are objects
    if "anyOf" in prop:
        kinds = {_schema_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null"}
        if "float" in kinds:
            return "float"  # Decimal: number or numeric string
        return kinds.pop() if len(kinds) == 1 else "any"
    kind = prop.get("type")
    if kind == "string":
        return "text"
    if kind in ("integer", "number"):
        return "float"
    if kind == "boolean":
        return "bool"
    if kind == "array":
        return "list"
    return "any"  # objects, references to nested models


def tool_slots(tool: Tool[Any, Any]) -> list[ArgumentSlot]:
    schema = tool.args_model.model_json_schema()
    defs = schema.get("$defs", {})
    found = []
    for name, prop in schema.get("properties", {}).items():
        kind = _schema_type(prop, defs)
        description = tool.args_model.model_fields[name].description or name
        plain = kind != "any" and (kind != "list" or _schema_type(prop.get("items", {}), defs) != "any")
        found.append(ArgumentSlot(name, kind, description, from_entity=plain))
    return found


def argument_slots(registry: ToolRegistry) -> dict[str, ArgumentSlot]:
    """Every argument name of every tool, as a slot; a name typed two ways becomes ``any``."""
    slots: dict[str, ArgumentSlot] = {}
    for tool in registry:
        for slot in tool_slots(tool):
            known = slots.get(slot.name)
            if known is None:
                slots[slot.name] = slot
            elif known.type != slot.type:
                slots[slot.name] = ArgumentSlot(slot.name, "any", known.description, from_entity=False)
    clash = set(slots) & set(OWN_SLOTS)
    if clash:
        raise ValueError(f"tool arguments named like the action server's own slots: {sorted(clash)}")
    return dict(sorted(slots.items()))


def arguments_from(tracker: Tracker, tool: Tool[Any, Any]) -> dict[str, Any]:
    """The tool's arguments as the conversation gives them: entities of the latest message
    first (a list argument takes all of them), then the slot of the same name."""
    given: dict[str, Any] = {}
    for slot in tool_slots(tool):
        values = list(tracker.get_latest_entity_values(slot.name)) if slot.from_entity else []
        if values:
            given[slot.name] = values if slot.type == "list" else values[-1]
            continue
        value = tracker.get_slot(slot.name)
        if value is not None and value != "" and value != []:
            given[slot.name] = value
    return given


def missing_arguments(tool: Tool[Any, Any], given: dict[str, Any]) -> list[str]:
    """The required arguments not given, in the tool's order."""
    return [
        name
        for name, info in tool.args_model.model_fields.items()
        if info.is_required() and name not in given
    ]
