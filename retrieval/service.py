"""Opens the search index described by the settings."""

from __future__ import annotations

import os

from core.bundled_models import embedding_path
from core.config import Settings
from core.files import private_dir
from retrieval.embeddings import Embedder, SentenceTransformerEmbedder
from retrieval.index import SCHEMA_VERSION, SearchIndex
from retrieval.repair import IndexRepair, open_parts
from store.db import Database


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        embedding_path(settings.embeddings.model_path),
        max_seq_length=settings.retrieval.max_seq_length,
        torch_threads=settings.embeddings.torch_threads,
        build_threads=settings.embeddings.build_threads or os.cpu_count() or 1,
        onnx_dir=settings.index_dir / "onnx" if settings.embeddings.query_backend == "onnx" else None,
    )


def open_search_index(
    settings: Settings, database: Database, *, embedder: Embedder | None = None
) -> SearchIndex:
    """The index under ``data_dir/index`` (or on the configured Chroma server).

    An index that cannot be opened is moved aside and opened empty (see ``retrieval.repair``);
    ``ensure_ready`` then rebuilds it."""
    embedder = embedder or load_embedder(settings)
    index_dir = private_dir(settings.index_dir)
    manifest = {"embedding_model": embedder.model_name, "schema_version": SCHEMA_VERSION}
    repair = IndexRepair(
        index_dir,
        lambda: open_parts(index_dir, settings.retrieval.chroma.url, manifest),
        keep=settings.retrieval.corrupt_copies_kept,
    )
    lexical, vectors = repair.open()
    return SearchIndex(
        database,
        embedder,
        vectors,
        lexical,
        settings=settings.retrieval,
        repair=repair,
        batch_size=settings.embeddings.batch_size,
    )
