"""A stand-in for Telegram's Bot API server on 127.0.0.1.

The real api.telegram.org cannot be reached from the test machines, so the connector's real
python-telegram-bot ``Bot`` is pointed here instead (``telegram.api_url``). It implements the
methods the connector calls, answers like Telegram does (Message objects, ``ok``/``result``
envelopes, 429 with ``retry_after``, 403 for a blocked bot), records every call, and serves
queued updates to ``getUpdates`` for long polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers import serve_in_thread

TOKEN = "123456:TEST-token-not-real"
_SENDS = ("sendMessage", "sendPhoto")
_TRUE_METHODS = ("answerCallbackQuery", "setMyCommands", "setWebhook", "deleteWebhook", "sendChatAction")
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Shop", "username": "shop_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


@dataclass
class FakeBotApi:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    rejected: list[str] = field(default_factory=list)  # methods called with a wrong token
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))

    # Test controls --------------------------------------------------------------------------
    def fail_next(self, method: str, status: int, **body: Any) -> None:
        """The next call of ``method`` gets this HTTP status and error body."""
        with self._lock:
            self.failures.append((method, status, body))

    def rate_limit_next(self, method: str, retry_after: int = 1) -> None:
        self.fail_next(
            method,
            429,
            description=f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
        )

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.updates.clear()
            self.failures.clear()
            self.blocked_chats.clear()
            self.rejected.clear()

    def of(self, method: str, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    def texts(self, chat_id: int) -> list[str]:
        """Texts and captions sent to a chat, in order."""
        with self._lock:
            sent = [c for c in self.calls if c.chat_id == chat_id and c.method in _SENDS]
        return [str(c.params.get("text") or c.params.get("caption") or "") for c in sent]

    def wait_for(self, check: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")
            time.sleep(0.05)

    # Bot API ----------------------------------------------------------------------------------
    async def handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != TOKEN:
            with self._lock:
                self.rejected.append(request.path_params["method"])
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path_params["method"]
        params = await _params(request)
        with self._lock:
            self.calls.append(Call(method, params))
            failure = next((f for f in self.failures if f[0] == method), None)
            if failure is not None:
                self.failures.remove(failure)
        if failure is not None:
            _, status, body = failure
            return JSONResponse({"ok": False, "error_code": status, **body}, status)
        chat = params.get("chat_id")
        if chat is not None and int(chat) in self.blocked_chats:
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return JSONResponse(body, 403)
        if method == "getUpdates":
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        result = self._result(method, params)
        if result is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return JSONResponse({"ok": True, "result": result})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("sendMessage", "sendPhoto"):
            return self._message(params, params.get("chat_id"), next(self._ids))
        if method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup"):
            return self._message(params, params.get("chat_id"), int(params.get("message_id", 0)))
        if method in _TRUE_METHODS:
            return True
        return None

    @staticmethod
    def _message(params: dict[str, Any], chat_id: Any, message_id: int) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": BOT_USER,
        }
        if "caption" in params or "photo" in params:
            message["photo"] = [{"file_id": "ph1", "file_unique_id": "u1", "width": 90, "height": 90}]
            message["caption"] = params.get("caption", "")
        else:
            message["text"] = params.get("text", "")
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.05)


async def _params(request: Request) -> dict[str, Any]:
    """Bot API parameters as python-telegram-bot sends them (form or JSON; JSON-encoded values)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        raw: dict[str, Any] = await request.json()
    else:
        form = await request.form()
        raw = {key: value for key, value in form.items() if isinstance(value, str)}
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return params


@contextmanager
def serve(port: int = 0) -> Iterator[FakeBotApi]:
    """The fake server on 127.0.0.1 (``port``, or a free one), until the block ends."""
    api = FakeBotApi()
    app = Starlette(routes=[Route("/bot{token}/{method}", api.handle, methods=["GET", "POST"])])
    with serve_in_thread(app, name="fake Bot API server", port=port) as url:
        api.url = url
        yield api
