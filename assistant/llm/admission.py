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

A call that finds the model busy does not always wait out the budget: the gate keeps a running
average of how long each kind of call holds the model, and when the calls holding it (and those
already waiting) are expected to keep it past the budget, it refuses at once. Without that, a
turn under load paid the whole budget twice (command proposal, then phrasing) before its
fallback. With no history yet it waits, as the budget says.

The model also competes for the cores. A turn that already waited past the budget for one of
the engine's running-turn slots (``dialogue.concurrent_turns``) finds the process saturated:
its model calls are refused at once (:func:`turn_waited`), so the model's threads do not slow
every other queued turn further. On 2 cores, 50 customers without pauses measured p95 3.7 s with
the model against 1.6 s rules-only before this; see README's "Overload" figures.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from assistant.llm.protocol import LLM, ChatMessage, Completion, LLMError
from core.config import LLMSettings
from core.errors import InvalidArgumentsError

log = logging.getLogger(__name__)

CallKind = Literal["chat", "stream"]
_SMOOTHING = 0.3  # weight of the newest hold time in the running average
_TURN_WAITED: ContextVar[float] = ContextVar("shopassist_turn_waited_seconds", default=0.0)


@contextmanager
def turn_waited(seconds: float) -> Iterator[None]:
    """Within the block (this thread, this context), the gate knows that the turn making the
    model calls waited ``seconds`` for a running-turn slot; past the queue budget, it refuses
    them at once."""
    token = _TURN_WAITED.set(seconds)
    try:
        yield
    finally:
        _TURN_WAITED.reset(token)


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

    def __init__(
        self, llm: LLM, *, budget_seconds: float, slots: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if budget_seconds < 0 or slots < 1:
            raise InvalidArgumentsError(
                "budget_seconds must be >= 0 and slots >= 1", budget_seconds=budget_seconds, slots=slots
            )
        self.inner = llm
        self.budget_seconds = budget_seconds
        self.slots = slots
        self._clock = clock
        self._free = threading.BoundedSemaphore(slots)
        self._mutex = threading.Lock()
        self._admitted: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()
        self._refused_at_once = 0
        self._hold_seconds: dict[str, float] = {}  # running average of how long a kind holds the model
        self._holders: dict[int, tuple[CallKind, float]] = {}  # ticket -> (kind, start)
        self._tickets = itertools.count()
        self._waiting = 0

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

    @property
    def refused_at_once(self) -> int:
        """Refusals decided without waiting (the expected wait was past the budget)."""
        with self._mutex:
            return self._refused_at_once

    def expected_wait(self) -> float | None:
        """Seconds until a slot is expected to be free for a new caller: the earliest expected end
        of the calls holding the model, plus the callers already waiting; None while a holder's
        kind has no history (then nobody can tell)."""
        with self._mutex:
            return self._expected_wait_locked(self._clock())

    def _expected_wait_locked(self, now: float) -> float | None:
        ends = []
        for kind, start in self._holders.values():
            typical = self._hold_seconds.get(kind)
            if typical is None:
                return None
            ends.append(max(0.0, start + typical - now))
        if len(ends) < self.slots:
            return 0.0
        queued = self._waiting * max(self._hold_seconds.values(), default=0.0) / self.slots
        return min(ends) + queued

    def _admit(self, kind: CallKind) -> Callable[[], None]:
        """A slot for one call, and the function that gives it back (recording its hold time)."""
        if _TURN_WAITED.get() > self.budget_seconds:
            self._refuse(kind, at_once=True, reason="turns queued")
        if not self._free.acquire(blocking=False):
            with self._mutex:
                expected = self._expected_wait_locked(self._clock())
                at_once = expected is not None and expected > self.budget_seconds
                if not at_once:
                    self._waiting += 1
            if at_once or not self._wait_for_slot():
                self._refuse(kind, at_once=at_once)
        with self._mutex:
            self._admitted[kind] += 1
            ticket = next(self._tickets)
            self._holders[ticket] = (kind, self._clock())
        return lambda: self._release(ticket)

    def _wait_for_slot(self) -> bool:
        try:
            return self._free.acquire(timeout=self.budget_seconds)
        finally:
            with self._mutex:
                self._waiting -= 1

    def _refuse(self, kind: CallKind, *, at_once: bool, reason: str = "model busy") -> None:
        with self._mutex:
            self._refused[kind] += 1
            self._refused_at_once += at_once
        budget_ms = round(self.budget_seconds * 1000)
        # Expected under load, and answered by the fallback: not an error.
        log.info(
            "llm busy, the turn takes its fallback",
            extra={"call": kind, "budget_ms": budget_ms, "at_once": at_once, "reason": reason},
        )
        raise LLMBusyError(
            f"{reason}: the model's answer would come past the queue budget ({budget_ms} ms)",
            backend=self.name,
            call=kind,
        )

    def _release(self, ticket: int) -> None:
        with self._mutex:
            holder = self._holders.pop(ticket, None)
            if holder is not None:
                kind, start = holder
                held = max(0.0, self._clock() - start)
                before = self._hold_seconds.get(kind)
                self._hold_seconds[kind] = held if before is None else before + _SMOOTHING * (held - before)
        self._free.release()

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
        release = self._admit("chat")
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
            release()

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
        release = self._admit("stream")
        try:
            pieces = self.inner.stream(
                messages=messages, max_tokens=max_tokens, temperature=temperature, stop=stop
            )
        except BaseException:
            release()
            raise
        return HeldStream(iter(pieces), release)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()
