"""Signing a conversation in with the shop's own token (``Assistant.sign_in``).

A shop whose visitor is logged in on its website signs a JWT for that customer
(:mod:`identity.shop_token`); the conversation then knows who the customer is without asking.
Kept apart from the turn pipeline: it runs before a message (or with none), takes the
conversation's lock like a turn, and records only the identity slots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from assistant.sessions.events import SlotSet
from assistant.sessions.slots import SlotName
from assistant.sessions.store import SessionBusyError, SessionStore
from core.config import Settings
from core.errors import NotFoundError, PermissionDeniedError
from identity.shop_token import InvalidShopTokenError, ShopTokens, ShopTokensOffError
from tools.base import ToolContext
from tools.customer import CustomerProfile, GetCustomerProfile
from tools.policy import ToolExecutor

log = logging.getLogger(__name__)


class ShopSignIn:
    """The shop-token sign-in of one assistant; ``tokens`` is None without ``auth.shop_token``."""

    def __init__(
        self, settings: Settings, store: SessionStore, executor: ToolExecutor, clock: Callable[[], datetime]
    ) -> None:
        configured = settings.auth.shop_token
        self.tokens = ShopTokens(configured) if configured.enabled else None
        self.store = store
        self.executor = executor
        self.clock = clock
        self.idle_seconds = settings.auth.idle_expiry_seconds
        self.lock_timeout = settings.sessions.lock_timeout_seconds

    def customer_of(self, shop_token: str) -> str:
        """The customer id the token names (checked before any session is created)."""
        if self.tokens is None:
            raise ShopTokensOffError(
                "This server does not accept shop sign-in tokens: configure auth.shop_token "
                "(secret for HS256, or public_key_path for RS256)",
                key="auth.shop_token",
            )
        customer_id = self.tokens.customer_of(shop_token)
        self._profile(customer_id, session_id=None, channel="api")  # a customer the shop has
        return customer_id

    def _profile(self, customer_id: str, *, session_id: str | None, channel: str) -> CustomerProfile:
        ctx = ToolContext(session_id=session_id, customer_id=customer_id, channel=channel)
        try:
            return self.executor.run(GetCustomerProfile, {}, ctx=ctx).result
        except NotFoundError:
            raise InvalidShopTokenError(
                "The shop token names a customer this shop does not have", reason="unknown_customer"
            ) from None

    def record(self, sid: str, customer_id: str, channel: str) -> None:
        """Record ``customer_id`` (and first name) as the conversation's customer, under its lock.

        Nothing is recorded when the same customer is signed in and not idle; an identity idle for
        ``auth.idle_expiry_seconds`` (the dialogue lets it lapse) is recorded afresh.
        """
        with self.store.lock(session_id=sid, timeout=self.lock_timeout) as lease:
            state = self.store.state(session_id=sid)
            if state.customer_id is not None and state.customer_id != customer_id:
                log.warning("shop sign-in refused: another customer", extra={"session_id": sid})
                raise PermissionDeniedError(
                    "This conversation is already signed in as another customer; start a new one",
                    resource="session",
                )
            idle = state.updated_at is None or (
                (self.clock() - state.updated_at).total_seconds() >= self.idle_seconds
            )
            if state.customer_id == customer_id and not idle:
                return
            profile = self._profile(customer_id, session_id=sid, channel=channel)
            events = [
                SlotSet(name=SlotName.CUSTOMER_ID, value=profile.customer_id),
                SlotSet(name=SlotName.CUSTOMER_NAME, value=profile.first_name),
            ]
            if lease.lost or not lease.renew():
                raise SessionBusyError(f"Conversation {sid!r}: sign-in lost the lock", session_id=sid)
            self.store.append(session_id=sid, events=events)
        log.info("signed in with a shop token", extra={"session_id": sid, "channel": channel})
