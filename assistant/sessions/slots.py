"""Wire shapes of a conversation: modes, slots and the values they hold, session summaries.

Every shape here is JSON round-trippable (``model_dump(mode="json")`` then ``model_validate``
gives an equal object): the session store keeps them inside event payloads.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from assistant.sessions.shown import ShownProduct
from core.errors import InvalidArgumentsError

SESSION_ID_MAX = 128
_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""A lower-case name: tools, forms, templates, flags, form slots."""
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def validate_session_id(value: object) -> str:
    """Return ``value`` if it is a valid session id, else raise :class:`InvalidArgumentsError`.

    A session id is 1 to 128 characters of ASCII letters, digits and ``_ . : -``, starting with a
    letter or digit (``tg:123456``, a uuid, ``web-3f2a...``), so it is safe in URLs, logs and keys.
    """
    if not isinstance(value, str) or not 0 < len(value) <= SESSION_ID_MAX or not _SESSION_ID.match(value):
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise InvalidArgumentsError(
            f"Invalid session id {shown!r}: use 1 to {SESSION_ID_MAX} letters, digits and _ . : - "
            "starting with a letter or digit",
            errors=[{"field": "session_id", "message": "invalid session id"}],
        )
    return value


def validate_channel(value: object) -> str:
    """Return ``value`` if it is a channel name (``web``, ``telegram``, ``voice``...), else raise."""
    if not isinstance(value, str) or not _CHANNEL.match(value):
        raise InvalidArgumentsError(
            f"Invalid channel {value!r}: use 1 to 32 lower-case letters, digits, _ or -, "
            "starting with a letter",
            errors=[{"field": "channel", "message": "invalid channel"}],
        )
    return value


class Mode(enum.StrEnum):
    """Who answers: the bot, a human agent (the bot stays silent), or nobody (closed)."""

    BOT = "bot"
    AGENT = "agent"
    CLOSED = "closed"


class ConfirmationOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActiveForm(_Shape):
    """A form being filled: its name, the slots collected so far, and the slot last asked for."""

    name: Identifier
    slots: dict[str, JsonValue] = Field(default_factory=dict)
    requested: str | None = Field(default=None, description="The slot the bot asked for last.")
    asked: int = Field(default=0, ge=0, description="Times in a row the same question was asked.")
    question: str | None = Field(default=None, max_length=64, description="Digest of the last question.")


class QueuedGoal(_Shape):
    """A second task said in the same message as the first ("cancel #W1 and return the lamp
    from #W2"): taken up once the first is done."""

    intent: Identifier
    text: str = Field(min_length=1, max_length=2000)


class PendingConfirmation(_Shape):
    """A side effect waiting for the customer's yes; ``token`` comes from the policy layer."""

    tool: Identifier
    args: dict[str, JsonValue] = Field(default_factory=dict)
    summary: str
    token: str = Field(min_length=1)
    expires_at: AwareDatetime

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class SearchMemory(_Shape):
    """The last product search, so "cheaper", "in blue" or "under 50" refine it."""

    query: str = Field(min_length=1, max_length=300)
    filters: dict[str, JsonValue] = Field(default_factory=dict, description="catalog_search filters.")


class SlotName(enum.StrEnum):
    CUSTOMER_ID = "customer_id"
    CUSTOMER_NAME = "customer_name"
    CURRENT_ORDER = "current_order"
    LAST_PRODUCTS = "last_products"
    LAST_ORDER_IDS = "last_order_ids"
    ACTIVE_FORM = "active_form"
    PENDING_CONFIRMATION = "pending_confirmation"
    CONFIRMING_FORM = "confirming_form"
    QUEUED_GOALS = "queued_goals"
    FAILED_TURNS = "failed_turns"
    LAST_SEARCH = "last_search"
    CART_SEEN = "cart_seen"


class Slots(_Shape):
    """What the conversation knows. The cart is not a slot: it lives in the store, per session."""

    customer_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The authenticated customer."
    )
    customer_name: str | None = None
    current_order: str | None = Field(default=None, min_length=1, description="'that order'.")
    last_products: tuple[ShownProduct, ...] = Field(default=(), description="In the order shown.")
    last_order_ids: tuple[str, ...] = ()
    active_form: ActiveForm | None = None
    pending_confirmation: PendingConfirmation | None = None
    confirming_form: ActiveForm | None = Field(
        default=None, description="The last form filled, so a correction to its confirmation reopens it."
    )
    queued_goals: tuple[QueuedGoal, ...] = Field(default=(), description="Tasks said with another, in turn.")
    failed_turns: int = Field(default=0, ge=0, description="Failed turns in a row.")
    last_search: SearchMemory | None = None
    cart_seen: bool = Field(default=False, description="The cart was shown or changed in this conversation.")

    @classmethod
    def validate_value(cls, name: SlotName | str, value: Any) -> Any:
        """``value`` converted and checked for slot ``name``; None means the slot's default."""
        slot = SlotName(name)
        if value is None:
            return cls.model_fields[slot.value].get_default(call_default_factory=True)
        return getattr(cls.model_validate({slot.value: value}), slot.value)


class SessionSummary(_Shape):
    """One line of a session listing (the agent console's conversation list)."""

    session_id: str
    channel: str
    mode: Mode
    customer_id: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_seq: int = Field(ge=0, description="Number of events in the session.")
