"""What every evaluation shop needs once before its copies run: the search index built."""

from __future__ import annotations

from core.config import Settings
from retrieval.embeddings import Embedder
from services import Services


def build_index(settings: Settings, *, embedder: Embedder) -> None:
    """Build the search index of the shop ``settings`` point at (its store already filled), so
    each copy of the data directory starts with it."""
    built = Services.from_settings(settings, with_index=True, embedder=embedder)
    try:
        if built.index is not None:
            built.index.ensure_ready()
    finally:
        built.close()
