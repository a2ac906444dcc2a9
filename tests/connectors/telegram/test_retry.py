import asyncio
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from connectors.telegram.retry import RetryingLimiter, retry_after_seconds


def _flaky(errors: list[Exception]) -> tuple[Any, list[int]]:
    calls: list[int] = []

    async def call() -> dict[str, Any]:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return {"ok": True}

    return call, calls


def _run(limiter: RetryingLimiter, call: Any, endpoint: str = "sendMessage") -> Any:
    return asyncio.run(limiter.process_request(call, (), {}, endpoint, {}, None))


def test_rate_limits_and_network_errors_are_retried() -> None:
    call, calls = _flaky([RetryAfter(0), NetworkError("Bad Gateway"), NetworkError("reset")])
    assert _run(RetryingLimiter(max_retries=3, base_delay=0.01), call) == {"ok": True}
    assert len(calls) == 4


def test_bad_requests_and_blocked_bots_are_not_retried() -> None:
    for error in (BadRequest("can't parse entities"), Forbidden("bot was blocked by the user")):
        call, calls = _flaky([error])
        with pytest.raises(type(error)):
            _run(RetryingLimiter(max_retries=3, base_delay=0.01), call)
        assert len(calls) == 1


def test_retries_stop_after_the_limit_and_a_too_long_wait_is_not_waited() -> None:
    call, calls = _flaky([NetworkError("down")] * 5)
    with pytest.raises(NetworkError):
        _run(RetryingLimiter(max_retries=2, base_delay=0.01), call)
    assert len(calls) == 3
    call, calls = _flaky([RetryAfter(600)])
    with pytest.raises(RetryAfter):
        _run(RetryingLimiter(max_retries=3, max_wait=30), call)
    assert len(calls) == 1


def test_long_polling_is_left_to_python_telegram_bot() -> None:
    call, calls = _flaky([NetworkError("down")])
    with pytest.raises(NetworkError):
        _run(RetryingLimiter(max_retries=3, base_delay=0.01), call, endpoint="getUpdates")
    assert len(calls) == 1


def test_retry_after_is_read_in_seconds() -> None:
    assert retry_after_seconds(RetryAfter(7)) == 7.0
