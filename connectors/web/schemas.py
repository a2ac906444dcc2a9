"""Wire shapes of the web API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from assistant.reply.message import Reply
from assistant.sessions.events import AgentMessage, BotReply, ModeChange, StoredEvent, UserMessage
from assistant.sessions.shown import Citation, ProductCard, QuickReply, ShownProduct
from assistant.sessions.slots import Mode

MESSAGE_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,48}$"
"""A client's id for one message (REST ``message_id``, WebSocket ``message_id``)."""
KEY_PREFIX = "web:"
SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
"""A session id as :func:`assistant.sessions.slots.validate_session_id` accepts it."""

SessionIdPath = Annotated[
    str,
    Path(
        pattern=SESSION_ID_PATTERN,
        max_length=128,
        description="The conversation: 1 to 128 letters, digits and _ . : - starting with a letter or digit.",
    ),
]


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable reason, e.g. invalid_arguments, rate_limited.")
    message: str = Field(description="What went wrong, meant for people (the widget shows it).")
    context: dict[str, Any] = Field(
        default_factory=dict, description="Details: for invalid input, `errors` lists each bad field."
    )


class ErrorBody(BaseModel):
    """Every error response of the API: ``{"error": {"code", "message", "context"}}``."""

    error: ErrorDetail


_ERROR_DESCRIPTIONS = {
    400: "The request cannot be used (e.g. empty or corrupt audio, shop tokens off)",
    401: "Authentication required or refused (agent login, the shop's customer token)",
    403: "Not allowed: another visitor's conversation, or a wrong secret",
    404: "No such conversation, or the connector is off",
    409: "Refused by a business rule or the conversation's state",
    413: "The body (or message, or audio) is over its limit",
    415: "Audio in a format the speech API does not read",
    422: "Invalid input: each bad field is named in context.errors",
    429: "Too many messages from this conversation or address",
    503: "A part the request needs is not loaded, or the store cannot be written",
    507: "The store is full; nothing was written",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route or router: each status with the error body's schema."""
    return {status: {"model": ErrorBody, "description": _ERROR_DESCRIPTIONS[status]} for status in statuses}


def message_key(message_id: str | None) -> str | None:
    """The conversation's key for a web client's message id (None: the message has none)."""
    return None if message_id is None else KEY_PREFIX + message_id


def valid_message_id(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(MESSAGE_ID_PATTERN, value) is not None


def message_id_of(key: str | None) -> str | None:
    """The web client's message id back from a recorded key (None for other channels' keys)."""
    if key is None or not key.startswith(KEY_PREFIX):
        return None
    return key[len(KEY_PREFIX) :]


class Health(BaseModel):
    status: str = Field(description="'ok' while the process serves requests.")
    version: str


class ToolInfo(BaseModel):
    name: str
    description: str
    requires_auth: bool
    side_effect: bool
    parameters: dict[str, object] = Field(description="JSON schema of the tool's arguments.")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(
        default=None, pattern=SESSION_ID_PATTERN, description="Omit to start a conversation."
    )
    message: str = Field(min_length=1, max_length=100_000, description="What the customer wrote.")
    product_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="Set when the message comes from a product card's button: the card's product.",
    )
    message_id: str | None = Field(
        default=None,
        pattern=MESSAGE_ID_PATTERN,
        description="The client's id for this message. Send the same id when retrying after a lost "
        "response: the message is answered once, and the retry gets the same reply (replayed: true).",
    )


class ChatResponse(BaseModel):
    session_id: str
    session_token: str = Field(description="Send it back (cookie, Bearer or X-Session-Token) to continue.")
    reply: str = Field(description="The reply text; empty while a person from support has the conversation.")
    products: list[ProductCard]
    quick_replies: list[QuickReply]
    citations: list[Citation]
    mode: Mode
    replayed: bool = Field(default=False, description="This message_id was answered before; same reply.")

    @classmethod
    def from_reply(cls, reply: Reply, token: str) -> ChatResponse:
        return cls(
            session_id=reply.session_id,
            session_token=token,
            reply=reply.text,
            products=list(reply.products),
            quick_replies=list(reply.quick_replies),
            citations=list(reply.citations),
            mode=reply.mode,
            replayed=reply.replayed,
        )


class TranscriptEntry(BaseModel):
    seq: int
    at: datetime
    role: str = Field(description="customer, bot, agent or system")
    text: str
    products: list[ShownProduct] = Field(default_factory=list)


class Transcript(BaseModel):
    session_id: str
    mode: Mode
    entries: list[TranscriptEntry]


def transcript_entry(stored: StoredEvent) -> TranscriptEntry | None:
    """What a customer may see of one event: messages and mode changes, never tool internals."""
    event = stored.event
    base = {"seq": stored.seq, "at": stored.at}
    if isinstance(event, UserMessage):
        return TranscriptEntry(**base, role="customer", text=event.text)
    if isinstance(event, BotReply):
        return TranscriptEntry(**base, role="bot", text=event.text, products=list(event.products))
    if isinstance(event, AgentMessage):
        return TranscriptEntry(**base, role="agent", text=event.text)
    if isinstance(event, ModeChange):
        return TranscriptEntry(**base, role="system", text=f"mode: {event.mode.value}")
    return None


class SpeechResponse(BaseModel):
    session_id: str
    session_token: str = Field(description="Send it back (Bearer or X-Session-Token) to continue.")
    transcript: str = Field(description="What was heard, normalised (spelled ids and emails written out).")
    reply_text: str = Field(description="The reply as spoken: rewritten for the ear.")
    products: list[ProductCard]
    mode: Mode
    confidence: float = Field(description="Recognition confidence, exp(average token log-probability).")
    awaiting_confirmation: bool = Field(
        description="True when the reply asks 'did you say ...?': the transcript is held until a yes."
    )
    audio_format: str = Field(default="wav", description="Format of ``audio_base64``.")
    audio_base64: str = Field(description="The spoken reply, base64-encoded.")
