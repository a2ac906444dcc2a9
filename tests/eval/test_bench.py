"""The benchmark's code path on a tiny catalog (no speed thresholds: this machine is shared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import eval.retrieval.bench as bench
from eval.retrieval.bench import BenchReport, SizeReport, UncachedQueries, pick_queries
from eval.retrieval.labels import load_queries
from retrieval.embeddings import SentenceTransformerEmbedder
from shopassist.cli.bench import _print_bench
from shopassist.cli.main import app
from tests.eval.conftest import small_settings

POSITIVE = (
    "build_seconds",
    "build_products_per_second",
    "query_p50_ms",
    "query_p95_ms",
    "query_mean_ms",
    "cached_query_p50_ms",
    "embed_p50_ms",
    "update_price_p50_ms",
    "update_title_p50_ms",
    "delete_p50_ms",
)


@pytest.mark.slow
def test_bench_cli_on_a_tiny_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder
) -> None:
    monkeypatch.setattr(bench, "load_embedder", lambda settings: embedder)
    settings = small_settings(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data_dir: {settings.data_dir}\nretrieval:\n  policy_dirs: [{settings.retrieval.policy_dirs[0]}]\n"
        "logging:\n  level: WARNING\n",
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    args = [
        "bench",
        "retrieval",
        "--products",
        "60",
        "--queries",
        "4",
        "--timings",
        "6",
        "--repetitions",
        "2",
    ]
    args += ["--work-dir", str(work)]
    result = CliRunner().invoke(app, ["--config", str(config), *args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["targets_ms"] == {"query_p50": 25.0, "query_p95": 60.0, "one_product_update": 100.0}
    (size,) = data["sizes"]
    assert size["products"] == 60 and size["variants"] >= 60
    assert size["distinct_queries"] == 4 and size["query_timings"] >= 6
    assert size["update_repetitions"] == 2
    for name in POSITIVE:
        assert size[name] > 0, name
    assert [c["name"] for c in size["checks"]][:2] == ["hybrid query p50", "hybrid query p95"]
    assert all(isinstance(c["passed"], bool) for c in size["checks"])
    assert list(work.iterdir()) == []  # the temporary data dir is gone
    assert not (settings.data_dir / "shop.db").exists()  # the configured store is not touched
    assert size["kept_at"] is None

    kept = CliRunner().invoke(app, ["--config", str(config), *args, "--keep", "--json"])
    assert kept.exit_code == 0, kept.output
    kept_at = Path(json.loads(kept.stdout)["sizes"][0]["kept_at"])
    assert kept_at.parent == work and (kept_at / "shop.db").is_file()
    assert (kept_at / "index" / "keywords").is_dir() and (kept_at / "index" / "chroma").is_dir()

    # --reuse times that shop again without building it.
    before = (kept_at / "index" / "keyword.db").stat().st_mtime_ns
    again = CliRunner().invoke(app, ["--config", str(config), *args, "--reuse", str(kept_at), "--json"])
    assert again.exit_code == 0, again.output
    (reused,) = json.loads(again.stdout)["sizes"]
    assert reused["kept_at"] == str(kept_at) and reused["build_seconds"] is None
    assert reused["generate_seconds"] is None and reused["build_products_per_second"] is None
    assert reused["products"] == 60 - 2, "the first run's update timings deleted two products"
    assert reused["query_timings"] >= 6 and reused["query_p95_ms"] > 0 and reused["delete_p50_ms"] > 0
    assert (kept_at / "index" / "keyword.db").stat().st_mtime_ns >= before
    assert sorted(p.name for p in work.iterdir()) == [kept_at.name], "no new shop was made"
    printed = CliRunner().invoke(app, ["--config", str(config), *args, "--reuse", str(kept_at)])
    assert printed.exit_code == 0 and "reused, nothing was built" in " ".join(printed.stdout.split())
    not_a_shop = CliRunner().invoke(app, ["--config", str(config), *args, "--reuse", str(work)])
    assert not_a_shop.exit_code == 2
    assert "not a kept benchmark shop" in " ".join(not_a_shop.output.replace("│", " ").split())


def test_uncached_queries_give_the_cached_vectors(embedder: SentenceTransformerEmbedder) -> None:
    uncached = UncachedQueries(embedder)
    assert uncached.model_name == embedder.model_name and uncached.dimension == embedder.dimension
    text = "  Waterproof   JACKET size M "
    assert np.allclose(uncached.embed_query(text=text), embedder.embed_query(text=text), atol=1e-5)


def test_pick_queries_spreads_over_the_set() -> None:
    specs = load_queries()
    picked = pick_queries(specs, 6)
    assert len(picked) == 6 and len({s.type for s in picked}) >= 4
    assert pick_queries(specs, None) == specs and pick_queries(specs, 10_000) == specs


def _size(**overrides: float) -> SizeReport:
    values: dict[str, Any] = {
        "products": 2000,
        "variants": 8000,
        "generate_seconds": 2.0,
        "distinct_queries": 10,
        "query_timings": 200,
        "update_repetitions": 20,
        **dict.fromkeys(POSITIVE, 10.0),
        **overrides,
    }
    return SizeReport(**values)


def test_targets_pass_or_miss(capsys: pytest.CaptureFixture[str]) -> None:
    size = _size(query_p50_ms=24.9, query_p95_ms=60.0, update_title_p50_ms=150.0)
    verdicts = {c.name: c.passed for c in size.checks()}
    assert verdicts == {
        "hybrid query p50": True,
        "hybrid query p95": False,  # the target is strictly below 60 ms
        "update: price (p50)": True,
        "update: title, re-embed (p50)": False,
        "update: delete (p50)": True,
    }
    _print_bench(BenchReport(embedding_model="model", cpu_count=2, sizes=[size]))
    printed = capsys.readouterr().out
    assert "PASS" in printed and "MISS" in printed and "2,000" in printed
