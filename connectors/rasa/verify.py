"""``action_verify_customer``: who the Rasa conversation's customer is, at the shop's ``auth.level``.

- ``knowledge``: two independent facts from the tracker (an email with a zip code or the last 4
  digits of a card on file; a full name with both), checked together by the ``verify_customer``
  tool. Every miss gets the same reply, and failures count per claimed customer and per sender in
  the store's :class:`~identity.lockout.FailureGuard`, shared with our own chat.
- ``shop_token``: the shop's signed customer token, from the user message's metadata
  (``{"shop_token": "<JWT>"}``, what a website channel passes along), checked like our web chat's.

On success the customer is bound to the sender id server-side (:mod:`connectors.rasa.identity`)
and mirrored into the ``verified_customer`` slot; the facts' slots (zip code, card digits) are
cleared. Other levels (``otp``, ``email_or_name_zip``) are not offered to Rasa: the action
server refuses to start with them rather than verify more weakly than the shop asked.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from connectors.rasa import slots as S
from connectors.rasa.identity import SenderIdentities
from connectors.rasa.messages import ActionReply, Event, Message, Messages
from core.config import AuthLevel
from core.errors import ConfigError, InvalidArgumentsError, NotFoundError, ShopassistError
from identity.lockout import FailureGuard
from identity.shop_token import InvalidShopTokenError, ShopTokens
from tools.base import ToolContext
from tools.customer import FindCustomerByEmail, VerifyCustomer, two_facts
from tools.policy import ToolExecutor

log = logging.getLogger(__name__)

LEVELS: tuple[AuthLevel, ...] = ("knowledge", "shop_token")
FACTS = ("email", "first_name", "last_name", "zip", "card_last4")
SECRET_FACTS = ("zip", "card_last4")


class Verifier:
    def __init__(
        self,
        executor: ToolExecutor,
        identities: SenderIdentities,
        messages: Messages,
        *,
        level: AuthLevel,
        guard: FailureGuard | None,
        shop_tokens: ShopTokens | None = None,
    ) -> None:
        if level not in LEVELS:
            raise ConfigError(
                f"The Rasa action server verifies customers with auth.level {' or '.join(LEVELS)}, "
                f"not {level!r}",
                key="auth.level",
            )
        if level == "shop_token" and shop_tokens is None:
            raise ConfigError("auth.level shop_token needs auth.shop_token configured", key="auth.shop_token")
        self.executor = executor
        self.identities = identities
        self.messages = messages
        self.level = level
        self.guard = guard
        self.shop_tokens = shop_tokens

    def ask_text(self) -> str:
        return self.messages.text("ask_shop_sign_in" if self.level == "shop_token" else "ask_identity")

    def _reply(self, text: str, events: list[Event]) -> ActionReply:
        return ActionReply([Message(text)], events)

    def verify(self, tracker: Tracker) -> ActionReply:
        if self.level == "shop_token":
            return self._by_token(tracker)
        return self._by_facts(tracker)

    # shop_token -------------------------------------------------------------------------------
    def _by_token(self, tracker: Tracker) -> ActionReply:
        metadata = tracker.latest_message.get("metadata") or {}
        token = metadata.get("shop_token") if isinstance(metadata, dict) else None
        if not isinstance(token, str) or self.shop_tokens is None:
            return self._reply(
                self.ask_text(), [SlotSet(S.VERIFIED, None), SlotSet(S.ERROR, "authentication_required")]
            )
        try:
            customer_id = self.shop_tokens.customer_of(token)
        except InvalidShopTokenError as exc:
            log.info("refused a shop token from Rasa", extra={"reason": exc.context.get("reason")})
            return self._reply(self.ask_text(), [SlotSet(S.VERIFIED, None), SlotSet(S.ERROR, exc.code)])
        return self._verified(tracker, customer_id, first_name=None)

    # knowledge --------------------------------------------------------------------------------
    def _facts(self, tracker: Tracker) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in FACTS:
            values = list(tracker.get_latest_entity_values(name))
            value = values[-1] if values else tracker.get_slot(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                found[name] = str(value).strip()
        return found

    def _claim_keys(self, facts: dict[str, str], ctx: ToolContext) -> list[str]:
        """The counters of whom the facts claim: the account an email belongs to, else the
        claim itself (an unknown email, a full name), as our own chat counts them."""
        if self.guard is None:
            return []
        keys = []
        if "email" in facts:
            try:
                owner = self.executor.run(FindCustomerByEmail, {"email": facts["email"]}, ctx=ctx)
                keys.append(self.guard.key("customer", owner.result.customer_id))
            except ShopassistError:
                keys.append(self.guard.key("claim", facts["email"].casefold()))
        if "last_name" in facts:
            full = f"{facts.get('first_name', '')} {facts['last_name']}".casefold()
            keys.append(self.guard.key("claim", full))
        return keys

    def _locked(self, keys: list[str]) -> ActionReply | None:
        until = self.guard.locked_until(keys) if self.guard is not None and keys else None
        return None if until is None else self._locked_reply(until)

    def _locked_reply(self, until: datetime) -> ActionReply:
        minutes = max(1, round((until - datetime.now(UTC)).total_seconds() / 60))
        return self._reply(
            self.messages.text("locked", minutes=minutes),
            [SlotSet(S.VERIFIED, None), SlotSet(S.ERROR, "locked")],
        )

    def _by_facts(self, tracker: Tracker) -> ActionReply:
        facts = self._facts(tracker)
        enough = two_facts(
            email="email" in facts,
            named="first_name" in facts and "last_name" in facts,
            zip_code="zip" in facts,
            card_digits="card_last4" in facts,
        )
        if not enough:
            wanted = ["zip", "card_last4"] if "email" in facts else ["email", "zip"]
            return self._reply(
                self.ask_text(),
                [SlotSet(S.MISSING, wanted), SlotSet(S.ERROR, "authentication_required")],
            )
        client = (
            [self.guard.key("client", self.identities.sender_key(tracker.sender_id))]
            if self.guard is not None
            else []
        )
        locked = self._locked(client)
        if locked is not None:
            return locked
        ctx = ToolContext(session_id=self.identities.session_id(tracker.sender_id), channel="rasa")
        keys = self._claim_keys(facts, ctx)
        locked = self._locked(keys)
        if locked is not None:
            return locked
        try:
            outcome = self.executor.run(VerifyCustomer, facts, ctx=ctx)
        except (NotFoundError, InvalidArgumentsError):
            until = self.guard.record_failure([*keys, *client]) if self.guard is not None else None
            if until is not None:
                return self._locked_reply(until)
            cleared = [SlotSet(name, None) for name in SECRET_FACTS]
            return self._reply(
                self.messages.text("not_verified"),
                [*cleared, SlotSet(S.VERIFIED, None), SlotSet(S.ERROR, "not_verified")],
            )
        if self.guard is not None and keys:
            self.guard.record_success(keys)
        return self._verified(tracker, outcome.result.customer_id, first_name=outcome.result.first_name)

    def _verified(self, tracker: Tracker, customer_id: str, *, first_name: str | None) -> ActionReply:
        self.identities.bind(tracker.sender_id, customer_id)
        log.info("customer verified for a Rasa conversation", extra={"level": self.level})
        events = [SlotSet(name, None) for name in SECRET_FACTS]
        events += [SlotSet(S.VERIFIED, customer_id), SlotSet(S.ERROR, None), SlotSet(S.MISSING, None)]
        text = (
            self.messages.text("verified", first_name=first_name)
            if first_name
            else self.messages.text("signed_in")
        )
        return self._reply(text, events)
