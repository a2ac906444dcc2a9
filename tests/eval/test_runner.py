"""The eval runner and `shopassist eval retrieval` on a small demo shop (150 products)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import retrieval.service
from core.config import Settings
from eval.retrieval.runner import EVAL_MODES, EvalNotReadyError, run_retrieval_eval
from retrieval.embeddings import SentenceTransformerEmbedder
from shopassist.cli.main import app
from tests.eval.conftest import small_settings

QUERIES = {
    "queries": [
        {
            "id": "shoes",
            "type": "typo",
            "query": "runnign shoes",
            "relevant": [{"grade": 3, "category": "Running Shoes"}],
        },
        {"id": "tee", "type": "synonym", "query": "tee", "relevant": [{"grade": 3, "category": "T-Shirts"}]},
        {
            "id": "tent+f",
            "type": "attribute",
            "query": "camping tent",
            "filters": {"category": "Tents"},
            "relevant": [{"grade": 3, "category": "Tents"}],
        },
        {"id": "sku", "type": "id", "id_lookup": "sku", "pick": 7},
        {"id": "product", "type": "id", "id_lookup": "product", "pick": 3},
        {"id": "nowhere", "type": "brand", "query": "Acme", "relevant": [{"grade": 3, "brand": "Acme"}]},
    ]
}


@pytest.fixture(scope="module")
def query_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("queries") / "queries.yaml"
    path.write_text(yaml.safe_dump(QUERIES), encoding="utf-8")
    return path


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder) -> None:
    """Commands load the embedding model themselves; hand them the session's instead."""
    monkeypatch.setattr(retrieval.service, "load_embedder", lambda settings: embedder)


@pytest.mark.slow
def test_report_for_the_three_modes(
    small_shop: Settings, query_file: Path, embedder: SentenceTransformerEmbedder
) -> None:
    steps: list[str] = []
    report = run_retrieval_eval(
        small_shop,
        query_file=query_file,
        embedder=embedder,
        progress=lambda stage, done, total: steps.append(stage),
    )
    assert [mode.mode for mode in report.modes] == list(EVAL_MODES) == ["bm25", "dense", "hybrid"]
    assert report.products == 150 and report.k == 10
    assert report.queries == 5 and report.skipped == ["nowhere"]  # no Acme products in the demo shop
    assert report.queries_by_type == {"typo": 1, "synonym": 1, "attribute": 1, "id": 2}
    assert "products" in steps and "eval hybrid" in steps  # the index was built, then queried
    for mode in report.modes:
        for value in (mode.overall.recall, mode.overall.mrr, mode.overall.ndcg):
            assert 0.0 <= value <= 1.0
        assert set(mode.by_type) == set(report.queries_by_type)
        assert mode.mean_query_ms > 0
    # Hybrid search puts an exact id/SKU match first; the judgments point at the same product.
    assert report.mode("hybrid").by_type["id"].mrr == 1.0
    assert len(report.results) == 5 * 3
    data = report.to_dict()
    assert set(data["modes"]) == {"bm25", "dense", "hybrid"}
    assert {"recall", "mrr", "ndcg", "mean_query_ms", "by_type"} <= set(data["modes"]["hybrid"])
    assert len(data["per_query"]) == 15 and data["relevant_grade"] == 2
    json.dumps(data)  # serializable as is


@pytest.mark.slow
def test_cli_eval_retrieval(
    small_shop: Settings, query_file: Path, tmp_path: Path, shared_model: None
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(json.loads(small_shop.model_dump_json(include={"data_dir", "retrieval", "logging"}))),
        encoding="utf-8",
    )
    runner = CliRunner()
    base = ["--config", str(config), "eval", "retrieval", "--queries", str(query_file)]
    as_json = runner.invoke(app, [*base, "--json", "--k", "5"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["k"] == 5 and data["queries"] == 5 and set(data["modes"]) == {"bm25", "dense", "hybrid"}
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    for text in (
        "recall@10",
        "MRR@10",
        "nDCG@10",
        "bm25",
        "dense",
        "hybrid",
        "By query type",
        "typo",
        "skipped",
    ):
        assert text in table.output


def test_refuses_an_empty_store(tmp_path: Path) -> None:
    settings = small_settings(tmp_path)
    with pytest.raises(EvalNotReadyError, match="shopassist demo-data"):
        run_retrieval_eval(settings)
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {settings.data_dir}\nlogging:\n  level: WARNING\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(config), "eval", "retrieval"])
    assert isinstance(result.exception, EvalNotReadyError)


def test_help() -> None:
    runner = CliRunner()
    for command in (["eval", "retrieval"], ["bench", "retrieval"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
