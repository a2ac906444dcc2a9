"""Starting the Telegram connector inside ``shopassist serve`` without ever holding the web
channel hostage.

The connector needs the Bot API to start (``getMe``, then the command menu and the webhook).
When the Bot API cannot be reached (network down, DNS failure, a wrong ``telegram.api_url``,
timeouts), :class:`TelegramSupervisor` keeps the server starting anyway: the connector reports
``degraded`` with the reason and a background task tries again with exponential backoff
(tenacity), ``telegram.start_retry_seconds`` doubling up to ``telegram.start_retry_max_seconds``,
until it starts and reports ``ok``. A token the Bot API rejects is not retried (it will not
become valid without a configuration change): it is logged as an error and stays degraded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.error import InvalidToken, TelegramError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from connectors.telegram.bot import TelegramConnector
from core.health import ComponentHealth

log = logging.getLogger(__name__)
#: How long start-up waits for the first try (it goes on in the background after that): long
#: enough for a reachable Bot API, so a healthy start serves Telegram from the first request.
FIRST_TRY_WAIT_SECONDS = 10.0


def _retried(exc: BaseException) -> bool:
    """Everything but a rejected token and cancellation (shutdown) is tried again."""
    return isinstance(exc, Exception) and not isinstance(exc, InvalidToken)


def failure_reason(exc: BaseException) -> str:
    """A short reason for ``/readyz`` and the log; never the token (PTB puts it in some messages)."""
    if isinstance(exc, InvalidToken):
        cause = exc.__cause__
        said = f" ({str(cause)[:80]})" if isinstance(cause, TelegramError) else ""
        return f"the Bot API rejected the bot token{said}"
    if isinstance(exc, TelegramError):
        return f"Bot API unreachable: {type(exc).__name__}: {str(exc)[:120]}"
    return f"start failed: {type(exc).__name__}"


class TelegramSupervisor:
    def __init__(self, connector: TelegramConnector, health: ComponentHealth) -> None:
        self.connector = connector
        self.health = health
        tg = connector.settings.telegram
        self._wait = wait_exponential(multiplier=tg.start_retry_seconds, max=tg.start_retry_max_seconds)
        self._api = tg.api_url
        self._first_try = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """The connector is started: updates are handled and agent messages delivered."""
        return self.connector.application.running

    @property
    def retrying(self) -> bool:
        """Still trying to start (the connector is not started yet, and not given up on)."""
        return self._task is not None and not self._task.done()

    async def start(self, first_try_wait: float = FIRST_TRY_WAIT_SECONDS) -> None:
        """Begin starting the connector; returns after the first try (or ``first_try_wait``)."""
        self.health.starting(f"connecting to the Bot API at {self._api}")
        self._task = asyncio.create_task(self._run(), name="telegram-start")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), first_try_wait)

    async def stop(self) -> None:
        """Stop trying (a retry in progress is cancelled) and stop the connector."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.connector.stop()

    async def _run(self) -> None:
        retrying = AsyncRetrying(
            wait=self._wait, retry=retry_if_exception(_retried), before_sleep=self._failed
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        await self.connector.start()
                    finally:
                        self._first_try.set()
        except InvalidToken as exc:
            reason = failure_reason(exc)
            log.error("Telegram connector not started: %s; fix telegram.token and restart", reason)
            self.health.degraded(reason)
            return
        self.health.ok()
        log.info("Telegram connector on (webhook at /api/v1/telegram/webhook)")

    def _failed(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        reason = failure_reason(exc) if exc is not None else "start failed"
        self.health.degraded(f"{reason}; retrying in {wait:.0f} s")
        log.warning(
            "Telegram connector not started, retrying",
            exc_info=exc if not isinstance(exc, TelegramError) else None,
            extra={"attempt": state.attempt_number, "reason": reason, "wait_s": round(wait, 2)},
        )
