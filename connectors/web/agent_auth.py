"""Agent console sessions: a signed, expiring token per logged-in agent.

``<name>.<credential>.<expires>.<HMAC>`` with a key derived from the policy secret for this
purpose only, so a customer's session token is never an agent token. Sent as
``Authorization: Bearer`` or the ``shopassist_agent`` cookie (HttpOnly). ``credential`` is the
account's tag (:class:`tools.agents.AgentInfo`): a token counts only while the account is
active and its password unchanged, so ``shopassist agents disable`` or ``set-password`` signs
the agent out everywhere at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, Request, WebSocket

from core.errors import AuthenticationRequiredError
from support.accounts import AgentAccounts

AGENT_COOKIE = "shopassist_agent"
_PURPOSE = b"shopassist-agent-console\x1f"
TTL_SECONDS = 12 * 3600
LOGIN_ENDED = "This login has ended (the account was disabled or its password changed); log in again"


class AgentSigner:
    def __init__(self, secret: bytes, *, ttl: int = TTL_SECONDS) -> None:
        self._key = hashlib.sha256(_PURPOSE + secret).digest()
        self.ttl = ttl

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:48]

    def token(self, agent: str, *, credential: str, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.ttl)
        body = f"{agent}.{credential}.{expires}"
        return f"{body}.{self._mac(body)}"

    def signed(self, token: str | None, *, now: float | None = None) -> tuple[str, str] | None:
        """(agent, credential) of a well-signed, unexpired token; None otherwise."""
        if not token or len(token) > 300 or token.count(".") < 3 or not token.isascii():
            return None
        body, _, mac = token.rpartition(".")
        if not hmac.compare_digest(self._mac(body), mac):
            return None
        rest, _, expires = body.rpartition(".")
        agent, _, credential = rest.rpartition(".")
        try:
            if not agent or int(expires) < (now if now is not None else time.time()):
                return None
        except ValueError:
            return None
        return agent, credential

    def agent_of(self, token: str | None, accounts: AgentAccounts | None) -> str | None:
        """The agent a token logs in: well signed, unexpired, account active, password unchanged."""
        return still_valid(self.signed(token), accounts)


def still_valid(signed: tuple[str, str] | None, accounts: AgentAccounts | None) -> str | None:
    """The agent of a signed token's (agent, credential) while the account is active and its
    password unchanged; None otherwise."""
    if signed is None or accounts is None:
        return None
    agent, credential = signed
    info = accounts.get(agent)
    if info is None or not info.active or not hmac.compare_digest(info.credential, credential):
        return None
    return agent


def agent_token(connection: Request | WebSocket) -> str | None:
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return connection.cookies.get(AGENT_COOKIE)


def current_agent(request: Request) -> str:
    """The logged-in agent, or 401: customers and anonymous callers never reach agent APIs."""
    signer: AgentSigner = request.app.state.agent_signer
    signed = signer.signed(agent_token(request))
    if signed is None:
        raise AuthenticationRequiredError("Agent APIs need an agent login (POST /api/v1/agent/login)")
    agent = still_valid(signed, request.app.state.agent_accounts)
    if agent is None:
        raise AuthenticationRequiredError(LOGIN_ENDED)
    return agent


CurrentAgentDep = Annotated[str, Depends(current_agent)]
