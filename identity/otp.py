"""One-time codes mailed to the email on file (``auth.level: otp``).

An email address is not a secret, but the mailbox behind it is: a customer who can read a code
sent to the address on file has shown they own it. A code is therefore

* random (``secrets``), ``auth.otp_digits`` digits;
* stored only as a keyed hash bound to its row, session and customer, so the table does not
  reveal it and a hash cannot be replayed against another row;
* short-lived (``auth.otp_ttl_seconds``), single-use, and void after ``auth.otp_max_attempts``
  tries (each try counts; a right one within the limit succeeds);
* tied to the conversation that asked for it: a code mailed for one session does not verify
  another.

Issuing a code voids the session's earlier unused codes (of any customer), so at most one is
live per session and :meth:`OneTimeCodes.pending` is unambiguous. How often codes may be
requested (mail flooding) and how many wrong codes a client may enter across sessions is the
caller's to bound, with :class:`identity.lockout.FailureGuard`.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import delete, select, update

from core.config.identity import AuthSettings
from core.errors import NotFoundError
from identity.hashing import derive_key, keyed_hash
from identity.mail import Mailer, mask_email
from store.db import Database
from store.models import Customer, OneTimeCode, as_utc

log = logging.getLogger(__name__)

MAIL_FILE = "otp_mail.yaml"


@cache
def mail_template() -> dict[str, str]:
    """Subject and body of the code mail (``identity/otp_mail.yaml``)."""
    text = resources.files("identity").joinpath(MAIL_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("subject", "body")):
        raise ValueError(f"identity/{MAIL_FILE} needs a 'subject' and a 'body' string")
    return {"subject": data["subject"], "body": data["body"]}


def _duration(seconds: int) -> str:
    """``300`` -> "5 minutes", ``60`` -> "1 minute", ``90`` -> "90 seconds"."""
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class OneTimeCodes:
    """Issues codes by mail and checks them. Thread- and worker-safe: every check is one
    transaction that starts with a conditional write, so two tries of the same code cannot both
    succeed (PostgreSQL re-checks the row after the first commits; SQLite serialises writers)."""

    def __init__(
        self,
        db: Database,
        settings: AuthSettings,
        mailer: Mailer,
        *,
        secret: bytes,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._mailer = mailer
        self._key = derive_key(secret, "one-time-codes")
        self._clock = clock or (lambda: datetime.now(UTC))
        digits = settings.otp_digits
        self._code_pattern = re.compile(rf"(?<!\d)((?:\d[ -]?){{{digits - 1}}}\d)(?![ -]?\d)")

    def _now(self) -> datetime:
        return as_utc(self._clock()).astimezone(UTC)

    def _hash(self, code_id: str, customer_id: str, session_id: str, code: str) -> str:
        return keyed_hash(self._key, code_id, customer_id, session_id, code)

    def _live(self, now: datetime) -> list[Any]:
        """Conditions of a code that can still be used."""
        return [
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
            OneTimeCode.attempts < self._settings.otp_max_attempts,
        ]

    def issue(self, *, customer_id: str, session_id: str, shop_name: str, email: str | None = None) -> None:
        """Make a code for ``customer_id`` in ``session_id`` and mail it to ``email``, by default
        the customer's address on file (read here; never one the customer just typed).

        Once the mail is out, the session's earlier unused codes are void. No transaction is held
        open while the mail server answers. If the mail fails, the new code is deleted, earlier
        codes stay as they were, and :class:`~core.errors.MailUnavailableError` propagates.
        """
        now = self._now()
        ttl = self._settings.otp_ttl_seconds
        code = f"{secrets.randbelow(10**self._settings.otp_digits):0{self._settings.otp_digits}d}"
        code_id = str(uuid.uuid4())
        with self._db.transaction() as session:
            if email is None:
                customer = session.get(Customer, customer_id)
                if customer is None:
                    raise NotFoundError("No such customer", resource="customer")
                email = customer.email
            session.add(
                OneTimeCode(
                    id=code_id,
                    customer_id=customer_id,
                    session_id=session_id,
                    code_hash=self._hash(code_id, customer_id, session_id, code),
                    expires_at=now + timedelta(seconds=ttl),
                    attempts=0,
                    created_at=now,
                )
            )
        template = mail_template()
        fields = {"shop_name": shop_name, "code": code, "valid_for": _duration(ttl)}
        try:
            self._mailer.send(
                to=email, subject=template["subject"].format(**fields), body=template["body"].format(**fields)
            )
        except Exception:
            with self._db.transaction() as session:
                session.execute(delete(OneTimeCode).where(OneTimeCode.id == code_id))
            raise
        with self._db.transaction() as session:
            session.execute(
                update(OneTimeCode)
                .where(OneTimeCode.session_id == session_id, OneTimeCode.id != code_id, *self._live(now))
                .values(expires_at=now)
            )
        log.info("one-time code sent", extra={"session_id": session_id, "recipient": mask_email(email)})

    def check(self, *, customer_id: str, session_id: str, code: str) -> bool:
        """True once for the right live code of this customer and session, then never again.

        False for a wrong, expired, used or voided code, or when none was issued. Every call on a
        live code counts as a try, so ``otp_max_attempts`` wrong tries void it. Spaces and dashes
        in ``code`` are ignored ("123 456"). The comparison is constant-time.
        """
        now = self._now()
        typed = re.sub(r"[\s-]", "", code)
        with self._db.transaction() as session:
            # The write comes first: it takes the row lock (PostgreSQL) or the write lock (SQLite)
            # before the code is read, and counts this try whatever its outcome.
            counted = session.execute(
                update(OneTimeCode)
                .where(
                    OneTimeCode.session_id == session_id,
                    OneTimeCode.customer_id == customer_id,
                    *self._live(now),
                )
                .values(attempts=OneTimeCode.attempts + 1)
                .returning(
                    OneTimeCode.id, OneTimeCode.code_hash, OneTimeCode.attempts, OneTimeCode.created_at
                )
            ).all()
            if not counted:
                log.info("one-time code refused", extra={"session_id": session_id, "reason": "none_live"})
                return False
            row = max(counted, key=lambda r: as_utc(r.created_at))  # one, unless issued a moment ago
            expected = self._hash(row.id, customer_id, session_id, typed)
            if hmac.compare_digest(expected, row.code_hash):
                session.execute(update(OneTimeCode).where(OneTimeCode.id == row.id).values(used_at=now))
                log.info("one-time code accepted", extra={"session_id": session_id})
                return True
            void = row.attempts >= self._settings.otp_max_attempts
            log.info(
                "one-time code refused",
                extra={"session_id": session_id, "reason": "void_after_attempts" if void else "wrong"},
            )
            return False

    def pending(self, *, session_id: str) -> str | None:
        """The customer id a live code was issued for in this session, or None: when set, the
        session's next message may well be that code."""
        now = self._now()
        with self._db.transaction() as session:
            return session.scalars(
                select(OneTimeCode.customer_id)
                .where(OneTimeCode.session_id == session_id, *self._live(now))
                .order_by(OneTimeCode.created_at.desc())
                .limit(1)
            ).first()

    def find_code(self, text: str) -> str | None:
        """The code in a customer's message ("it's 123 456." -> "123456"), or None when the
        message holds no run of exactly ``otp_digits`` digits; lets the dialogue tell a code from
        other words without spending a try."""
        match = self._code_pattern.search(text)
        return re.sub(r"[ -]", "", match.group(1)) if match else None

    def prune(self) -> int:
        """Delete codes that expired (or were voided) a day ago or more; returns how many. For a
        periodic sweep: a dead code is of no use, but a day of them shows how often one was asked."""
        cutoff = self._now() - timedelta(days=1)
        with self._db.transaction() as session:
            result: Any = session.execute(delete(OneTimeCode).where(OneTimeCode.expires_at <= cutoff))
            return int(result.rowcount or 0)
