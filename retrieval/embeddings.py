"""Text embeddings behind the ``Embedder`` protocol; the default is sentence-transformers.

The model is loaded once per :class:`SentenceTransformerEmbedder` and shared by the index;
query embeddings are cached (queries repeat: "headphones", "running shoes") and, with an
``onnx_dir``, queries and documents are computed by onnxruntime (:mod:`retrieval.onnx_query`,
~2.5x faster for a query, ~1.4x for build batches; the same vectors), else by torch.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.onnx_query import OnnxQueryEncoder, build_query_encoder

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
BUILD_BATCH = 16  # texts from which an encode counts as a build (more threads)
ONNX_BATCH = 16  # texts per onnxruntime batch in builds (measured faster than 64: less padding)


class Embedder(Protocol):
    @property
    def model_name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_documents(
        self, *, texts: Sequence[str], batch_size: int = 64, progress: ProgressFn | None = None
    ) -> np.ndarray: ...

    def embed_query(self, *, text: str) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model read from a local directory (never from a hub)."""

    def __init__(
        self,
        path: Path,
        *,
        max_seq_length: int = 256,
        cache_size: int = 2048,
        torch_threads: int | None = 1,
        onnx_dir: Path | None = None,
        build_threads: int | None = None,
    ) -> None:
        """``onnx_dir``: embed with onnxruntime, caching the exported model there
        (:mod:`retrieval.onnx_query`); None keeps everything on torch. ``build_threads``: threads
        while encoding batches of at least ``BUILD_BATCH`` texts (index builds)."""
        from sentence_transformers import SentenceTransformer

        if torch_threads is not None:
            import torch

            # One intra-op thread: a single query embeds in ~6-20 ms; with two threads and
            # another process on the second core it was measured at 500 ms (p50).
            torch.set_num_threads(torch_threads)
        self.path = Path(path)
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self._model.max_seq_length = max_seq_length
        self._name = f"{self.path.name}@{self._read_model_id()}"
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._build_threads = build_threads
        self._threads_lock = threading.Lock()
        self._onnx_dir = onnx_dir
        self._onnx: OnnxQueryEncoder | None = None
        self._onnx_ready = onnx_dir is None
        self._onnx_lock = threading.Lock()
        self._onnx_build: OnnxQueryEncoder | None = None
        self._onnx_build_ready = onnx_dir is None

    @property
    def query_backend(self) -> str:
        """``onnx`` or ``torch``: what embeds queries (decided at the first query)."""
        self._query_encoder()
        return "onnx" if self._onnx is not None else "torch"

    def _query_encoder(self) -> OnnxQueryEncoder | None:
        if not self._onnx_ready:
            with self._onnx_lock:
                if not self._onnx_ready and self._onnx_dir is not None:
                    self._onnx = build_query_encoder(self._model, self._onnx_dir, self._name)
                    self._onnx_ready = True
        return self._onnx

    def _build_encoder(self) -> OnnxQueryEncoder | None:
        """The ONNX encoder for index-build batches (``build_threads`` threads), if queries use ONNX."""
        if self._query_encoder() is None:
            return None
        if not self._onnx_build_ready:
            with self._onnx_lock:
                if not self._onnx_build_ready and self._onnx_dir is not None:
                    threads = self._build_threads or 1
                    self._onnx_build = build_query_encoder(
                        self._model, self._onnx_dir, self._name, threads=threads
                    )
                    self._onnx_build_ready = True
        return self._onnx_build

    def _read_model_id(self) -> str:
        # The bundled package stores the model under "model/"; name it by its config for the manifest.
        readme = self.path / "README.md"
        if readme.is_file() and "all-MiniLM-L6-v2" in readme.read_text(encoding="utf-8", errors="ignore"):
            return "all-MiniLM-L6-v2"
        return self.path.resolve().as_posix()

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter() or 0)

    def embed_documents(
        self, *, texts: Sequence[str], batch_size: int = 64, progress: ProgressFn | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        onnx = self._build_encoder() if len(texts) >= BUILD_BATCH else self._query_encoder()
        if onnx is not None:
            return self._encode_onnx(onnx, texts, progress)
        if self._build_threads and len(texts) >= BUILD_BATCH:
            import torch

            with self._threads_lock:
                before = torch.get_num_threads()
                torch.set_num_threads(self._build_threads)
                try:
                    return self._encode_batches(texts, batch_size, progress)
                finally:
                    torch.set_num_threads(before)
        return self._encode_batches(texts, batch_size, progress)

    @staticmethod
    def _encode_onnx(
        encoder: OnnxQueryEncoder, texts: Sequence[str], progress: ProgressFn | None
    ) -> np.ndarray:
        """Batches of similar length (less padding), vectors back in the input order."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), ONNX_BATCH):
            rows = order[start : start + ONNX_BATCH]
            vectors = encoder.encode_batch([texts[i] for i in rows])
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            if progress is not None:
                progress(min(start + ONNX_BATCH, len(texts)), len(texts))
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def _encode_batches(
        self, texts: Sequence[str], batch_size: int, progress: ProgressFn | None
    ) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            parts.append(
                self._model.encode(
                    batch, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
                )
            )
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return np.vstack(parts).astype(np.float32)

    def embed_query_uncached(self, *, text: str) -> np.ndarray:
        """The query vector computed now (ONNX or torch), never from the cache (benchmarks)."""
        key = " ".join(text.lower().split())
        encoder = self._query_encoder()
        if encoder is not None:
            return encoder.encode(key)
        vector = self._model.encode([key], normalize_embeddings=True, show_progress_bar=False)[0]
        return vector.astype(np.float32)

    def embed_query(self, *, text: str) -> np.ndarray:
        key = " ".join(text.lower().split())
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        vector = self.embed_query_uncached(text=key)
        with self._lock:
            self._cache[key] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector
