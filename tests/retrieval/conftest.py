"""A real search index (Chroma + tantivy + SQLite + the bundled MiniLM) over the fixture shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from retrieval.embeddings import SentenceTransformerEmbedder
from retrieval.index import SearchIndex
from services import Services

POLICY_PAGE = """# Returns

## Return window
You can return delivered items within 30 days of delivery for a full refund.

## Refunds
Refunds go back to the original payment method or to a gift card. Gift card refunds are immediate.

# Shipping

## Delivery times
Standard delivery takes 3 to 5 business days; express delivery takes 1 to 2 business days.
"""


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "returns.md").write_text(POLICY_PAGE)
    return folder


@pytest.fixture
def index_settings(settings: Settings, policy_dir: Path) -> Settings:
    return settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"policy_dirs": [policy_dir]})}
    )


@pytest.fixture
def indexed(index_settings: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[Services]:
    services = Services.from_settings(index_settings, with_index=True, embedder=embedder)
    assert services.index is not None
    services.index.ensure_ready()
    yield services
    services.close()


@pytest.fixture
def index(indexed: Services) -> SearchIndex:
    assert indexed.index is not None
    return indexed.index


@pytest.fixture
def database(indexed: Services):
    """The store whose listener feeds the index (not the plain fixture's second connection)."""
    return indexed.database
