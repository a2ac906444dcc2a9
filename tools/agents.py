"""Support agent accounts: created by the shop's operator, passwords hashed with Argon2
(argon2-cffi's recommended parameters), never stored or logged in clear."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from shopassist.errors import ActionRefusedError, InvalidArgumentsError
from tools.store.db import Database
from tools.store.models import SupportAgent

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class AgentInfo:
    name: str
    display_name: str
    active: bool


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
        if len(password) < MIN_PASSWORD:
            raise InvalidArgumentsError(
                f"The password needs at least {MIN_PASSWORD} characters",
                errors=[{"field": "password", "message": "too short"}],
            )
        with self.database.transaction() as session:
            if session.get(SupportAgent, name) is not None:
                raise ActionRefusedError(f"Agent {name!r} already exists", agent=name)
            row = SupportAgent(
                name=name, display_name=display_name or name, password_hash=self._hasher.hash(password)
            )
            session.add(row)
        return AgentInfo(name, display_name or name, True)

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
            return AgentInfo(row.name, row.display_name, row.active)

    def get(self, name: str) -> AgentInfo | None:
        with self.database.session() as session:
            row = session.get(SupportAgent, name)
            return None if row is None else AgentInfo(row.name, row.display_name, row.active)

    def list(self) -> list[AgentInfo]:
        with self.database.session() as session:
            rows = session.scalars(select(SupportAgent).order_by(SupportAgent.name))
            return [AgentInfo(r.name, r.display_name, r.active) for r in rows]
