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

from shopassist.errors import InvalidArgumentsError
from tools.types import Money

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


class ReplySource(enum.StrEnum):
    TEMPLATE = "template"
    LLM = "llm"


class ConfirmationOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShownProduct(_Shape):
    """A product as the customer saw it, so "the second one" or "the blue one" can be resolved."""

    product_id: str = Field(min_length=1, max_length=120)
    title: str = Field(max_length=500)
    price: Money | None = Field(default=None, description="The price shown (the lowest, for a range).")
    max_price: Money | None = Field(default=None, description="Top of the price range, if one was shown.")
    variant_id: str | None = Field(default=None, description="The variant shown, if a single one was.")
    options: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Option values on offer, e.g. {'color': ('blue', 'red')}."
    )
    brand: str = ""
    in_stock: bool | None = Field(default=None, description="Availability shown (None: not recorded).")
    image_url: str | None = None

    def card(self) -> ProductCard | None:
        """The card as it was shown (None when no price was shown, so there was no card)."""
        if self.price is None:
            return None
        return ProductCard(
            product_id=self.product_id,
            title=self.title,
            brand=self.brand,
            price=self.price,
            max_price=self.max_price,
            in_stock=self.in_stock is not False,
            image_url=self.image_url,
            variant_id=self.variant_id,
        )


class QuickReply(_Shape):
    """A button under a reply; tapping it sends ``payload`` (or the label)."""

    label: str = Field(min_length=1, max_length=64)
    payload: str | None = Field(default=None, max_length=500)

    @property
    def value(self) -> str:
        return self.payload if self.payload is not None else self.label


class Citation(_Shape):
    """Where a stated policy comes from (a passage of the shop's pages)."""

    source: str = Field(description="Page file name.")
    page: str = Field(description="Page title.")
    section: str = ""
    chunk_id: str | None = None


class ActiveForm(_Shape):
    """A form being filled: its name, the slots collected so far, and the slot last asked for."""

    name: Identifier
    slots: dict[str, JsonValue] = Field(default_factory=dict)
    requested: str | None = Field(default=None, description="The slot the bot asked for last.")


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


class ProductCard(_Shape):
    """A product as a channel shows it: title, price (range), availability, picture."""

    product_id: str
    title: str
    brand: str = ""
    price: Money
    max_price: Money | None = None
    in_stock: bool = True
    image_url: str | None = None
    variant_id: str | None = Field(default=None, description="Set when one exact variant is meant.")

    def shown(self, options: dict[str, tuple[str, ...]] | None = None) -> ShownProduct:
        return ShownProduct(
            product_id=self.product_id,
            title=self.title,
            price=self.price,
            max_price=self.max_price,
            variant_id=self.variant_id,
            options=options or {},
            brand=self.brand,
            in_stock=self.in_stock,
            image_url=self.image_url,
        )


class TurnStep(_Shape):
    """One thing the engine did in a turn (for channels, debugging and scenario checks)."""

    kind: str = Field(description="intent, command, tool, slot, mode, confirmation, grounding")
    name: str
    ok: bool = True
    detail: dict[str, JsonValue] = Field(default_factory=dict)


class Reply(_Shape):
    """What one customer turn produced. ``text`` is empty when the bot stays silent (agent mode)."""

    session_id: str
    text: str
    products: tuple[ProductCard, ...] = ()
    quick_replies: tuple[QuickReply, ...] = ()
    citations: tuple[Citation, ...] = ()
    mode: Mode = Mode.BOT
    source: ReplySource = ReplySource.TEMPLATE
    template: str | None = None
    intent: str | None = None
    steps: tuple[TurnStep, ...] = ()
    replayed: bool = Field(
        default=False,
        description="The message was handled before (same message key): this is the reply recorded "
        "then, and nothing was run again.",
    )

    @property
    def silent(self) -> bool:
        return not self.text

    def tool_calls(self) -> list[str]:
        return [s.name for s in self.steps if s.kind == "tool"]
