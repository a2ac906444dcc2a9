"""Which conversation a Telegram chat is in, and how far agent messages were delivered to it.

One chat is one conversation session (``tg:<chat id>``) until the customer sends /reset, which
starts a new session for the chat. The table lives in the conversation database, so a restarted
connector (or another worker) continues the same conversations and never delivers an agent
message twice.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from store.failures import translate_storage_errors

METADATA = sa.MetaData()
CHATS = sa.Table(
    "telegram_chats",
    METADATA,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("session_id", sa.String(128), nullable=False, unique=True),
    sa.Column("delivered_seq", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at_us", sa.BigInteger, nullable=False),
)


@dataclass(frozen=True)
class ChatLink:
    chat_id: int
    session_id: str
    delivered_seq: int


def _now_us() -> int:
    return round(time.time() * 1_000_000)


def engine_for(url: str) -> sa.Engine:
    """An engine on the conversation database (SQLite shared between threads, or a server)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    return translate_storage_errors(engine, what="telegram")


class ChatDirectory:
    def __init__(self, engine: sa.Engine, *, owns_engine: bool = False) -> None:
        """``engine``: the conversation store's own engine (shared, not disposed here)."""
        self.engine = engine
        self._owns_engine = owns_engine
        METADATA.create_all(engine, checkfirst=True)

    @classmethod
    def from_url(cls, url: str) -> ChatDirectory:
        return cls(engine_for(url), owns_engine=True)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def link(self, chat_id: int) -> ChatLink | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(CHATS).where(CHATS.c.chat_id == chat_id)).first()
        return ChatLink(row.chat_id, row.session_id, row.delivered_seq) if row is not None else None

    def session_for(self, chat_id: int) -> str:
        """The chat's conversation, created on its first message."""
        found = self.link(chat_id)
        if found is not None:
            return found.session_id
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(CHATS).values(
                        chat_id=chat_id, session_id=f"tg:{chat_id}", delivered_seq=0, updated_at_us=_now_us()
                    )
                )
        except IntegrityError:  # the chat's first two messages arrived at once
            pass
        found = self.link(chat_id)
        if found is None:  # pragma: no cover - inserted or already there
            raise RuntimeError(f"telegram chat {chat_id} has no session")
        return found.session_id

    def reset(self, chat_id: int) -> str:
        """Start a new conversation for the chat (/reset); the old one stays in the store."""
        self.session_for(chat_id)
        session_id = f"tg:{chat_id}:{uuid.uuid4().hex[:12]}"
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(CHATS)
                .where(CHATS.c.chat_id == chat_id)
                .values(session_id=session_id, delivered_seq=0, updated_at_us=_now_us())
            )
        return session_id

    def links_for(self, session_ids: list[str]) -> dict[str, ChatLink]:
        """The chats currently in these sessions (sessions left by /reset are not)."""
        if not session_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(CHATS).where(CHATS.c.session_id.in_(session_ids))).all()
        return {row.session_id: ChatLink(row.chat_id, row.session_id, row.delivered_seq) for row in rows}

    def claim(self, link: ChatLink, seq: int) -> bool:
        """Move the chat's cursor from ``link.delivered_seq`` to ``seq``: True if this caller did
        it (and so delivers those events), False if someone else moved it first."""
        return self._move(link, seq)

    def release(self, claimed: ChatLink, seq: int) -> bool:
        """Put a claimed cursor back to ``seq`` (the events after it were not delivered)."""
        return self._move(claimed, seq)

    def _move(self, link: ChatLink, seq: int) -> bool:
        with self.engine.begin() as conn:
            moved = conn.execute(
                sa.update(CHATS)
                .where(
                    CHATS.c.chat_id == link.chat_id,
                    CHATS.c.session_id == link.session_id,
                    CHATS.c.delivered_seq == link.delivered_seq,
                )
                .values(delivered_seq=seq, updated_at_us=_now_us())
            )
        return moved.rowcount == 1
