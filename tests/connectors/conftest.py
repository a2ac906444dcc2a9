"""Shared by every connector's tests: the fixture shop with the real dialogue engine (rules
only: fast and deterministic), built once per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eval.dialogue.runner import ScenarioHarness
from retrieval.embeddings import SentenceTransformerEmbedder


@pytest.fixture(scope="module")
def harness(embedder: SentenceTransformerEmbedder) -> Iterator[ScenarioHarness]:
    built = ScenarioHarness(embedder=embedder, llm=None)
    yield built
    built.close()
