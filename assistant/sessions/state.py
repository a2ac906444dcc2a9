"""Session state, folded from the event log.

State is never stored on its own: :func:`fold` derives it from the events, so the log stays
the single truth and a restart recovers exactly the state before it. Each event type changes
the state in one way (see :func:`apply`); rules about what may happen (may a closed session
reopen? when does a form end?) belong to the turn pipeline, which records its decisions as
events.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.sessions.events import (
    AgentMessage,
    BotReply,
    ConfirmationRequested,
    ConfirmationResolved,
    Event,
    ModeChange,
    SlotSet,
    StoredEvent,
    ToolCall,
    ToolResult,
    UserMessage,
)
from assistant.sessions.shown import ShownProduct
from assistant.sessions.slots import ActiveForm, Mode, PendingConfirmation, SlotName, Slots
from core.errors import InvalidArgumentsError

KEPT_KEYS = 32
"""How many keyed customer messages a conversation remembers for replays (see ``keyed``)."""
KEPT_PRODUCTS = 20
"""How many products shown and viewed a conversation remembers for recommendations."""


class KeyedTurn(BaseModel):
    """A customer message that came with a channel key, and the bot's reply to it (if any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    reply: BotReply | None = None


class SessionState(BaseModel):
    """What a conversation knows now. Build it with :func:`fold`; it is immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: str | None = None
    mode: Mode = Mode.BOT
    mode_reason: str | None = None
    mode_by: str | None = None
    mode_since: datetime | None = Field(default=None, description="Time of the last mode change.")
    slots: Slots = Field(default_factory=Slots)
    turns: int = Field(default=0, description="Customer messages so far.")
    last_seq: int = Field(default=0, description="Sequence number of the last folded event (0: none).")
    updated_at: datetime | None = Field(default=None, description="Time of the last folded event.")
    channel: str | None = Field(default=None, description="Channel of the last customer message.")
    last_user_message: UserMessage | None = None
    last_bot_reply: BotReply | None = None
    last_agent_message: AgentMessage | None = None
    last_tool_call: ToolCall | None = None
    last_tool_result: ToolResult | None = None
    shown_products: tuple[str, ...] = Field(
        default=(),
        description=f"Products listed to the customer in this conversation (what their searches "
        f"found), most recent first, at most {KEPT_PRODUCTS}; recommendations read it.",
    )
    viewed_products: tuple[str, ...] = Field(
        default=(),
        description="Products a tool looked at for the customer (details, stock, a quote), most "
        f"recent first, at most {KEPT_PRODUCTS}; recommendations read it.",
    )
    keyed: tuple[KeyedTurn, ...] = Field(
        default=(),
        description=f"The last {KEPT_KEYS} customer messages that carried a key, with their replies: "
        "a message sent again with the same key is answered from here instead of run twice.",
    )

    def answered(self, key: str) -> KeyedTurn | None:
        """The latest message recorded with ``key`` (None: that message is new)."""
        return next((turn for turn in reversed(self.keyed) if turn.key == key), None)

    # Shortcuts to the slots the pipeline reads most.
    @property
    def customer_id(self) -> str | None:
        return self.slots.customer_id

    @property
    def authenticated(self) -> bool:
        return self.slots.customer_id is not None

    @property
    def last_products(self) -> tuple[ShownProduct, ...]:
        return self.slots.last_products

    @property
    def active_form(self) -> ActiveForm | None:
        return self.slots.active_form

    @property
    def pending_confirmation(self) -> PendingConfirmation | None:
        return self.slots.pending_confirmation

    @property
    def failed_turns(self) -> int:
        return self.slots.failed_turns

    @property
    def bot_active(self) -> bool:
        """The bot answers only in ``bot`` mode (an agent has the conversation, or it is closed)."""
        return self.mode is Mode.BOT

    def live_confirmation(self, now: datetime) -> PendingConfirmation | None:
        """The pending confirmation unless it has expired at ``now`` (fold itself reads no clock)."""
        pending = self.slots.pending_confirmation
        if pending is None or pending.is_expired(now):
            return None
        return pending


def _slot(state: SessionState, name: SlotName, value: object) -> dict[str, Any]:
    return {"slots": state.slots.model_copy(update={name.value: value})}


def _recent(new: Iterable[str], kept: tuple[str, ...]) -> tuple[str, ...]:
    """``new`` ids before the ``kept`` ones, each once, at most :data:`KEPT_PRODUCTS`."""
    return tuple(dict.fromkeys([*new, *kept]))[:KEPT_PRODUCTS]


def _shown(state: SessionState, products: tuple[ShownProduct, ...] | None) -> dict[str, Any]:
    changes = _slot(state, SlotName.LAST_PRODUCTS, products)
    if products:
        changes["shown_products"] = _recent((p.product_id for p in products), state.shown_products)
    return changes


def _answer(keyed: tuple[KeyedTurn, ...], reply: BotReply) -> tuple[KeyedTurn, ...]:
    """``keyed`` with ``reply`` attached to the latest unanswered message it answers."""
    for i in range(len(keyed) - 1, -1, -1):
        if keyed[i].key == reply.in_reply_to and keyed[i].reply is None:
            return (*keyed[:i], keyed[i].model_copy(update={"reply": reply}), *keyed[i + 1 :])
    return keyed


def _changes(state: SessionState, event: Event) -> dict[str, Any]:
    """The fields ``event`` changes (one rule per event type)."""
    match event:
        case UserMessage():
            changes: dict[str, Any] = {
                "turns": state.turns + 1,
                "channel": event.channel,
                "last_user_message": event,
            }
            if event.key is not None:
                changes["keyed"] = (*state.keyed, KeyedTurn(key=event.key))[-KEPT_KEYS:]
            return changes
        case BotReply():
            if event.in_reply_to is None:
                return {"last_bot_reply": event}
            return {"last_bot_reply": event, "keyed": _answer(state.keyed, event)}
        case AgentMessage():
            return {"last_agent_message": event}
        case ToolCall():
            product = event.args.get("product_id")
            if isinstance(product, str) and product:
                return {"last_tool_call": event, "viewed_products": _recent([product], state.viewed_products)}
            return {"last_tool_call": event}
        case ToolResult():
            return {"last_tool_result": event}
        case SlotSet() if event.name is SlotName.LAST_PRODUCTS:
            return _shown(state, event.value)
        case SlotSet():
            return _slot(state, event.name, event.value)
        case ModeChange():
            return {"mode": event.mode, "mode_reason": event.reason, "mode_by": event.by}
        case ConfirmationRequested():
            return _slot(state, SlotName.PENDING_CONFIRMATION, event.pending())
        case ConfirmationResolved():
            pending = state.slots.pending_confirmation
            if pending is None or (event.token is not None and event.token != pending.token):
                return {}  # resolves a confirmation that is no longer the pending one
            return _slot(state, SlotName.PENDING_CONFIRMATION, None)
    raise TypeError(f"not an event: {type(event).__name__}")  # pragma: no cover - exhaustive match


def apply(state: SessionState, event: Event) -> SessionState:
    """The state after ``event`` (without the stored metadata; see :func:`fold`)."""
    return state.model_copy(update=_changes(state, event))


def fold(events: Iterable[StoredEvent], initial: SessionState | None = None) -> SessionState:
    """Fold stored events (in ``seq`` order) into the session state; a pure function.

    ``initial`` continues from an earlier fold (a snapshot), whose ``last_seq`` must precede
    the first event.
    """
    state = initial or SessionState()
    for stored in events:
        if stored.seq <= state.last_seq or state.session_id not in (None, stored.session_id):
            raise InvalidArgumentsError(
                f"event {stored.session_id}#{stored.seq} does not follow {state.session_id}#{state.last_seq}"
            )
        changes = _changes(state, stored.event)
        changes.update(session_id=stored.session_id, last_seq=stored.seq, updated_at=stored.at)
        if isinstance(stored.event, ModeChange):
            changes["mode_since"] = stored.at
        state = state.model_copy(update=changes)
    return state


class SnapshotCache:
    """The last folded state of recently used sessions, in memory, bounded (LRU).

    Measured on the 2-core dev machine: reading and folding a 50-event session takes about
    2.5 ms, a 1,000-event one (200 turns) about 60 ms, and that was paid on every turn. With a
    snapshot the store folds only the events appended since ``last_seq`` (under 1 ms). This is
    exact even while other processes append, because events are immutable and ``seq`` is
    gapless; snapshots are never persisted, so the event log stays the only truth.
    """

    def __init__(self, size: int) -> None:
        self._size = max(0, size)
        self._states: OrderedDict[str, SessionState] = OrderedDict()
        self._mutex = threading.Lock()

    def get(self, session_id: str) -> SessionState | None:
        with self._mutex:
            return self._states.get(session_id)

    def put(self, state: SessionState) -> None:
        """Keep ``state`` unless a later fold of its session is already kept."""
        if not self._size or state.session_id is None:
            return
        with self._mutex:
            known = self._states.get(state.session_id)
            if known is None or known.last_seq <= state.last_seq:
                self._states[state.session_id] = state
            self._states.move_to_end(state.session_id)
            while len(self._states) > self._size:
                self._states.popitem(last=False)

    def drop(self, session_id: str) -> None:
        """Forget the session's snapshot (its events were erased or rewritten)."""
        with self._mutex:
            self._states.pop(session_id, None)
