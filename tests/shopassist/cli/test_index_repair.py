"""`shopassist index --rebuild`, run as a real process, rebuilds any damaged index (it used to
crash with "file is not a database")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services
from tests.index_damage import DamagedShop
from tests.shop_fixture import PRODUCTS

REPO = Path(__file__).resolve().parents[3]


def write_config(shop: DamagedShop) -> Path:
    settings = shop.settings
    path = settings.data_dir.parent / "config.yaml"
    path.write_text(
        f"data_dir: {settings.data_dir}\n"
        "policy:\n  secret_key: cli-test-secret-0123456789\n"
        f"retrieval:\n  policy_dirs: [{settings.retrieval.policy_dirs[0]}]\n"
        "embeddings:\n  query_backend: torch\n"
        "logging:\n  level: WARNING\n"
    )
    return path


@pytest.mark.slow  # a process that loads torch and the embedding model per damage
def test_index_rebuild_succeeds_on_a_damaged_index(
    damaged: DamagedShop, embedder: SentenceTransformerEmbedder
):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopassist.cli.main",
            "--config",
            str(write_config(damaged)),
            "index",
            "--rebuild",
        ],
        cwd=REPO,  # this checkout's code, as the tests import it
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Rebuilt:" in proc.stdout and "Traceback" not in proc.stderr
    status = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert status["state"] == "ok" and status["products"] == len(PRODUCTS)
    assert "unreadable" in proc.stderr and "moved it aside" in proc.stderr  # logged, with where to
    assert len(damaged.corrupt_copies()) == 1

    # The rebuilt index opens as is and answers from its own retrievers.
    services = Services.from_settings(damaged.settings, with_index=True, embedder=embedder)
    try:
        index = services.index
        assert index is not None
        assert index.ensure_ready().startswith("up to date")
        hits = index.search_products("desk lamp")
        assert hits[0].product_id == "P-LAMP" and {"bm25", "dense"} <= set(hits[0].matched_by)
    finally:
        services.close()
