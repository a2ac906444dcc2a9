"""Who a Rasa conversation's customer is, held server-side and bound to its sender id.

Rasa's slots travel with every webhook call and a client of the Rasa server can set them
(``/conversations/<id>/tracker/events``), so a slot can never prove who the customer is. Here the
customer verified by ``action_verify_customer`` is stored in the shop's store under a keyed hash
of the sender id (table ``verified_senders``), and every action reads it from there. The binding
lapses after ``auth.idle_expiry_seconds`` without an action, like a verified identity in our own
chat. Failed checks count against the claimed customer and the sender in the same
:class:`~identity.lockout.FailureGuard` our own chat uses, so guessing stays bounded across
channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from identity.hashing import derive_key, keyed_hash
from store.db import Database
from store.models import VerifiedSender, as_utc

CHANNEL = "rasa"


@dataclass(frozen=True)
class Binding:
    customer_id: str
    verified_at: datetime


class SenderIdentities:
    """The verified customer of each sender id, in the store; lapses after ``idle_seconds``."""

    def __init__(
        self,
        database: Database,
        *,
        secret: bytes,
        idle_seconds: int,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = database
        self._key = derive_key(secret, "rasa-senders")
        self._idle = timedelta(seconds=idle_seconds)
        self._clock = clock or (lambda: datetime.now(UTC))

    def sender_key(self, sender_id: str) -> str:
        return f"{CHANNEL}:{keyed_hash(self._key, CHANNEL, sender_id)[:64]}"

    def session_id(self, sender_id: str) -> str:
        """The conversation id our tools see (carts and confirmations belong to it): derived
        from the sender id, which may be a phone number, without showing it."""
        return f"{CHANNEL}-{keyed_hash(self._key, 'session', sender_id)[:40]}"

    def customer_of(self, sender_id: str) -> Binding | None:
        """The sender's verified customer, or None (never verified, lapsed, or forgotten).
        Reading it counts as activity: the idle time starts again."""
        now = self._clock()
        key = self.sender_key(sender_id)
        with self._db.transaction() as session:
            row = session.get(VerifiedSender, key)
            if row is None:
                return None
            if as_utc(row.last_seen_at) + self._idle <= now:
                session.delete(row)
                return None
            row.last_seen_at = now
            return Binding(row.customer_id, as_utc(row.verified_at))

    def bind(self, sender_id: str, customer_id: str) -> None:
        now = self._clock()
        key = self.sender_key(sender_id)
        with self._db.transaction() as session:
            row = session.get(VerifiedSender, key)
            if row is None:
                session.add(
                    VerifiedSender(sender_key=key, customer_id=customer_id, verified_at=now, last_seen_at=now)
                )
            else:
                row.customer_id, row.verified_at, row.last_seen_at = customer_id, now, now

    def unbind(self, sender_id: str) -> None:
        with self._db.transaction() as session:
            session.execute(
                delete(VerifiedSender).where(VerifiedSender.sender_key == self.sender_key(sender_id))
            )

    def prune(self) -> int:
        """Delete lapsed bindings; returns how many (for the periodic sweep)."""
        oldest = self._clock() - self._idle
        with self._db.transaction() as session:
            result = session.execute(delete(VerifiedSender).where(VerifiedSender.last_seen_at <= oldest))
        return int(getattr(result, "rowcount", 0) or 0)
