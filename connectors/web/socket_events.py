"""The events clients send on the WebSockets, as strict pydantic models.

Every field is typed and bounded before any of it reaches the store: a ``last_seq`` of 2**70
once made the chat socket's poll raise ``OverflowError`` every second (SQLite integers are 64-bit),
and a ``True`` or ``"5"`` where a number belongs is a client bug worth an answer, not a guess.
Unknown extra fields are ignored, so an older server still understands a newer client.
:func:`read_event` turns a text frame into an event or a :class:`Refusal` (the ``error`` event
to answer with, naming the field); the connection stays open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.web.schemas import MESSAGE_ID_PATTERN, valid_message_id

MAX_SEQ = 2**63 - 1
"""The largest event-log position (a signed 64-bit integer, as SQLite and PostgreSQL store it)."""
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]
Token = Annotated[str, Field(max_length=4096)]


class ClientEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    type: str

    invalid_code: ClassVar[str] = "invalid_event"
    """The ``error`` code an event of this kind that does not validate gets."""


class Ping(ClientEvent):
    type: Literal["ping"] = "ping"


# The chat socket ----------------------------------------------------------------------------------
class ChatHello(ClientEvent):
    type: Literal["hello"] = "hello"
    session_token: Token | None = None
    last_seq: Seq = 0


class CardAction(BaseModel):
    """What a product card's button sent with the message."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    kind: Annotated[str, Field(max_length=40)] | None = None
    product_id: Annotated[str, Field(min_length=1, max_length=120)] | None = None


class ChatMessage(ClientEvent):
    invalid_code = "invalid_message"

    type: Literal["message"] = "message"
    text: Annotated[str, Field(max_length=100_000)]
    message_id: Annotated[str, Field(pattern=MESSAGE_ID_PATTERN)] | None = None
    action: CardAction | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a message needs some text")
        return value


class Typing(ClientEvent):
    type: Literal["typing"] = "typing"


class Ack(ClientEvent):
    type: Literal["ack"] = "ack"
    seq: Seq = 0


CHAT_EVENTS: dict[str, type[ClientEvent]] = {
    "hello": ChatHello,
    "message": ChatMessage,
    "typing": Typing,
    "ack": Ack,
    "ping": Ping,
}


# The speech socket --------------------------------------------------------------------------------
class SpeechStart(ClientEvent):
    type: Literal["start"] = "start"
    format: Annotated[str, Field(max_length=32)] = "wav"
    sample_rate: int | None = None
    session_token: Token | None = None


class SpeechEnd(ClientEvent):
    type: Literal["end"] = "end"


class SpeechCancel(ClientEvent):
    type: Literal["cancel"] = "cancel"


SPEECH_EVENTS: dict[str, type[ClientEvent]] = {
    "start": SpeechStart,
    "end": SpeechEnd,
    "cancel": SpeechCancel,
    "ping": Ping,
}


# The agent console's socket -------------------------------------------------------------------
class AgentHello(ClientEvent):
    type: Literal["hello"] = "hello"
    token: Token | None = None


class AgentOpen(ClientEvent):
    type: Literal["open"] = "open"
    session_id: Annotated[str, Field(min_length=1, max_length=128)]
    after_seq: Seq = 0


AGENT_EVENTS: dict[str, type[ClientEvent]] = {"hello": AgentHello, "open": AgentOpen, "ping": Ping}


@dataclass(frozen=True)
class Refusal:
    """Why a frame is not an event: the ``error`` event's code, message and context."""

    code: str
    message: str
    context: dict[str, str] = field(default_factory=dict)


def read_event(raw: str, events: Mapping[str, type[ClientEvent]], *, max_chars: int) -> ClientEvent | Refusal:
    """The event a text frame holds, validated against its type's model in ``events``.

    A refused ``message`` still names the message it answers (``in_reply_to``, when its
    ``message_id`` is readable), so a client holding it as pending can let it go.
    """
    if len(raw) > max_chars:
        return Refusal("message_too_long", f"Events are limited to about {max_chars} characters")
    try:
        data: Any = json.loads(raw)
    except ValueError:  # (an integer of thousands of digits too)
        return Refusal("malformed_json", "Events must be JSON objects")
    kind = data.get("type") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in events:
        return Refusal("unknown_event", f"Unknown event type {kind!r:.40}; use one of {', '.join(events)}")
    model = events[kind]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message_id = data.get("message_id")
        about = {"in_reply_to": message_id} if valid_message_id(message_id) else {}
        return Refusal(model.invalid_code, _problems(kind, exc), about)


def _problems(kind: str, exc: ValidationError) -> str:
    """One line naming each bad field, for the client (the input itself is not echoed)."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or kind}: {err['msg']}" for err in exc.errors()
    )
    return f"Invalid {kind!r} event: {problems}"


def frame_text(message: Mapping[str, Any]) -> str | None:
    """The text of a received WebSocket frame; None for a binary one."""
    text = message.get("text")
    return text if isinstance(text, str) else None
