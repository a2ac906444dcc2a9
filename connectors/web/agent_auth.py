"""Agent console sessions: a signed, expiring token per logged-in agent.

``<name>.<expires>.<HMAC>`` with a key derived from the policy secret for this purpose only, so
a customer's session token is never an agent token. Sent as ``Authorization: Bearer`` or the
``shopassist_agent`` cookie (HttpOnly).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, Request, WebSocket

from shopassist.errors import AuthenticationRequiredError

AGENT_COOKIE = "shopassist_agent"
_PURPOSE = b"shopassist-agent-console\x1f"
TTL_SECONDS = 12 * 3600


class AgentSigner:
    def __init__(self, secret: bytes, *, ttl: int = TTL_SECONDS) -> None:
        self._key = hashlib.sha256(_PURPOSE + secret).digest()
        self.ttl = ttl

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:48]

    def token(self, agent: str, *, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.ttl)
        body = f"{agent}.{expires}"
        return f"{body}.{self._mac(body)}"

    def agent_of(self, token: str | None, *, now: float | None = None) -> str | None:
        if not token or len(token) > 300 or token.count(".") < 2 or not token.isascii():
            return None
        body, _, mac = token.rpartition(".")
        agent, _, expires = body.rpartition(".")
        if not agent or not hmac.compare_digest(self._mac(body), mac):
            return None
        try:
            if int(expires) < (now if now is not None else time.time()):
                return None
        except ValueError:
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
    agent = signer.agent_of(agent_token(request))
    if agent is None:
        raise AuthenticationRequiredError("Agent APIs need an agent login (POST /api/v1/agent/login)")
    accounts = request.app.state.agent_accounts
    info = accounts.get(agent) if accounts is not None else None
    if info is None or not info.active:
        raise AuthenticationRequiredError("This agent account is not active")
    return agent


CurrentAgentDep = Annotated[str, Depends(current_agent)]
