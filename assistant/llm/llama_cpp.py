"""The in-process backend of the ``LLM`` protocol: a GGUF run by llama-cpp-python (default: the
bundled SmolLM2-135M-Instruct; the chat template is read from the GGUF).

"Loaded once per process and shared": :func:`~assistant.llm.backends.create_llm` returns a new
instance and keeps no reference to it. The composition root (``Services``) creates it once and
passes the same instance to every component; nothing here caches a model in a module global.
It is safe to call from several threads: llama.cpp contexts are not re-entrant, so
:class:`LlamaCppLLM` serialises calls on a lock.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.llm.protocol import (
    ChatMessage,
    Completion,
    LLMError,
    TokenLogprob,
    check_request,
    finish_reason,
)
from core.bundled_models import llm_path
from core.config import LLMSettings
from core.errors import ConfigError, InvalidArgumentsError

log = logging.getLogger(__name__)

_GRAMMAR_CACHE_SIZE = 32  # validated grammars kept per model, by text


class _LogprobRecorder:
    """A llama.cpp logits processor that records each sampled token's raw log-probability.

    It sees the raw logits of step k before the grammar and the sampler run; the token chosen at
    step k is the last input id at step k+1. This avoids ``logits_all=True``, which keeps logits
    for every prompt token and made a grammar-bound command about three times slower.
    """

    def __init__(self, n_vocab: int, top: int) -> None:
        self._n_vocab = n_vocab
        self._top = top
        self._pending: tuple[np.ndarray, list[tuple[int, float]]] | None = None
        self.steps: list[tuple[int, float, list[tuple[int, float]]]] = []

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self._pending is not None and len(input_ids):
            logprobs, best = self._pending
            token = int(input_ids[-1])
            self.steps.append((token, float(logprobs[token]), best))
        self._pending = None
        if scores.shape[0] == self._n_vocab:
            peak = float(scores.max())
            logprobs = scores - (peak + float(np.log(np.exp(scores - peak).sum())))
            ids = np.argpartition(logprobs, -self._top)[-self._top :]
            best = sorted(((int(i), float(logprobs[i])) for i in ids), key=lambda item: -item[1])
            self._pending = (logprobs, best)
        return scores

    def tokens(self, llama: Any) -> tuple[TokenLogprob, ...]:
        def text(token: int) -> str:
            return str(llama.detokenize([token]).decode("utf-8", errors="replace"))

        return tuple(
            TokenLogprob(text(token), logprob, tuple((text(i), lp) for i, lp in best))
            for token, logprob, best in self.steps
        )


def default_threads() -> int:
    """llama.cpp's threads when ``llm.n_threads`` is unset: every core but one (at least one).

    The model shares the machine with the rules, the web server and the customers' sockets.
    llama.cpp's threads wait for each other at every step, so one that loses its core to another
    process stalls them all: on 2 cores busy with other work, an 80-token reply took 20.5 s with
    2 threads and 2.1 s with 1 (``shopassist bench web --llm`` on 2 cores; see README).
    """
    return max(1, (os.cpu_count() or 1) - 1)


class LlamaCppLLM:
    """A GGUF model run in process by llama-cpp-python, with the chat template from the GGUF."""

    def __init__(
        self,
        *,
        model_path: Path,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int = 0,
        prompt_cache_bytes: int = 64 << 20,
    ) -> None:
        """``prompt_cache_bytes``: RAM for saved llama.cpp states (0: none). Each call resumes
        from the saved state sharing the longest prefix with its prompt, so the command prompt's
        long few-shot prefix is evaluated once even when phrasing calls come in between (about
        3 MB per state for SmolLM2-135M)."""
        from llama_cpp import Llama, LlamaRAMCache

        self.model_path = Path(model_path)
        threads = n_threads or default_threads()
        if not self.model_path.is_file():
            raise ConfigError(f"no GGUF file at {self.model_path}", key="llm.model_path")
        try:
            self._llama = Llama(
                model_path=str(self.model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=n_gpu_layers,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"llama.cpp could not load {self.model_path}: {exc}", key="llm.model_path"
            ) from exc
        if prompt_cache_bytes > 0:
            self._llama.set_cache(LlamaRAMCache(capacity_bytes=prompt_cache_bytes))
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self._closed = False

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> LlamaCppLLM:
        return cls(
            model_path=llm_path(settings.model_path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            n_gpu_layers=settings.n_gpu_layers,
            seed=settings.seed,
        )

    @property
    def name(self) -> str:
        return f"llama_cpp:{self.model_path.name}"

    @property
    def n_ctx(self) -> int:
        return int(self._llama.n_ctx())

    def close(self) -> None:
        """Free the model now (otherwise at garbage collection, which can fail at interpreter exit)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._llama.close()

    def _grammar(self, text: str) -> Any:
        """A LlamaGrammar for ``text``, validated once and cached by its text.

        llama-cpp-python parses the grammar only when sampling starts and crashes on a NULL
        sampler, so the grammar is parsed here first and a bad one is rejected.
        """
        import llama_cpp

        cached = self._grammars.get(text)
        if cached is not None:
            return cached
        vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, text.encode("utf-8"), b"root")
        if not sampler:
            raise InvalidArgumentsError("the GBNF grammar does not parse", errors=[{"loc": "grammar"}])
        llama_cpp.llama_sampler_free(sampler)
        if len(self._grammars) >= _GRAMMAR_CACHE_SIZE:
            self._grammars.pop(next(iter(self._grammars)))
        grammar = llama_cpp.LlamaGrammar.from_string(text, verbose=False)
        self._grammars[text] = grammar
        return grammar

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
        from llama_cpp import LogitsProcessorList

        check_request(messages, max_tokens, temperature)
        with self._lock:
            compiled = self._grammar(grammar) if grammar is not None else None
            recorder = _LogprobRecorder(self._llama.n_vocab(), top_logprobs) if top_logprobs > 0 else None
            result = self._create(
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                grammar=compiled,
                stop=stop or [],
                logits_processor=LogitsProcessorList([recorder]) if recorder else None,
            )
            tokens = recorder.tokens(self._llama) if recorder is not None else None
        choice = result["choices"][0]
        usage = result["usage"]
        return Completion(
            text=choice["message"]["content"] or "",
            finish_reason=finish_reason(choice["finish_reason"]),
            prompt_tokens=int(usage["prompt_tokens"]),
            completion_tokens=int(usage["completion_tokens"]),
            logprobs=tokens,
        )

    def stream(
        self,
        *,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as they are generated.

        The model's lock is held until the generator is exhausted or closed, so consume it fully
        or call ``close()`` on it.
        """
        check_request(messages, max_tokens, temperature)
        with self._lock:
            chunks = self._create(
                messages, max_tokens=max_tokens, temperature=temperature, stop=stop or [], stream=True
            )
            try:
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            except (ValueError, RuntimeError) as exc:
                raise LLMError(f"llama.cpp failed: {exc}", backend=self.name) from exc

    def _create(self, messages: list[ChatMessage], **options: Any) -> Any:
        if self._closed:
            raise LLMError("the model is closed", backend=self.name)
        try:
            return self._llama.create_chat_completion(messages=[dict(m) for m in messages], **options)  # type: ignore[misc]
        except (ValueError, RuntimeError) as exc:  # e.g. the prompt does not fit the context window
            raise LLMError(f"llama.cpp failed: {exc}", backend=self.name) from exc
