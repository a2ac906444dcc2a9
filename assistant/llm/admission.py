"""Admission control in front of the language model: a call that cannot have the model within
the queue budget is refused at once with :class:`LLMBusyError`, and its turn takes the rules'
answer instead of waiting.

Why: llama.cpp runs one call at a time (:class:`~assistant.llm.llama_cpp.LlamaCppLLM` holds a
lock), so under load every phrased turn queued behind the model: 50 concurrent conversations on
2 cores measured p50 4.0 s and p95 24 s per turn, against a 30 s lock timeout. The model's part
of a turn is optional: a phrased reply says the facts of a template that was checked anyway (the
responder sends the template), and a command proposal has the rules' own fallback (a search on
the product words, else the clarifying question). Waiting past a short budget for either is
never worth it.

:class:`AdmittedLLM` implements the :class:`~assistant.llm.protocol.LLM` protocol around the
real backend; :class:`~services.Services` wraps the one shared model in it, so every caller
(phrasing, command proposals, agent drafts) passes the same gate. It counts admitted and refused
calls by kind (``chat``: command proposals; ``stream``: phrasing) for the metrics.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Literal

from assistant.llm.protocol import LLM, ChatMessage, Completion, LLMError
from core.config import LLMSettings
from core.errors import InvalidArgumentsError

log = logging.getLogger(__name__)

CallKind = Literal["chat", "stream"]


class LLMBusyError(LLMError):
    """The model was busy for longer than the queue budget; the caller takes its fallback."""

    code = "llm_busy"


class HeldStream(Iterator[str]):
    """The backend's stream, holding a model slot until it is exhausted, fails or is closed.

    A plain generator would not do: one that is closed before its first ``next`` never runs its
    ``finally``, and the slot would be lost for good.
    """

    def __init__(self, pieces: Iterator[str], release: Callable[[], None]) -> None:
        self._pieces = pieces
        self._release: Callable[[], None] | None = release

    def __next__(self) -> str:
        if self._release is None:
            raise StopIteration
        try:
            return next(self._pieces)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        try:
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()  # the backend's own lock (llama.cpp) is freed first
        finally:
            release()

    def __del__(self) -> None:  # a caller that dropped the stream without closing it
        self.close()


class AdmittedLLM:
    """An :class:`LLM` that admits at most ``slots`` calls at once and refuses a call that would
    wait longer than ``budget_seconds`` for a slot (:class:`LLMBusyError`, at once)."""

    def __init__(self, llm: LLM, *, budget_seconds: float, slots: int = 1) -> None:
        if budget_seconds < 0 or slots < 1:
            raise InvalidArgumentsError(
                "budget_seconds must be >= 0 and slots >= 1", budget_seconds=budget_seconds, slots=slots
            )
        self.inner = llm
        self.budget_seconds = budget_seconds
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)
        self._mutex = threading.Lock()
        self._admitted: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()

    @classmethod
    def from_settings(cls, llm: LLM, settings: LLMSettings) -> AdmittedLLM:
        return cls(llm, budget_seconds=settings.queue_budget_ms / 1000, slots=settings.max_concurrent_calls)

    @property
    def name(self) -> str:
        return self.inner.name

    def counts(self) -> dict[str, dict[str, int]]:
        """Calls admitted and refused so far, by kind (``chat``, ``stream``)."""
        with self._mutex:
            return {"admitted": dict(self._admitted), "refused": dict(self._refused)}

    def _admit(self, kind: CallKind) -> None:
        if self._free.acquire(timeout=self.budget_seconds):
            with self._mutex:
                self._admitted[kind] += 1
            return
        with self._mutex:
            self._refused[kind] += 1
        budget_ms = round(self.budget_seconds * 1000)
        # Expected under load, and answered by the fallback: not an error.
        log.info("llm busy, the turn takes its fallback", extra={"call": kind, "budget_ms": budget_ms})
        raise LLMBusyError(
            f"the model stayed busy past the queue budget ({budget_ms} ms)", backend=self.name, call=kind
        )

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
        self._admit("chat")
        try:
            return self.inner.chat(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                grammar=grammar,
                stop=stop,
                top_logprobs=top_logprobs,
            )
        finally:
            self._free.release()

    def stream(
        self,
        *,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> HeldStream:
        """The backend's stream, admitted now (:class:`LLMBusyError` here, not at the first
        piece); the slot is held until the stream is exhausted or closed."""
        self._admit("stream")
        try:
            pieces = self.inner.stream(
                messages=messages, max_tokens=max_tokens, temperature=temperature, stop=stop
            )
        except BaseException:
            self._free.release()
            raise
        return HeldStream(iter(pieces), self._free.release)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()
