"""What every WebSocket (chat, speech, agent console) checks before it serves anyone, and the
close codes it ends a connection with.

A browser sends the page's ``Origin`` with every WebSocket upgrade and, unlike a ``fetch``, the
same-origin policy does not stop a script on another site from opening one to this server with
the visitor's cookies (cross-site WebSocket hijacking). So the socket is accepted only from the
server's own origin (the Host the browser asked for: the demo page and the agent console) and
the pages listed in ``web.allowed_origins``. A connection without ``Origin`` is not a browser
(apps, the CLI, tests); it cannot carry a victim's cookies, so it is let in.

Close codes (``4xxx`` mirror the HTTP status they mean), all documented in the README:

* ``4401`` the agent console's log-in is missing, wrong, or has ended;
* ``4403`` the page's origin is not allowed;
* ``4408`` no first event within ``web.ws_hello_timeout_seconds``;
* ``4429`` the client's address already holds ``web.ws_max_per_client`` sockets;
* ``1011`` the server's own polling for the socket failed (logged once); reconnecting is safe.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import WebSocket

from connectors.web.ratelimit import client_address

log = logging.getLogger(__name__)

CLOSE_LOGIN_REQUIRED = 4401
CLOSE_ORIGIN_REFUSED = 4403
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_TOO_MANY_SOCKETS = 4429
CLOSE_INTERNAL_ERROR = 1011
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _netloc(scheme: str, netloc: str) -> str:
    """``host[:port]`` lower-cased, without the scheme's default port (browsers leave it out)."""
    netloc = netloc.lower()
    default = _DEFAULT_PORTS.get(scheme)
    return netloc[: -len(default) - 1] if default and netloc.endswith(f":{default}") else netloc


def normal_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` lower-cased without a default port; None if not a web origin."""
    parts = urlsplit(origin.strip().lower())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None  # e.g. "null" from a sandboxed frame or a file:// page
    return f"{parts.scheme}://{_netloc(parts.scheme, parts.netloc)}"


def origin_allowed(headers: Mapping[str, str], allowed: list[str]) -> bool:
    """May a socket with these upgrade headers be served? (No ``Origin``: not a browser, yes.)"""
    origin = headers.get("origin")
    if origin is None or "*" in allowed:
        return True
    page = normal_origin(origin)
    if page is None:
        return False
    if page in {normal_origin(entry) for entry in allowed}:
        return True
    scheme = page.split("://", 1)[0]
    host = headers.get("host", "")
    return bool(host) and page == f"{scheme}://{_netloc(scheme, host)}"


class SocketSlots:
    """Open sockets per client address in this process, so one address cannot hold thousands
    (each costs a file descriptor and, on the chat socket, a log query a second)."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._open: Counter[str] = Counter()

    def take(self, client: str | None) -> bool:
        """Count one more socket for ``client``; False (nothing counted) if it holds the most."""
        if client is None or self.per_client == 0:
            return True
        if self._open[client] >= self.per_client:
            return False
        self._open[client] += 1
        return True

    def give_back(self, client: str | None) -> None:
        if client is None or self.per_client == 0:
            return
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]

    def held(self, client: str) -> int:
        return self._open[client]


@asynccontextmanager
async def admitted(ws: WebSocket) -> AsyncIterator[bool]:
    """Accept ``ws``; yields True if it may be served, False once it has been closed (a refused
    origin: 4403, too many sockets from its address: 4429). The address's slot is held until
    the block ends."""
    await ws.accept()
    web = ws.app.state.settings.web
    if not origin_allowed(ws.headers, web.allowed_origins):
        log.warning("websocket from a page not allowed", extra={"origin": ws.headers.get("origin", "")[:200]})
        await ws.close(CLOSE_ORIGIN_REFUSED, "origin not allowed")
        yield False
        return
    slots: SocketSlots = ws.app.state.socket_slots
    client = client_address(ws)
    if not slots.take(client):
        await ws.close(CLOSE_TOO_MANY_SOCKETS, "too many sockets from this address")
        yield False
        return
    try:
        yield True
    finally:
        slots.give_back(client)
