"""The events of a conversation: an append-only log from which all session state is folded.

An :data:`Event` is one of the models below, told apart by its ``type``. The session store wraps
each appended event in a :class:`StoredEvent` that adds where and when it happened: the
session, a per-session sequence number (1, 2, 3... without gaps), a uuid and a UTC time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    field_validator,
    model_validator,
)

from assistant.sessions.shown import Citation, QuickReply, ReplySource, ShownProduct
from assistant.sessions.slots import (
    ConfirmationOutcome,
    Identifier,
    Label,
    Mode,
    PendingConfirmation,
    SlotName,
    Slots,
)

if TYPE_CHECKING:
    from tools.policy import PendingAction

MAX_TEXT = 100_000
MAX_KEY = 64
INJECTION_SUSPECTED = "injection_suspected"
"""User-message flag set by the input guardrails."""


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UserMessage(_Event):
    """What the customer wrote (after the guardrails cleaned it)."""

    type: Literal["user_message"] = "user_message"
    text: str = Field(max_length=MAX_TEXT)
    channel: str = Field(min_length=1, max_length=32)
    flags: tuple[Identifier, ...] = Field(default=(), description="e.g. injection_suspected.")
    product_id: str | None = Field(
        default=None, max_length=120, description="The product card the message came from (a button tap)."
    )
    key: str | None = Field(
        default=None,
        max_length=MAX_KEY,
        description="The channel's id for this message (e.g. Telegram's update id), so a message "
        "delivered twice is answered once.",
    )

    @field_validator("flags")
    @classmethod
    def _unique_sorted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))


class BotReply(_Event):
    """What the bot answered, with what it showed."""

    type: Literal["bot_reply"] = "bot_reply"
    text: str = Field(max_length=MAX_TEXT)
    products: tuple[ShownProduct, ...] = ()
    quick_replies: tuple[QuickReply, ...] = ()
    citations: tuple[Citation, ...] = ()
    source: ReplySource = ReplySource.TEMPLATE
    template: str | None = Field(default=None, description="The template's name, for template replies.")
    in_reply_to: str | None = Field(
        default=None, max_length=MAX_KEY, description="The key of the customer message answered."
    )


class ToolCall(_Event):
    type: Literal["tool_call"] = "tool_call"
    call_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=64)
    tool: Identifier
    args: dict[str, JsonValue] = Field(default_factory=dict)
    confirmation_pending: bool = Field(default=False, description="Waits for the customer's yes.")


class ToolResult(_Event):
    """The outcome of a tool call: a JSON result, or an error code and message."""

    type: Literal["tool_result"] = "tool_result"
    call_id: str | None = Field(default=None, max_length=64)
    tool: Identifier
    ok: bool
    result: JsonValue = None
    error_code: str | None = None
    error_message: str | None = None
    replayed: bool = Field(default=False, description="An idempotent replay of an earlier call.")

    @model_validator(mode="after")
    def _error_iff_failed(self) -> ToolResult:
        if self.ok and (self.error_code or self.error_message):
            raise ValueError("a successful tool result carries no error")
        if not self.ok and not self.error_code:
            raise ValueError("a failed tool result needs an error_code")
        return self


class SlotSet(_Event):
    """Sets one slot; ``value`` is checked against the slot's type (None resets it)."""

    type: Literal["slot_set"] = "slot_set"
    name: SlotName
    value: Any = None

    @model_validator(mode="before")
    @classmethod
    def _typed_value(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" in data:
            data = {**data, "value": Slots.validate_value(data["name"], data.get("value"))}
        return data


class ModeChange(_Event):
    type: Literal["mode_change"] = "mode_change"
    mode: Mode
    reason: Label
    by: str = Field(min_length=1, max_length=120, description="bot, customer, system or agent:<name>.")


class ConfirmationRequested(_Event):
    """The bot asked the customer to confirm a side effect."""

    type: Literal["confirmation_requested"] = "confirmation_requested"
    tool: Identifier
    args: dict[str, JsonValue] = Field(default_factory=dict)
    summary: str
    token: str = Field(min_length=1)
    expires_at: AwareDatetime

    @classmethod
    def from_pending(cls, pending: PendingAction) -> ConfirmationRequested:
        """From the policy layer's ``PendingAction`` (``ToolExecutor.prepare``)."""
        return cls(
            tool=pending.tool,
            args=pending.args,
            summary=pending.summary,
            token=pending.token,
            expires_at=datetime.fromtimestamp(pending.expires_at, UTC),
        )

    def pending(self) -> PendingConfirmation:
        return PendingConfirmation(
            tool=self.tool, args=self.args, summary=self.summary, token=self.token, expires_at=self.expires_at
        )


class ConfirmationResolved(_Event):
    """The customer answered (or the confirmation expired). ``token`` None resolves any pending one."""

    type: Literal["confirmation_resolved"] = "confirmation_resolved"
    outcome: ConfirmationOutcome
    token: str | None = None


class AgentMessage(_Event):
    """What a human support agent wrote."""

    type: Literal["agent_message"] = "agent_message"
    agent: str = Field(min_length=1, max_length=120)
    text: str = Field(max_length=MAX_TEXT)
    draft: str | None = Field(
        default=None, max_length=MAX_TEXT, description="The bot's suggested draft the agent started from."
    )

    @property
    def edited(self) -> bool:
        """The agent changed the bot's draft before sending (a feedback example)."""
        return self.draft is not None and self.draft.strip() != self.text.strip()


Event = Annotated[
    UserMessage
    | BotReply
    | ToolCall
    | ToolResult
    | SlotSet
    | ModeChange
    | ConfirmationRequested
    | ConfirmationResolved
    | AgentMessage,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_TYPES: tuple[str, ...] = (
    "user_message",
    "bot_reply",
    "tool_call",
    "tool_result",
    "slot_set",
    "mode_change",
    "confirmation_requested",
    "confirmation_resolved",
    "agent_message",
)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """An event from its JSON text or dict (raises pydantic's ValidationError if malformed)."""
    if isinstance(data, dict):
        return EVENT_ADAPTER.validate_python(data)
    return EVENT_ADAPTER.validate_json(data)


def dump_event(event: Event) -> str:
    """The event's JSON text, as the store keeps it."""
    return event.model_dump_json()


class StoredEvent(BaseModel):
    """An event as recorded: ``seq`` counts 1, 2, 3... within its session, without gaps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: str
    seq: int = Field(ge=1)
    id: uuid.UUID
    at: AwareDatetime
    event: Event

    @property
    def type(self) -> str:
        return self.event.type
