"""What the customer sockets (chat, speech) share: typed JSON events out, counted errors."""

from __future__ import annotations

import json
from typing import Any

from fastapi import WebSocket

from connectors.web.metrics import WebMetrics


class EventSocket:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.metrics: WebMetrics = ws.app.state.metrics
        self.client = ws.client.host if ws.client else None

    async def send(self, kind: str, **payload: Any) -> None:
        await self.ws.send_text(json.dumps({"type": kind, **payload}, default=str))

    async def error(self, code: str, message: str, **context: Any) -> None:
        """An ``error`` event (``context``: e.g. ``in_reply_to``); the connection stays open."""
        self.metrics.errors.labels(code=code).inc()
        await self.send("error", code=code, message=message, **context)
