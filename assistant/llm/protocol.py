"""The ``LLM`` protocol every language-model backend implements, and the shapes it speaks.

Backends: :class:`~assistant.llm.llama_cpp.LlamaCppLLM` (a GGUF in process) and
:class:`~assistant.llm.openai_compatible.OpenAICompatibleLLM` (a llama.cpp server or vLLM);
:func:`~assistant.llm.backends.create_llm` builds the configured one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

from core.errors import InvalidArgumentsError, ShopassistError

Role = Literal["system", "user", "assistant"]


class ChatMessage(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token and its log-probability, with the most likely tokens at that step
    (``top``, best first), all under the model's raw distribution (before any grammar)."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # "stop" (end of turn, stop string or grammar complete) or "length"
    prompt_tokens: int
    completion_tokens: int
    logprobs: tuple[TokenLogprob, ...] | None = None  # only when asked for and the backend gives them


class LLMError(ShopassistError):
    """The language model could not produce a completion (server down, bad response, decode
    failure). Callers fall back to rules and templates."""

    code = "llm_error"
    http_status = 503


class LLM(Protocol):
    @property
    def name(self) -> str: ...

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
        """One completion. ``grammar`` (GBNF) constrains the output; ``top_logprobs`` > 0 asks
        for per-token log-probabilities with that many alternatives (``Completion.logprobs``,
        None when the backend gives none)."""
        ...

    def stream(
        self,
        *,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]: ...


def check_request(messages: list[ChatMessage], max_tokens: int, temperature: float) -> None:
    if not messages:
        raise InvalidArgumentsError("messages must not be empty", errors=[{"loc": "messages"}])
    if max_tokens < 1:
        raise InvalidArgumentsError("max_tokens must be at least 1", errors=[{"loc": "max_tokens"}])
    if temperature < 0:
        raise InvalidArgumentsError("temperature must be >= 0", errors=[{"loc": "temperature"}])


def finish_reason(value: object) -> str:
    return "length" if value == "length" else "stop"
