"""Verifying who the customer is, at the shop's ``auth.level``, before anything about an account
is shown or changed.

- ``knowledge``: two independent facts, gathered over as many messages as the customer needs
  (an email with a zip code or card digits; a full name with both), checked together by the
  ``verify_customer`` tool. Nothing is looked up before both are there, and every miss gets the
  same reply, so a chat never tells whether an email or a name has an account.
- ``otp``: the customer names their email; a one-time code goes to the email on file (the same
  reply whether or not it has an account) and the code typed back verifies.
- ``shop_token``: the shop's website signs its logged-in customer in (``Assistant.sign_in``);
  the chat asks nothing and sends the customer to sign in there.
- ``email_or_name_zip``: tau-bench's retail policy (an email alone, or a full name plus zip),
  for evaluations against it.

Failed checks are counted per claimed customer and per client address in the store (a
:class:`Guard`), so guessing is bounded across conversations, restarts and workers. A verified
identity lapses after ``auth.idle_expiry_seconds`` without a message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from assistant.decide.context import Context
from assistant.decide.flows.base import lookup_customer
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.sessions.slots import SlotName
from core.config import AuthLevel, Settings
from core.errors import NotFoundError, ShopassistError
from core.words import folded
from dialogue_rules.entities.values import AuthIdentity
from tools.customer import CustomerIdentity, FindCustomerByEmail, VerifyCustomer, two_facts
from tools.policy import ToolOutcome

FACTS = "_identity"  # form slot: identity facts given so far, while more are asked for
CODE_FOR = "_code_for"  # form slot: the first name of the account a one-time code was sent for

KeyKind = Literal["customer", "claim", "client"]

_BARE_CARD_DIGITS = re.compile(r"^\W*(\d{4})\W*$")


class Guard(Protocol):
    """Failed identity checks counted in the store (``identity.lockout.FailureGuard``)."""

    def key(self, kind: KeyKind, value: str) -> str: ...
    def locked_until(self, keys: Sequence[str]) -> datetime | None: ...
    def record_failure(self, keys: Sequence[str]) -> datetime | None: ...
    def record_success(self, keys: Sequence[str]) -> None: ...


class Codes(Protocol):
    """One-time codes mailed to the email on file (``identity.otp.OneTimeCodes``)."""

    def issue(
        self, *, customer_id: str, session_id: str, shop_name: str, email: str | None = None
    ) -> None: ...
    def check(self, *, customer_id: str, session_id: str, code: str) -> bool: ...
    def pending(self, *, session_id: str) -> str | None: ...


@dataclass(frozen=True)
class IdentityChecks:
    """How this shop verifies customers; built once by the services layer from ``auth.*``."""

    level: AuthLevel = "knowledge"
    guard: Guard | None = None
    codes: Codes | None = None
    idle_seconds: int = 1800
    otp_digits: int = 6
    otp_minutes: int = 5


def identity_checks(
    settings: Settings, *, guard: Guard | None = None, codes: Codes | None = None
) -> IdentityChecks:
    """The checks ``auth.*`` describes, with the store-backed parts given."""
    auth = settings.auth
    return IdentityChecks(
        level=auth.level,
        guard=guard,
        codes=codes,
        idle_seconds=auth.idle_expiry_seconds,
        otp_digits=auth.otp_digits,
        otp_minutes=max(1, auth.otp_ttl_seconds // 60),
    )


def _enough(facts: AuthIdentity) -> bool:
    """Two independent facts, by the ``verify_customer`` tool's own rule."""
    return two_facts(
        email=bool(facts.email),
        named=bool(facts.last_name),
        zip_code=bool(facts.zip_code),
        card_digits=bool(facts.card_digits),
    )


_FACT_NAMES = tuple(f.name for f in fields(AuthIdentity))


def _facts_of(value: Any) -> AuthIdentity:
    """The facts kept in the form's slot (JSON) as an :class:`AuthIdentity`."""
    if not isinstance(value, dict):
        return AuthIdentity()
    return AuthIdentity(**{k: value[k] for k in _FACT_NAMES if isinstance(value.get(k), str)})


def _facts_dict(facts: AuthIdentity) -> dict[str, str]:
    return {k: v for k, v in asdict(facts).items() if v}


class Verifier:
    """Runs verification for the form runner; one per assistant (no conversation state)."""

    def __init__(self, ctx: Context, checks: IdentityChecks) -> None:
        self.ctx = ctx
        self.checks = checks

    @property
    def level(self) -> AuthLevel:
        return self.checks.level

    @property
    def bounded(self) -> bool:
        """Failed checks are counted in the store (a lockout bounds the guessing)."""
        return self.checks.guard is not None

    # The identity's lifetime ------------------------------------------------------------------
    def lapse(self, turn: Turn) -> None:
        """Forget a verified identity after the idle time (side effects then need it again)."""
        state = turn.state
        if not state.authenticated or state.updated_at is None:
            return
        if turn.now - state.updated_at < timedelta(seconds=self.checks.idle_seconds):
            return
        turn.set_slot(SlotName.CUSTOMER_ID, None)
        turn.set_slot(SlotName.CUSTOMER_NAME, None)
        turn.step("auth", "lapsed", ok=False)

    # Answers to "who are you?" ----------------------------------------------------------------
    def gives_facts(self, turn: Turn) -> bool:
        """Whether the message answers the identity question at this level."""
        if self.level == "email_or_name_zip":
            return turn.entities.identity is not None
        if self.level == "otp" and self._code(turn) is not None:
            return True
        return not self._facts(turn, {}).empty

    def _facts(self, turn: Turn, slots: dict[str, Any]) -> AuthIdentity:
        """The facts given so far plus this message's (a bare 4-digit answer is card digits)."""
        said = turn.entities.identity_facts
        if said.zip_code and self._zip_of_an_address(turn):
            said = replace(said, zip_code=None)
        if said.card_digits is None and not said.zip_code:
            bare = _BARE_CARD_DIGITS.match(turn.text)
            if bare and slots.get(FACTS) is not None:
                said = AuthIdentity(card_digits=bare.group(1))
        return _facts_of(slots.get(FACTS)).merged(said)

    def _zip_of_an_address(self, turn: Turn) -> bool:
        """The only zip code is part of an address the message gives ("... to 1 Elm St,
        Springfield, IL 62701"), not said as the customer's own ("zip 10001")."""
        zips = turn.entities.of("zip_code")
        return max(e.confidence for e in zips) < 0.9 and self.ctx.forms.address(turn.text) is not None

    def _code(self, turn: Turn) -> str | None:
        digits = self.checks.otp_digits
        found = re.fullmatch(rf"\D*(\d{{{digits}}})\D*", turn.text.strip())
        return found.group(1) if found else None

    def authenticate(
        self, turn: Turn, purpose: str, slots: dict[str, Any]
    ) -> tuple[Draft | None, dict[str, Any]]:
        """(None, slots) once the customer is verified; else the reply to send and the form's
        slots to keep (facts gathered so far)."""
        guard = self.checks.guard
        client = [guard.key("client", turn.client)] if guard is not None and turn.client else []
        locked = self._locked(turn, client)
        if locked is not None:
            return locked, {k: v for k, v in slots.items() if k != FACTS}
        if self.level == "shop_token":
            return self.ctx.draft(
                "auth_sign_in", purpose=purpose, shop=self.ctx.shop.name, failed=True
            ), slots
        if self.level == "otp":
            return self._otp(turn, purpose, slots, client)
        if self.level == "email_or_name_zip":
            return self._email_or_name_zip(turn, purpose, slots, client)
        return self._knowledge(turn, purpose, slots, client)

    def _locked(self, turn: Turn, keys: list[str]) -> Draft | None:
        guard = self.checks.guard
        if guard is None or not keys:
            return None
        until = guard.locked_until(keys)
        return None if until is None else self._locked_draft(turn, until)

    def _locked_draft(self, turn: Turn, until: datetime) -> Draft:
        minutes = max(1, round((until - turn.now).total_seconds() / 60))
        turn.step("auth", "locked", ok=False)
        return self.ctx.draft("auth_locked", minutes=minutes, failed=True)

    def _failed(self, turn: Turn, keys: list[str], draft: Draft) -> Draft:
        guard = self.checks.guard
        until = guard.record_failure(keys) if guard is not None and keys else None
        return draft if until is None else self._locked_draft(turn, until)

    def _claim_keys(
        self,
        turn: Turn,
        facts: AuthIdentity,
        *,
        owner: ToolOutcome[CustomerIdentity] | ToolError | None = None,
    ) -> list[str]:
        """The counters of the customer the facts claim to be: the account an email belongs to
        (so every way of guessing at one account shares its counter, the one-time codes'
        included), else the claim itself (an unknown email, a full name: a name needs a zip
        code and card digits together, far past any guessing budget)."""
        guard = self.checks.guard
        if guard is None:
            return []
        keys = []
        if facts.email:
            if owner is None:
                owner = turn.call(FindCustomerByEmail, {"email": facts.email})
            if isinstance(owner, ToolError):
                keys.append(guard.key("claim", facts.email.casefold()))
            else:
                keys.append(guard.key("customer", owner.result.customer_id))
        if facts.last_name:
            keys.append(guard.key("claim", f"{facts.first_name} {facts.last_name}".casefold()))
        return keys

    def _verified(self, turn: Turn, customer_id: str, first_name: str, keys: list[str]) -> None:
        if self.checks.guard is not None and keys:
            self.checks.guard.record_success(keys)
        turn.set_slot(SlotName.CUSTOMER_ID, customer_id)
        turn.set_slot(SlotName.CUSTOMER_NAME, first_name)
        turn.step("auth", "verified", level=self.level)

    def _knowledge(
        self, turn: Turn, purpose: str, slots: dict[str, Any], client: list[str]
    ) -> tuple[Draft | None, dict[str, Any]]:
        facts = self._facts(turn, slots)
        if facts.empty:
            failed = FACTS in slots
            return self.ctx.draft("auth_ask_knowledge", purpose=purpose, failed=failed), {**slots, FACTS: {}}
        if not _enough(facts):
            # what is still needed: after an email, a second fact; after a name, zip and card
            # digits; after a zip code or card digits alone, the email
            template = (
                "auth_more_after_email"
                if facts.email
                else ("auth_more_after_name" if facts.last_name else "auth_more_after_secret")
            )
            return self.ctx.draft(template), {**slots, FACTS: _facts_dict(facts)}
        keys = self._claim_keys(turn, facts)
        locked = self._locked(turn, keys)
        if locked is not None:
            return locked, {k: v for k, v in slots.items() if k != FACTS}
        args = {
            "email": facts.email,
            "first_name": facts.first_name,
            "last_name": facts.last_name,
            "zip": facts.zip_code,
            "card_last4": facts.card_digits,
        }
        outcome = turn.call(VerifyCustomer, {k: v for k, v in args.items() if v})
        kept = {k: v for k, v in slots.items() if k != FACTS}
        if isinstance(outcome, ToolError):
            if outcome.code in ("not_found", "invalid_arguments"):
                draft = self._failed(
                    turn, [*keys, *client], self.ctx.draft("auth_failed_knowledge", failed=True)
                )
                return draft, {**kept, FACTS: {}}
            return self.ctx.draft("tool_failed", failed=True), kept
        self._verified(turn, outcome.result.customer_id, outcome.result.first_name, keys)
        return None, kept

    def _email_or_name_zip(
        self, turn: Turn, purpose: str, slots: dict[str, Any], client: list[str]
    ) -> tuple[Draft | None, dict[str, Any]]:
        identity = turn.entities.identity
        if identity is None:
            failed = FACTS in slots
            return self.ctx.draft("auth_ask", purpose=purpose, failed=failed), {**slots, FACTS: {}}
        keys = self._claim_keys(turn, identity)
        locked = self._locked(turn, keys)
        if locked is not None:
            return locked, slots
        if identity.email and (identity.zip_code or identity.card_digits):
            # more than the email was said: all of it must be one account's ("I'm Bob Jones, zip
            # 94107, alice@example.com" verifies nobody)
            args = {
                "email": identity.email,
                "first_name": identity.first_name,
                "last_name": identity.last_name,
                "zip": identity.zip_code,
                "card_last4": identity.card_digits,
            }
            outcome = turn.call(VerifyCustomer, {k: v for k, v in args.items() if v})
        else:
            outcome = lookup_customer(turn, identity)
        named = identity.first_name if identity.email else None  # a name said with the email
        if (
            not isinstance(outcome, ToolError)
            and named
            and folded(outcome.result.first_name) != folded(named)
        ):
            outcome = ToolError(tool=VerifyCustomer.name, error=NotFoundError("Those details do not match"))
        if isinstance(outcome, ToolError):
            if outcome.code in ("not_found", "invalid_arguments", "action_refused"):
                return self._failed(turn, [*keys, *client], self.ctx.draft("auth_failed", failed=True)), slots
            return self.ctx.draft("tool_failed", failed=True), slots
        self._verified(turn, outcome.result.customer_id, outcome.result.first_name, keys)
        return None, {k: v for k, v in slots.items() if k != FACTS}

    def _otp(
        self, turn: Turn, purpose: str, slots: dict[str, Any], client: list[str]
    ) -> tuple[Draft | None, dict[str, Any]]:
        codes = self.checks.codes
        if codes is None:  # pragma: no cover - settings refuse the otp level without SMTP
            return self.ctx.draft("tool_failed", failed=True), slots
        code = self._code(turn)
        customer = codes.pending(session_id=turn.session_id) if code is not None else None
        if code is not None and customer is None:
            # No live code here (none sent: the email has no account; or it ran out): the same
            # reply as a wrong code.
            return self._failed(turn, client, self.ctx.draft("otp_wrong", failed=True)), slots
        if code is not None and customer is not None:
            keys = [self.checks.guard.key("customer", customer)] if self.checks.guard is not None else []
            locked = self._locked(turn, keys)
            if locked is not None:
                return locked, slots
            if codes.check(customer_id=customer, session_id=turn.session_id, code=code):
                first = slots.get(CODE_FOR)
                self._verified(turn, customer, first if isinstance(first, str) else "there", keys)
                return None, {k: v for k, v in slots.items() if k not in (FACTS, CODE_FOR)}
            return self._failed(turn, [*keys, *client], self.ctx.draft("otp_wrong", failed=True)), slots
        claim = turn.entities.identity  # an email, or a full name with a zip code
        if claim is None:
            failed = FACTS in slots
            return self.ctx.draft("auth_ask_otp", purpose=purpose, failed=failed), {**slots, FACTS: {}}
        kept = {k: v for k, v in slots.items() if k != CODE_FOR}
        # Every code sent counts against the account (and the client), so nobody can flood an
        # inbox: after auth.max_failures codes in the window, no more go out for a while.
        outcome = lookup_customer(turn, claim)
        owner = outcome if claim.email else None
        keys = [*self._claim_keys(turn, claim, owner=owner), *client]
        if not isinstance(outcome, ToolError) and self.checks.guard is not None:
            keys.append(self.checks.guard.key("customer", outcome.result.customer_id))
        keys = list(dict.fromkeys(keys))
        locked = self._locked(turn, keys)
        if locked is not None:
            return locked, slots
        if not isinstance(outcome, ToolError):
            try:  # to the email on file, never to one typed here
                codes.issue(
                    customer_id=outcome.result.customer_id,
                    session_id=turn.session_id,
                    shop_name=self.ctx.shop.name,
                )
            except ShopassistError as exc:  # the mail server is down: say so, count nothing
                turn.step("auth", "code_not_sent", ok=False, code=exc.code)
                return self.ctx.draft("tool_failed", failed=True), slots
            kept[CODE_FOR] = outcome.result.first_name
        elif outcome.code not in ("not_found", "invalid_arguments", "action_refused"):
            return self.ctx.draft("tool_failed", failed=True), slots
        # The same reply (and the same count) whether or not the email has an account.
        sent = self.ctx.draft("otp_sent", digits=self.checks.otp_digits, minutes=self.checks.otp_minutes)
        if self.checks.guard is not None and keys:
            self.checks.guard.record_failure(keys)  # counts this code; the next one may be refused
        return sent, {**kept, FACTS: {}}
