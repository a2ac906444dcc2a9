"""Builds the configured ``LLM`` backend (``llm.backend``): llama.cpp in process, or an
OpenAI-compatible server."""

from __future__ import annotations

import logging
from collections.abc import Callable

from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.llm.protocol import LLM
from core.config import LLMSettings
from core.errors import UnknownNameError

log = logging.getLogger(__name__)


def _openai_backend(settings: LLMSettings) -> LLM:
    from assistant.llm.openai_compatible import OpenAICompatibleLLM

    return OpenAICompatibleLLM.from_settings(settings)


_BACKENDS: dict[str, Callable[[LLMSettings], LLM]] = {
    "llama_cpp": LlamaCppLLM.from_settings,
    "openai": _openai_backend,
}


def create_llm(settings: LLMSettings) -> LLM | None:
    """The configured backend, or None when ``llm.enabled`` is false.

    Builds a new instance each call (loading a GGUF takes time and memory): call it once at
    start-up and share the result.
    """
    if not settings.enabled:
        return None
    try:
        factory = _BACKENDS[settings.backend]
    except KeyError:
        raise UnknownNameError("LLM backend", settings.backend, _BACKENDS) from None
    llm = factory(settings)
    log.info("llm loaded", extra={"llm": llm.name})
    return llm
