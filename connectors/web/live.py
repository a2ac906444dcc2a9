"""Live sockets: waiting for a client's next frame or news of the conversation it shows,
whichever comes first, so the chat and agent sockets read new events when a notification says
there are some (any process's append, :mod:`assistant.sessions.notify`) instead of every second.

Without news they still read on a slow timer (:func:`safety_poll_seconds`), in case a
notification was lost (Redis or PostgreSQL away for a moment, a process that does not publish).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final

from fastapi import WebSocket

if TYPE_CHECKING:
    from assistant.sessions.notify import EventBus, Subscription
    from core.config import WebSettings

NEWS: Final = "news"
"""What :meth:`FrameOrNews.next` returns when a notification came first."""
POLL_WITH_NOTIFICATIONS = 5.0
POLL_WITHOUT = 1.0


def safety_poll_seconds(web: WebSettings, bus: EventBus | None) -> float:
    """``web.ws_safety_poll_seconds``, or 5 s when notifications cross processes and 1 s when
    they do not (another worker's events are then only found by reading)."""
    if web.ws_safety_poll_seconds is not None:
        return web.ws_safety_poll_seconds
    return POLL_WITH_NOTIFICATIONS if bus is not None and bus.crosses_processes else POLL_WITHOUT


class FrameOrNews:
    """A socket's receiving side with its subscription (None: frames only). A receive that
    lost the race to a notification stays pending for the next call, so no frame is dropped."""

    def __init__(self, ws: WebSocket, subscription: Subscription | None) -> None:
        self.ws = ws
        self.subscription = subscription
        self._receiving: asyncio.Future[MutableMapping[str, Any]] | None = None

    async def next(self, timeout: float | None) -> Mapping[str, Any] | str | None:
        """The next ASGI message, :data:`NEWS`, or None after ``timeout`` seconds of neither."""
        receiving = self._receiving
        if receiving is None:
            receiving = self._receiving = asyncio.ensure_future(self.ws.receive())
        waiting: set[asyncio.Future[Any]] = {receiving}
        news: asyncio.Future[bool] | None = None
        if self.subscription is not None:
            news = asyncio.ensure_future(self.subscription.wait(timeout=timeout))
            waiting.add(news)
        try:
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if news is not None and not news.done():
                news.cancel()  # (a notification not yet taken stays for the next wait)
        heard = news is not None and news in done and not news.cancelled() and news.result()
        if receiving in done:
            message = receiving.result()
            self._receiving = None
            if heard and self.subscription is not None:
                self.subscription.wake()  # both at once: the news is served after the frame
            return message
        return NEWS if heard else None

    def close(self) -> None:
        if self._receiving is not None and not self._receiving.done():
            self._receiving.cancel()
        if self.subscription is not None:
            self.subscription.close()
