"""The Rasa actions: one per tool, a prepare step per side effect, and verification.

Each action is a ``rasa_sdk.Action``; its ``run`` checks the tracker's shape (a malformed one is
rejected with Rasa's own ``ActionExecutionRejection``, so the caller gets Rasa's error shape)
and does the work off the event loop (:meth:`ShopActions.handle_*` are plain functions over the
tracker, returning an :class:`ActionReply`).

- ``action_<tool>``: arguments from the tracker; who the customer is from the binding held
  server-side (:mod:`connectors.rasa.identity`), never from a slot; side effects only with the
  token ``action_prepare_<tool>`` put in ``shop_confirmation`` for this very action.
- ``action_prepare_<tool>``: the policy's ``prepare`` (every check the call itself would make,
  nothing written), a summary and yes/no buttons.
- ``action_verify_customer``: two facts (``auth.level: knowledge``) or the shop's signed token
  (``shop_token``, from the message metadata), failures bounded by the shared guard.
- ``action_discard_confirmation``: the customer said no; the pending token is dropped.

The identity lookups (``find_customer_by_email``, ``find_customer_by_name_zip``) are not
actions: they would tell anyone which emails have accounts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

from connectors.rasa import slots as S
from connectors.rasa.identity import SenderIdentities
from connectors.rasa.messages import ActionReply, Event, Message, Messages, problems_text
from connectors.rasa.verify import Verifier
from core.errors import (
    AuthenticationRequiredError,
    ConfirmationRequiredError,
    InvalidArgumentsError,
    RegistryError,
    ShopassistError,
    ToolFailedError,
)
from tools.base import Tool, ToolContext
from tools.policy import ToolExecutor
from tools.registry import ToolRegistry

log = logging.getLogger(__name__)

HIDDEN_TOOLS = frozenset({"find_customer_by_email", "find_customer_by_name_zip", S.VERIFY_TOOL})
DISCARD_ACTION = "action_discard_confirmation"
YES_NO = ({"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"})
MAX_SENDER_CHARS = 512


class _Entity(BaseModel):
    model_config = ConfigDict(extra="allow")
    entity: str
    value: Any = None


class _LatestMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    entities: list[_Entity] = Field(default_factory=list)
    metadata: dict[str, Any] | None = None
    message_id: str | None = None


class _TrackerShape(BaseModel):
    """The parts of Rasa's tracker the actions read, checked before anything runs."""

    model_config = ConfigDict(extra="allow")
    sender_id: str = Field(min_length=1, max_length=MAX_SENDER_CHARS)
    slots: dict[str, Any]
    latest_message: _LatestMessage


def exposed_tools(registry: ToolRegistry) -> list[Tool[Any, Any]]:
    """The tools Rasa may call (all but the identity lookups)."""
    return [tool for tool in registry if tool.name not in HIDDEN_TOOLS]


class ShopActions:
    """Everything the actions share, built once by ``shopassist rasa-actions``."""

    def __init__(
        self,
        executor: ToolExecutor,
        identities: SenderIdentities,
        verifier: Verifier,
        messages: Messages,
    ) -> None:
        self.executor = executor
        self.identities = identities
        self.verifier = verifier
        self.messages = messages
        self.result_slots = set(S.argument_slots(executor.registry))
        for tool in exposed_tools(executor.registry):
            if not messages.has_result(tool.name):
                raise RegistryError(f"connectors/rasa/messages.yaml has no result message for {tool.name!r}")

    # Building blocks ----------------------------------------------------------------------
    def _context(
        self, tracker: Tracker, customer_id: str | None, action: str, tool: Tool[Any, Any]
    ) -> ToolContext:
        message_id = tracker.latest_message.get("message_id")
        # A write repeated for the same user message (Rasa retrying the webhook) replays.
        request = f"{message_id}:{action}" if tool.writes and message_id else None
        return ToolContext(
            session_id=self.identities.session_id(tracker.sender_id),
            customer_id=customer_id,
            channel="rasa",
            request=request,
        )

    def customer(self, tracker: Tracker) -> tuple[str | None, ActionReply | None]:
        """The verified customer bound to this sender, or a refusal when the tracker's
        ``verified_customer`` slot claims someone the binding does not hold."""
        binding = self.identities.customer_of(tracker.sender_id)
        bound = binding.customer_id if binding is not None else None
        claimed = tracker.get_slot(S.VERIFIED)
        if claimed not in (None, "") and claimed != bound:
            log.warning("refused a verified_customer slot that the action server did not set")
            return None, ActionReply(
                [Message(self.messages.text("forged_identity"))],
                [SlotSet(S.VERIFIED, None), SlotSet(S.ERROR, "identity_mismatch")],
            )
        return bound, None

    def ask(self, tool: Tool[Any, Any], missing: list[str]) -> ActionReply:
        fields = tool.args_model.model_fields
        described = [(fields[name].description or name).split(". ")[0].rstrip(".") for name in missing]
        what = " and ".join(text[:1].lower() + text[1:] for text in described)
        return ActionReply(
            [Message(self.messages.text("ask_argument", what=what))],
            [SlotSet(S.MISSING, missing), SlotSet(S.ERROR, "missing_arguments")],
        )

    def refusal(self, exc: ShopassistError, *, confirming: bool = False) -> ActionReply:
        """A policy refusal or failure as a message and ``shop_error``: the one place where
        errors become what a Rasa conversation sees."""
        events = [SlotSet(S.ERROR, exc.code)]
        if isinstance(exc, InvalidArgumentsError):
            errors = list(exc.context.get("errors") or [])
            text = self.messages.text("bad_arguments", problems=problems_text(errors) or exc.message)
            events.append(SlotSet(S.MISSING, [e.get("argument") for e in errors if e.get("argument")]))
        elif isinstance(exc, AuthenticationRequiredError):
            text = self.verifier.ask_text()
        elif isinstance(exc, ConfirmationRequiredError):
            text = self.messages.text("confirmation_stale" if confirming else "needs_confirmation")
            events += _no_pending()
        elif isinstance(exc, ToolFailedError):
            text = self.messages.text("failed")
        else:
            text = self.messages.text("refused", message=exc.message)
        return ActionReply([Message(text)], events)

    def _result_events(self, result: BaseModel) -> list[Event]:
        """Scalar result fields named like an argument slot (``order_id``) fill that slot."""
        events = []
        for name in type(result).model_fields:
            value = getattr(result, name)
            if (
                name in self.result_slots
                and isinstance(value, (str, int, float))
                and not isinstance(value, bool)
            ):
                events.append(SlotSet(name, value))
        return events

    # Actions ------------------------------------------------------------------------------
    def _start(
        self, tool: Tool[Any, Any], tracker: Tracker
    ) -> tuple[ToolContext, dict[str, Any]] | ActionReply:
        """Who is asking and the call's arguments, or the reply that stops here (a forged
        identity, a missing argument)."""
        customer, refused = self.customer(tracker)
        if refused is not None:
            return refused
        given = S.arguments_from(tracker, tool)
        missing = S.missing_arguments(tool, given)
        if missing:
            return self.ask(tool, missing)
        return self._context(tracker, customer, S.action_name(tool.name), tool), given

    def handle_tool(self, tool: Tool[Any, Any], tracker: Tracker) -> ActionReply:
        name = S.action_name(tool.name)
        started = self._start(tool, tracker)
        if isinstance(started, ActionReply):
            return started
        ctx, given = started
        customer = ctx.customer_id
        token = None
        if tool.side_effect:
            if tracker.get_slot(S.PENDING) == name:
                token = tracker.get_slot(S.CONFIRMATION) or None
            if not isinstance(token, str):
                return self.refusal(ConfirmationRequiredError("not confirmed", tool=tool.name))
            ctx = ctx.confirmed(token)
        try:
            outcome = self.executor.run(tool.name, given, ctx=ctx)
        except ShopassistError as exc:
            return self.refusal(exc, confirming=token is not None)
        events = [
            SlotSet(S.RESULT, outcome.to_dict()),
            SlotSet(S.ERROR, None),
            SlotSet(S.MISSING, None),
            *self._result_events(outcome.result),
        ]
        if tool.side_effect:
            events += _no_pending()
        if customer is not None and tracker.get_slot(S.VERIFIED) != customer:
            events.append(SlotSet(S.VERIFIED, customer))
        return ActionReply([self.messages.result(tool.name, outcome.result)], events)

    def handle_prepare(self, tool: Tool[Any, Any], tracker: Tracker) -> ActionReply:
        started = self._start(tool, tracker)
        if isinstance(started, ActionReply):
            return started
        ctx, given = started
        try:
            pending = self.executor.prepare(tool.name, given, ctx=ctx)
        except ShopassistError as exc:
            return self.refusal(exc)
        summary = pending.summary.rstrip(".")
        return ActionReply(
            [
                Message(
                    self.messages.text("confirm", summary=summary[:1].upper() + summary[1:]), buttons=YES_NO
                )
            ],
            [
                SlotSet(S.CONFIRMATION, pending.token),
                SlotSet(S.PENDING, S.action_name(tool.name)),
                SlotSet(S.SUMMARY, pending.summary),
                SlotSet(S.ERROR, None),
                SlotSet(S.MISSING, None),
            ],
        )

    def handle_discard(self, tracker: Tracker) -> ActionReply:
        return ActionReply([Message(self.messages.text("discarded"))], _no_pending())

    def handle_verify(self, tracker: Tracker) -> ActionReply:
        return self.verifier.verify(tracker)

    # Registration -------------------------------------------------------------------------
    def actions(self) -> list[Action]:
        found: list[Action] = [
            _ShopAction(S.VERIFY_ACTION, self.handle_verify),
            _ShopAction(DISCARD_ACTION, self.handle_discard),
        ]
        for tool in exposed_tools(self.executor.registry):
            found.append(_ShopAction(S.action_name(tool.name), _bind(self.handle_tool, tool)))
            if tool.side_effect:
                found.append(_ShopAction(S.prepare_name(tool.name), _bind(self.handle_prepare, tool)))
        return found

    def action_executor(self) -> ActionExecutor:
        """rasa-sdk's own executor with every action registered (a name twice is an error)."""
        executor = ActionExecutor()
        for action in self.actions():
            if action.name() in executor.actions:
                raise RegistryError(f"Rasa action {action.name()!r} is registered twice")
            executor.register_action(action)
        return executor


def _no_pending() -> list[Event]:
    """Events clearing a pending confirmation (used, refused or declined)."""
    return [SlotSet(S.CONFIRMATION, None), SlotSet(S.PENDING, None), SlotSet(S.SUMMARY, None)]


def _bind(
    handler: Callable[[Tool[Any, Any], Tracker], ActionReply], tool: Tool[Any, Any]
) -> Callable[[Tracker], ActionReply]:
    return lambda tracker: handler(tool, tracker)


class _ShopAction(Action):
    """One registered action: checks the tracker, then runs its handler in a worker thread
    (tools use the store synchronously; the event loop keeps serving other calls)."""

    def __init__(self, name: str, handler: Callable[[Tracker], ActionReply]) -> None:
        self._name = name
        self._handler = handler

    def name(self) -> str:
        return self._name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        try:
            _TrackerShape.model_validate(
                {
                    "sender_id": tracker.sender_id,
                    "slots": tracker.slots,
                    "latest_message": tracker.latest_message,
                }
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'tracker'}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise ActionExecutionRejection(self._name, f"Malformed tracker: {problems}") from None
        reply = await asyncio.to_thread(self._handler, tracker)
        for message in reply.messages:
            dispatcher.utter_message(**message.utterance())
        return reply.events
