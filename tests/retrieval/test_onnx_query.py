"""The ONNX query encoder: same vectors as the torch pipeline, exported once, safe fallbacks."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from core.bundled_models import bundled_embedding_path
from retrieval.embeddings import SentenceTransformerEmbedder
from retrieval.onnx_query import build_query_encoder, cache_name

QUERIES = ["red running shoes under 80", "insulated water bottle", "do you ship to Hawaii?", "x" * 600]


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(bundled_embedding_path(), onnx_dir=tmp_path_factory.mktemp("onnx"))


@pytest.mark.slow
def test_onnx_queries_match_torch(onnx_embedder: SentenceTransformerEmbedder, embedder) -> None:
    assert onnx_embedder.query_backend == "onnx"
    for query in QUERIES:
        fast = onnx_embedder.embed_query(text=query)
        slow = embedder.embed_query(text=query)
        assert fast.dtype == np.float32 and fast.shape == slow.shape
        assert float(fast @ slow) > 0.9999, query


@pytest.mark.slow
def test_the_export_is_cached_and_reused(tmp_path: Path, embedder) -> None:
    model = embedder._model
    first = build_query_encoder(model, tmp_path, "some-model")
    target = tmp_path / cache_name("some-model")
    assert first is not None and target.is_file()
    stamp = target.stat().st_mtime_ns
    again = build_query_encoder(model, tmp_path, "some-model")
    assert again is not None and target.stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob("*.partial"))


def test_a_corrupt_cached_file_falls_back_to_torch(tmp_path: Path, embedder, caplog) -> None:
    (tmp_path / cache_name("broken")).write_bytes(b"not an onnx model")
    with caplog.at_level(logging.WARNING, logger="retrieval.onnx_query"):
        assert build_query_encoder(embedder._model, tmp_path, "broken") is None
    assert "unusable" in caplog.text
    assert not (tmp_path / cache_name("broken")).exists()  # removed, so the next start re-exports


def test_without_onnx_dir_queries_stay_on_torch(embedder) -> None:
    assert embedder.query_backend == "torch"


def test_documents_embed_with_onnx_in_input_order_and_match_torch(
    onnx_embedder: SentenceTransformerEmbedder, embedder
) -> None:
    texts = [f"{'merino wool ' * (i % 7)}product number {i} with a description" for i in range(40)]
    seen: list[tuple[int, int]] = []
    fast = onnx_embedder.embed_documents(texts=texts, progress=lambda done, total: seen.append((done, total)))
    slow = embedder.embed_documents(texts=texts)
    assert onnx_embedder._build_encoder() is not None, "builds use the ONNX batch encoder"
    assert fast.shape == slow.shape and fast.dtype == np.float32
    agreement = np.sum(fast * slow, axis=1)
    assert float(agreement.min()) > 0.9999  # the same vector for each text, in the input order
    assert seen[-1] == (40, 40) and len(seen) == 3
    one = onnx_embedder.embed_documents(texts=texts[:1])
    assert float(one[0] @ slow[0]) > 0.9999
