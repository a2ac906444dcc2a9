"""What one customer turn sends back: the :class:`Reply`, the steps the engine took, and the
text streamed before it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from assistant.sessions.shown import Citation, ProductCard, QuickReply, ReplySource
from assistant.sessions.slots import Mode
from assistant.sessions.state import SessionState


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


@dataclass(frozen=True)
class StreamText:
    """Reply text streamed before the final :class:`Reply`; ``reset``: drop what came before."""

    text: str
    reset: bool = False


def recorded_reply(sid: str, state: SessionState, key: str) -> Reply | None:
    """The reply already recorded for the message ``key`` (empty when the bot stayed silent,
    e.g. an agent had the conversation); None when that message is new. The conversation
    remembers its last :data:`~assistant.sessions.state.KEPT_KEYS` keyed messages, so a client
    that sends several messages again after a lost connection gets each answer once."""
    turn = state.answered(key)
    if turn is None:
        return None
    answer = turn.reply
    if answer is None:
        return Reply(session_id=sid, text="", mode=state.mode, replayed=True)
    cards = tuple(card for card in (shown.card() for shown in answer.products) if card is not None)
    return Reply(
        session_id=sid,
        text=answer.text,
        products=cards,
        quick_replies=answer.quick_replies,
        citations=answer.citations,
        mode=state.mode,
        source=answer.source,
        template=answer.template,
        replayed=True,
    )
