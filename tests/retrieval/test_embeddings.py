"""Build-time threads: batch encodes use ``build_threads`` and leave torch as they found it."""

from __future__ import annotations

import numpy as np
import torch

from core.bundled_models import bundled_embedding_path
from retrieval.embeddings import BUILD_BATCH, SentenceTransformerEmbedder


def test_batches_use_build_threads_and_restore_the_setting(monkeypatch) -> None:
    embedder = SentenceTransformerEmbedder(bundled_embedding_path(), torch_threads=1, build_threads=2)
    seen: list[int] = []
    encode = embedder._model.encode

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return encode(*args, **kwargs)

    monkeypatch.setattr(embedder._model, "encode", spy)
    texts = [f"product number {i}" for i in range(BUILD_BATCH)]
    vectors = embedder.embed_documents(texts=texts)
    assert vectors.shape == (BUILD_BATCH, embedder.dimension) and vectors.dtype == np.float32
    assert seen and set(seen) == {2}
    assert torch.get_num_threads() == 1
    seen.clear()
    embedder.embed_documents(texts=texts[:2])  # a one-product re-embed stays on one thread
    assert seen == [1]
