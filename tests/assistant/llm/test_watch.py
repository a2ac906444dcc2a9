"""An OpenAI-compatible server that fails while in use: the failed call makes the watcher check
the server; while it is down, calls fail at once without reaching it; once it answers again,
calls go through. Against a real HTTP server (the stand-in) on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from assistant.llm.openai_compatible import OpenAICompatibleLLM
from assistant.llm.protocol import ChatMessage, LLMError
from assistant.llm.watch import WatchedLLM
from core.health import ComponentHealth, ComponentState
from tests.assistant.llm import openai_stand_in
from tests.assistant.llm.openai_stand_in import OpenAIStandIn

HELLO: list[ChatMessage] = [{"role": "user", "content": "hello"}]


@pytest.fixture
def stand_in() -> Iterator[OpenAIStandIn]:
    with openai_stand_in.serve() as server:
        yield server


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_a_server_that_fails_is_skipped_until_it_answers_again(stand_in: OpenAIStandIn) -> None:
    health = ComponentHealth("llm")
    llm = WatchedLLM(
        OpenAICompatibleLLM(base_url=stand_in.url, timeout_seconds=5), health, first_wait=0.05, max_wait=0.2
    )
    try:
        assert health.status.state is ComponentState.OK and llm.available
        assert llm.chat(messages=HELLO, max_tokens=8).text == openai_stand_in.TEXT

        stand_in.failing = True
        with pytest.raises(LLMError, match="HTTP 503"):
            llm.chat(messages=HELLO, max_tokens=8)
        _until(lambda: health.status.state is ComponentState.DEGRADED)
        assert "503" in health.status.reason and not llm.available
        asked = stand_in.calls
        with pytest.raises(LLMError, match="unavailable"):
            llm.chat(messages=HELLO, max_tokens=8)
        with pytest.raises(LLMError, match="unavailable"):
            list(llm.stream(messages=HELLO, max_tokens=8))
        assert stand_in.calls == asked, "nothing is sent while the server is down"

        stand_in.failing = False
        _until(lambda: health.status.state is ComponentState.OK)
        assert "".join(llm.stream(messages=HELLO, max_tokens=8)) == openai_stand_in.TEXT
    finally:
        llm.close()
