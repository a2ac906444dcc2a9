"""An OpenAI-compatible LLM server that may be down: calls fail fast while it is, and a
background thread notices when it is back.

Without this, every turn during an outage would wait for a connection (or a timeout, up to
``llm.timeout_seconds``) before the rules took over. :class:`WatchedLLM` probes the server
once at start and again whenever a call fails; while the probe fails, calls raise
:class:`~assistant.llm.protocol.LLMError` at once (the dialogue then answers from rules and
templates) and the probe is repeated with exponential backoff (tenacity) up to
``llm.probe_max_seconds`` apart. The first probe that gets an HTTP answer puts it back in use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from tenacity import Retrying, retry_if_result, stop_when_event_set, wait_exponential

from assistant.llm.openai_compatible import OpenAICompatibleLLM
from assistant.llm.protocol import ChatMessage, Completion, LLMError
from core.health import ComponentHealth

log = logging.getLogger(__name__)


class WatchedLLM:
    """The ``LLM`` protocol over an :class:`OpenAICompatibleLLM`, with its server's state in
    ``health`` (``ok`` or ``degraded``)."""

    def __init__(
        self,
        inner: OpenAICompatibleLLM,
        health: ComponentHealth,
        *,
        first_wait: float = 1.0,
        max_wait: float = 30.0,
    ) -> None:
        self.inner = inner
        self.health = health
        self._first_wait = first_wait
        self._max_wait = max_wait
        self._up = threading.Event()
        self._check = threading.Event()
        self._stop = threading.Event()
        self._check_now()
        self._thread = threading.Thread(target=self._watch, name="llm-watch", daemon=True)
        self._thread.start()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def available(self) -> bool:
        return self._up.is_set()

    def chat(
        self,
        *,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float = 0.0,
        grammar: str | None = None,
        stop: list[str] | None = None,
        top_logprobs: int = 0,
    ) -> Completion:
        self._require_up()
        try:
            return self.inner.chat(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                grammar=grammar,
                stop=stop,
                top_logprobs=top_logprobs,
            )
        except LLMError:
            self._check.set()
            raise

    def stream(
        self,
        *,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        self._require_up()
        try:
            yield from self.inner.stream(
                messages=messages, max_tokens=max_tokens, temperature=temperature, stop=stop
            )
        except LLMError:
            self._check.set()
            raise

    def close(self) -> None:
        self._stop.set()
        self._check.set()
        self._thread.join(timeout=10)
        self.inner.close()

    def _require_up(self) -> None:
        if not self._up.is_set():
            raise LLMError(
                f"The LLM server at {self.inner.base_url} is unavailable: {self.health.status.reason}",
                backend=self.name,
            )

    def _check_now(self) -> bool:
        """Probe the server and record the outcome; True when it answered."""
        problem = self.inner.probe()
        if problem is None:
            self._up.set()
            self.health.ok()
            return True
        self._up.clear()
        self.health.degraded(problem)
        return False

    def _pause(self, seconds: float) -> None:
        """tenacity's sleep between probes; ends at once when the LLM is closed."""
        self._stop.wait(seconds)

    def _watch(self) -> None:
        """While up: wait for a failed call. While down: probe with backoff until it answers."""
        while not self._stop.is_set():
            if self._up.is_set():
                self._check.wait()
                self._check.clear()
                if self._stop.is_set() or self._check_now():
                    continue
            retrying = Retrying(
                wait=wait_exponential(multiplier=self._first_wait, max=self._max_wait),
                retry=retry_if_result(lambda answered: not answered),
                stop=stop_when_event_set(self._stop),
                sleep=self._pause,
                retry_error_callback=lambda _state: False,
            )
            if retrying(self._check_now):
                log.info("llm server back", extra={"url": self.inner.base_url})
