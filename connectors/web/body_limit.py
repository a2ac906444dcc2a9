"""Request bodies are capped while they stream in, before anything is parsed or spooled to disk.

Starlette's multipart parser spools an upload to a temporary file as it arrives and FastAPI reads
a JSON body whole, both before the route runs: a limit checked in the route comes too late (a
300 MB chunked upload to ``/api/v1/speech`` once sat in /tmp with no answer). :class:`BodyLimit`
is a pure ASGI middleware in front of the routes:

- a ``Content-Length`` over the route's cap is answered 413 at once, without reading the body;
- a body without one (chunked) is counted as it arrives, and the moment it passes the cap the
  request is cut off: the route's own reply is dropped and 413 is sent instead.

Both 413s carry ``Connection: close``, so the server closes the connection rather than read the
rest of a body nobody wants. The caps per route come from :func:`body_caps`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.telegram.webhook import MAX_UPDATE_BYTES
from connectors.web.errors import error_response
from core.config import Settings
from core.errors import RequestTooLargeError

MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart framing and the small form fields beside the audio."""


@dataclass(frozen=True)
class BodyCaps:
    """The largest body each kind of route accepts (bytes)."""

    speech: int
    telegram: int
    json: int

    def for_path(self, path: str) -> int:
        if path.startswith("/api/v1/speech"):
            return self.speech
        if path.startswith("/api/v1/telegram/"):
            return self.telegram
        return self.json


def body_caps(settings: Settings) -> BodyCaps:
    """Speech: ``speech.max_bytes`` plus the multipart framing; the Telegram webhook: the largest
    update it takes; everything else (JSON): ``Settings.max_json_bytes``."""
    return BodyCaps(
        speech=settings.speech.max_bytes + MULTIPART_OVERHEAD,
        telegram=MAX_UPDATE_BYTES,
        json=settings.max_json_bytes,
    )


class _Cut(Exception):
    """Raised into the route when its body passed the cap (its reply is dropped anyway)."""


class BodyLimit:
    """ASGI middleware: 413 for a body over ``cap_for(path)`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, cap_for: Callable[[str], int]) -> None:
        self.app = app
        self.cap_for = cap_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(scope, receive, send, cap)
            return
        received = 0
        cut = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    cut = True
                    raise _Cut
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut:
                return  # the route's answer to a body it never got whole
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not cut:
                raise
        if cut and not started:
            await _refuse(scope, receive, send, cap)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, cap: int) -> None:
    exc = RequestTooLargeError(
        f"The request body is larger than {cap} bytes",
        errors=[{"field": "body", "message": f"at most {cap} bytes"}],
        limit_bytes=cap,
    )
    await error_response(exc, headers={"Connection": "close"})(scope, receive, send)
