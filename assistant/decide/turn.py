"""One turn's working state: what the engine knows, what it did, and the events to record.

A :class:`Turn` is built for one customer message and thrown away after it. Handlers read the
session state and the message's entities and intent from it, run tools through
:meth:`Turn.call` (which goes through the policy layer and records a ``tool_call`` and a
``tool_result`` event), set slots with :meth:`Turn.set_slot`, and finish with a
:class:`~assistant.reply.draft.Draft`. Nothing is written until the engine appends
:attr:`Turn.events` in one transaction at the end of the turn, so a turn that fails halfway
records nothing of itself (tool side effects are idempotent and confirmed beforehand).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from assistant.reply.message import TurnStep
from assistant.sessions.events import (
    ConfirmationRequested,
    ConfirmationResolved,
    Event,
    ModeChange,
    SlotSet,
    ToolCall,
    ToolResult,
)
from assistant.sessions.slots import ConfirmationOutcome, Mode, SlotName
from assistant.sessions.state import SessionState, apply
from core.errors import ShopassistError, StorageError
from dialogue_rules.entities.extract import extract_all
from dialogue_rules.entities.values import Entities
from dialogue_rules.guardrails import GuardedInput
from dialogue_rules.intents import IntentResult
from tools.base import Tool, ToolContext
from tools.base import ToolResult as AnyToolResult
from tools.policy import PendingAction, ToolExecutor, ToolOutcome

log = logging.getLogger(__name__)
R = TypeVar("R", bound=AnyToolResult)


@dataclass
class ToolError:
    """A tool call that did not succeed: the error's code and message (never raised further)."""

    tool: str
    error: ShopassistError

    @property
    def code(self) -> str:
        return self.error.code


@dataclass
class Turn:
    session_id: str
    channel: str
    state: SessionState
    guarded: GuardedInput
    entities: Entities
    intent: IntentResult
    executor: ToolExecutor
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    product_id: str | None = None
    """The product card the message came from (a button tap), if any."""
    message_key: str | None = None
    """The channel's key for the message; names this turn's tool calls (``ToolContext.request``)."""
    client: str | None = None
    """Who sent it, as the channel knows them ("ip:203.0.113.7", "telegram:12345"): failed
    identity checks are counted per client as well as per customer."""
    call_numbers: Iterator[int] = field(default_factory=itertools.count)
    """Numbers this turn's tool calls in order; shared with :meth:`about` views."""
    events: list[Event] = field(default_factory=list)
    steps: list[TurnStep] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.guarded.text

    def about(self, text: str) -> Turn:
        """A view of this turn reading an earlier message (same events, steps and tools).

        Copy its ``state`` back after use: ``turn.state = view.state``.
        """
        return replace(self, guarded=replace(self.guarded, text=text), entities=extract_all(text))

    @property
    def tool_context(self) -> ToolContext:
        return ToolContext(
            session_id=self.session_id, customer_id=self.state.customer_id, channel=self.channel
        )

    # Recording ----------------------------------------------------------------------------
    def record(self, event: Event) -> None:
        self.events.append(event)
        self.state = apply(self.state, event)

    def step(self, kind: str, name: str, *, ok: bool = True, **detail: Any) -> None:
        self.steps.append(TurnStep(kind=kind, name=name, ok=ok, detail=_jsonable(detail)))

    def set_slot(self, name: SlotName, value: Any) -> None:
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        self.record(SlotSet(name=name, value=value))
        self.step("slot", name.value, value=_short(value))

    def change_mode(self, mode: Mode, *, reason: str, by: str = "bot") -> None:
        if self.state.mode is not mode:
            self.record(ModeChange(mode=mode, reason=reason, by=by))
            self.step("mode", mode.value, reason=reason)

    # Tools --------------------------------------------------------------------------------
    def call(
        self, tool: type[Tool[Any, R]], args: dict[str, Any], *, confirmation: str | None = None
    ) -> ToolOutcome[R] | ToolError:
        """Run ``tool`` through the policy layer; the outcome carries the tool's own result type.
        Failures come back as :class:`ToolError`, except a :class:`StorageError` (a full or
        read-only database): the turn could not be recorded either, so it is raised and the
        whole turn ends with nothing written."""
        call = ToolCall(tool=tool.name, args=_jsonable(args))
        self.record(call)
        ctx = self.tool_context if confirmation is None else self.tool_context.confirmed(confirmation)
        number = next(self.call_numbers)
        if self.message_key is not None:
            ctx = replace(ctx, request=f"{self.message_key}#{number}")
        try:
            outcome = self.executor.run(tool, args, ctx=ctx)
        except StorageError:
            raise
        except ShopassistError as exc:
            self.record(
                ToolResult(
                    call_id=call.call_id,
                    tool=tool.name,
                    ok=False,
                    error_code=exc.code,
                    error_message=exc.message,
                )
            )
            self.step("tool", tool.name, ok=False, args=_jsonable(args), error=exc.code)
            log.info("tool refused or failed", extra={"tool": tool.name, "code": exc.code})
            return ToolError(tool.name, exc)
        self.record(
            ToolResult(
                call_id=call.call_id,
                tool=tool.name,
                ok=True,
                result=outcome.result.model_dump(mode="json"),
                replayed=outcome.replayed,
            )
        )
        self.step("tool", tool.name, args=_jsonable(args))
        return outcome

    def prepare(self, tool: type[Tool[Any, Any]], args: dict[str, Any]) -> PendingAction | ToolError:
        """Ask the policy layer for a confirmation of a side effect (nothing is written)."""
        try:
            pending = self.executor.prepare(tool, args, ctx=self.tool_context)
        except ShopassistError as exc:
            self.step("confirmation", tool.name, ok=False, error=exc.code)
            return ToolError(tool.name, exc)
        self.record(ConfirmationRequested.from_pending(pending))
        self.step("confirmation", tool.name, args=_jsonable(args))
        return pending

    def resolve_confirmation(self, outcome: ConfirmationOutcome) -> None:
        pending = self.state.pending_confirmation
        if pending is not None:
            self.record(ConfirmationResolved(outcome=outcome, token=pending.token))
            self.step("confirmation", pending.tool, outcome=outcome.value)


def _short(value: Any) -> Any:
    text = str(value)
    return value if len(text) <= 200 else text[:200] + "..."


def _jsonable(value: Any) -> Any:
    """``value`` as JSON-compatible data (Decimals become strings; models are dumped)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
