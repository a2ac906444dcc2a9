"""Every Bot API call the connector makes is retried on Telegram's flood limits (waiting the
``retry_after`` Telegram asks for) and on network errors (exponential backoff with jitter).

It plugs into python-telegram-bot as its rate limiter, so it covers each call the same way:
replies, photos, edits, callback answers and agent-message delivery. Bad requests (a 4xx other
than 429) and a bot blocked by the customer are not retried.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

log = logging.getLogger(__name__)
#: Long polling has its own retry loop in python-telegram-bot.
_NOT_RETRIED = frozenset({"getUpdates"})


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds (an int or a timedelta, by PTB version and env)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class RetryingLimiter(BaseRateLimiter[None]):
    def __init__(
        self,
        *,
        max_retries: int = 5,
        max_wait: float = 60.0,
        base_delay: float = 0.5,
        not_retried: frozenset[str] = frozenset(),
    ) -> None:
        """``not_retried``: endpoints whose caller retries them itself (besides getUpdates)."""
        self.max_retries = max_retries
        self.not_retried = _NOT_RETRIED | not_retried
        self.max_wait = max_wait
        self._backoff = wait_random_exponential(multiplier=base_delay, max=max_wait)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, RetryAfter):
            return retry_after_seconds(exc) <= self.max_wait
        return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, RetryAfter):
            return min(retry_after_seconds(exc) + 0.1, self.max_wait)
        return float(self._backoff(state))

    @staticmethod
    def _log(endpoint: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            wait = state.next_action.sleep if state.next_action is not None else 0.0
            log.warning(
                "telegram call failed, retrying",
                extra={
                    "endpoint": endpoint,
                    "attempt": state.attempt_number,
                    "error": type(exc).__name__,
                    "wait_s": round(wait, 2),
                },
            )

        return before_sleep

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint in self.not_retried or self.max_retries == 0:
            return await callback(*args, **kwargs)
        result: bool | dict[str, Any] | list[dict[str, Any]] = False
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(self._retryable),
            before_sleep=self._log(endpoint),
            reraise=True,
        ):
            with attempt:
                result = await callback(*args, **kwargs)
        return result
