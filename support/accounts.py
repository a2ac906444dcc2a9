"""Support agent accounts: created by the shop's operator, passwords hashed with Argon2
(argon2-cffi's recommended parameters), never stored or logged in clear.

Each account has a ``credential`` tag derived from its current password hash. Console login
tokens carry it, so setting a new password (or disabling the account) signs the agent out
everywhere at once, before any token expires."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ActionRefusedError, InvalidArgumentsError, NotFoundError
from store.db import Database
from store.models import SupportAgent

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class AgentInfo:
    name: str
    display_name: str
    active: bool
    credential: str
    """Changes with every new password: login tokens carry it (see :mod:`connectors.web.agent_auth`)."""


def _credential(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _info(row: SupportAgent) -> AgentInfo:
    return AgentInfo(row.name, row.display_name, row.active, _credential(row.password_hash))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidArgumentsError(
            f"The password needs at least {MIN_PASSWORD} characters",
            errors=[{"field": "password", "message": "too short"}],
        )


class AgentAccounts:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._hasher = PasswordHasher()

    def add(self, name: str, password: str, *, display_name: str | None = None) -> AgentInfo:
        if not _NAME.match(name):
            raise InvalidArgumentsError(
                f"Invalid agent name {name!r}: 2 to 64 lower-case letters, digits, '.', '_' or '-'",
                errors=[{"field": "name", "message": "invalid agent name"}],
            )
        _check_password(password)
        with self.database.transaction() as session:
            if session.get(SupportAgent, name) is not None:
                raise ActionRefusedError(f"Agent {name!r} already exists", agent=name)
            row = SupportAgent(
                name=name, display_name=display_name or name, password_hash=self._hasher.hash(password)
            )
            session.add(row)
            session.flush()
            return _info(row)

    def set_password(self, name: str, password: str) -> AgentInfo:
        """A new password; every console login of the agent ends (their tokens stop working)."""
        _check_password(password)
        with self.database.transaction() as session:
            row = self._row(session, name)
            row.password_hash = self._hasher.hash(password)
            return _info(row)

    def set_active(self, name: str, active: bool) -> AgentInfo:
        """Disable (every console login ends at once) or enable an account."""
        with self.database.transaction() as session:
            row = self._row(session, name)
            row.active = active
            return _info(row)

    @staticmethod
    def _row(session: Session, name: str) -> SupportAgent:
        row = session.get(SupportAgent, name)
        if row is None:
            raise NotFoundError(f"There is no agent {name!r}", resource="agent", id=name)
        return row

    def verify(self, name: str, password: str) -> AgentInfo | None:
        """The agent if the name and password match an active account, else None."""
        with self.database.session() as session:
            row = session.get(SupportAgent, name)
            if row is None or not row.active:
                self._hasher.hash(password)  # same work either way: no timing hint that the name exists
                return None
            try:
                self._hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            return _info(row)

    def get(self, name: str) -> AgentInfo | None:
        with self.database.session() as session:
            row = session.get(SupportAgent, name)
            return None if row is None else _info(row)

    def list(self) -> list[AgentInfo]:
        with self.database.session() as session:
            rows = session.scalars(select(SupportAgent).order_by(SupportAgent.name))
            return [_info(r) for r in rows]
