"""The OpenAI-compatible backend of the ``LLM`` protocol: a llama.cpp server or vLLM over HTTP."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from assistant.llm.protocol import (
    ChatMessage,
    Completion,
    LLMError,
    TokenLogprob,
    check_request,
    finish_reason,
)
from core.config import GrammarRequest, LLMSettings
from core.errors import ConfigError

log = logging.getLogger(__name__)

#: How each kind of server takes a GBNF grammar: the request fields to add.
GRAMMAR_REQUESTS: dict[GrammarRequest, Callable[[str], dict[str, Any]]] = {
    "grammar": lambda gbnf: {"grammar": gbnf},  # llama.cpp: llama-cpp-python's server, llama-server
    "structured_outputs": lambda gbnf: {"structured_outputs": {"grammar": gbnf}},  # vLLM >= 0.12
    "guided_grammar": lambda gbnf: {"guided_grammar": gbnf},  # vLLM < 0.12
}


class OpenAICompatibleLLM:
    """A server speaking the OpenAI chat-completions API (llama.cpp server, vLLM).

    ``grammar_request`` says where a GBNF grammar goes in the request (``llm.grammar_request``,
    see :data:`GRAMMAR_REQUESTS`): llama.cpp's servers read ``grammar``; vLLM reads
    ``structured_outputs.grammar`` (0.12 and later) or ``guided_grammar`` (before). A connection
    failure is retried once; everything else (timeouts, non-2xx, malformed bodies) raises
    :class:`LLMError` at once.

    Every request asks for ``repeat_penalty`` 1.0: llama-cpp-python's server defaults to 1.1, and
    with it greedy command proposals differ from the same model run in process (which, like
    vLLM, applies no repeat penalty unless asked).
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str = "local",
        api_key: str | None = None,
        timeout_seconds: float = 30.0,
        grammar_request: GrammarRequest = "grammar",
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.grammar_request = grammar_request
        self.timeout_seconds = timeout_seconds
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_seconds)

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> OpenAICompatibleLLM:
        if not settings.base_url:
            raise ConfigError("llm.base_url is required for the openai backend", key="llm.base_url")
        return cls(
            base_url=settings.base_url,
            model=settings.model,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            timeout_seconds=settings.timeout_seconds,
            grammar_request=settings.grammar_request,
        )

    @property
    def name(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    def close(self) -> None:
        self._client.close()

    def probe(self) -> str | None:
        """None when the server answers HTTP, else why not (for ``/readyz``).

        A cheap ``GET /models``; any status below 500 counts as up (a server without that route
        answers 404, one that wants another key 401: both are there, and their errors show on
        the next call). Connection failures, timeouts and 5xx count as down.
        """
        try:
            response = self._client.get("/models", timeout=min(self.timeout_seconds, 5.0))
        except httpx.HTTPError as exc:
            return f"LLM server {self.base_url} unreachable ({type(exc).__name__})"
        if response.status_code >= 500:
            return f"LLM server {self.base_url} answered HTTP {response.status_code}"
        return None

    def _body(self, messages: list[ChatMessage], max_tokens: int, temperature: float, **extra: Any) -> Any:
        check_request(messages, max_tokens, temperature)
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens}
        body |= {"temperature": temperature, "repeat_penalty": 1.0}
        return body | {key: value for key, value in extra.items() if value}

    def _send(self, body: dict[str, Any], *, stream: bool) -> httpx.Response:
        request = self._client.build_request("POST", "/chat/completions", json=body)
        try:
            try:
                response = self._client.send(request, stream=stream)
            except httpx.ConnectError:  # nothing reached the server: safe to retry once
                log.warning("llm server unreachable, retrying once", extra={"url": self.base_url})
                time.sleep(0.2)
                response = self._client.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise LLMError(f"LLM request to {self.base_url} failed: {exc!r}", backend=self.name) from exc
        if response.status_code >= 300:
            detail = response.read().decode("utf-8", errors="replace")[:500]
            response.close()
            raise LLMError(
                f"LLM server answered HTTP {response.status_code}: {detail}",
                backend=self.name,
                status=response.status_code,
            )
        return response

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
        body = self._body(messages, max_tokens, temperature, stop=stop)
        if grammar is not None:
            body.update(GRAMMAR_REQUESTS[self.grammar_request](grammar))
        if top_logprobs > 0:
            body.update(logprobs=True, top_logprobs=top_logprobs)
        data = _json(self._send(body, stream=False).content, self.name)
        try:
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return Completion(
                text=choice["message"].get("content") or "",
                finish_reason=finish_reason(choice.get("finish_reason")),
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
                logprobs=_openai_logprobs(choice.get("logprobs")) if top_logprobs > 0 else None,
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise LLMError(f"malformed LLM response: {exc!r}", backend=self.name) from exc

    def stream(
        self,
        *,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        """Yield text pieces from the server's SSE stream (``data:`` lines until ``[DONE]``)."""
        body = self._body(messages, max_tokens, temperature, stop=stop, stream=True)
        response = self._send(body, stream=True)
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                event = _json(payload.encode("utf-8"), self.name)
                if "error" in event:
                    raise LLMError(f"LLM server error: {event['error']}", backend=self.name)
                try:
                    piece = (event["choices"][0].get("delta") or {}).get("content")
                except (KeyError, IndexError, TypeError, AttributeError) as exc:
                    raise LLMError(f"malformed LLM stream event: {exc!r}", backend=self.name) from exc
                if piece:
                    yield piece
        except httpx.HTTPError as exc:
            raise LLMError(f"LLM stream broke: {exc!r}", backend=self.name) from exc
        finally:
            response.close()
        raise LLMError("LLM stream ended without [DONE]", backend=self.name)


def _json(content: bytes, backend: str) -> Any:
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise LLMError(f"malformed LLM response (not JSON): {content[:200]!r}", backend=backend) from exc
    if not isinstance(data, dict):
        raise LLMError("malformed LLM response (not an object)", backend=backend)
    return data


def _openai_logprobs(block: Any) -> tuple[TokenLogprob, ...] | None:
    if not block or not block.get("content"):
        return None
    return tuple(
        TokenLogprob(
            str(item["token"]),
            float(item["logprob"]),
            tuple((str(t["token"]), float(t["logprob"])) for t in item.get("top_logprobs") or []),
        )
        for item in block["content"]
    )
