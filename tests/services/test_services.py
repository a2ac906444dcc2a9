"""The composition root builds what its flags ask for, once, and says clearly what it did not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.engine import Assistant
from core.config import Settings, SpeechSettings
from core.errors import ConfigError
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services
from support.desk import SupportDesk


def test_without_the_dialogue_there_is_no_assistant_and_asking_says_so(services: Services) -> None:
    assert services.assistant is None and services.desk is None and services.index is None
    assert services.executor.search is None  # tools fall back to SQL
    with pytest.raises(ConfigError, match="with_dialogue"):
        services.require_assistant()


@pytest.mark.slow
def test_the_dialogue_brings_the_assistant_desk_and_an_index_for_the_tools(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    off = settings.model_copy(update={"llm": settings.llm.model_copy(update={"enabled": False})})
    built = Services.from_settings(off, with_dialogue=True, embedder=embedder)
    try:
        assert isinstance(built.require_assistant(), Assistant)
        assert isinstance(built.desk, SupportDesk)
        assert built.llm is None and built.voice is None
        assert built.index is not None and built.index.embedder is embedder
        assert built.executor.search is not None
    finally:
        built.close()


@pytest.mark.slow
def test_a_voice_channel_that_cannot_load_is_logged_and_the_rest_still_serves(
    settings: Settings,
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = settings.model_copy(
        update={
            "llm": settings.llm.model_copy(update={"enabled": False}),
            "speech": SpeechSettings(model_path=tmp_path / "no-model"),
        }
    )
    with caplog.at_level(logging.ERROR, logger="services"):
        built = Services.from_settings(broken, with_voice=True, embedder=embedder)
    try:
        assert built.voice is None
        assert built.assistant is not None  # with_voice implies the dialogue, which loaded
        assert "speech API off" in caplog.text and "no-model" in caplog.text
    finally:
        built.close()
