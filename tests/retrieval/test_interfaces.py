"""The index behind the tools, the HTTP API, the CLI and LangChain."""

from __future__ import annotations

import json

import pytest
import yaml
from fastapi.testclient import TestClient
from langchain_core.retrievers import BaseRetriever
from typer.testing import CliRunner

from connectors.web.app import create_app
from retrieval.filters import SearchFilters
from retrieval.langchain import ShopRetriever
from shopassist.cli.main import app as cli_app


def test_catalog_search_tool_uses_the_hybrid_index(indexed, anonymous):
    out = indexed.executor.run(
        "catalog_search", {"query": "runing shoes", "options": {"color": "blue"}, "limit": 3}, ctx=anonymous
    ).result
    assert out.engine == "hybrid"
    assert out.products[0].product_id == "P-SHOE" and out.products[0].snippet
    facts = {(f.kind.value, str(f.value)) for f in out.facts()}
    assert ("price", "79.99") in facts and ("id", "P-SHOE") in facts


def test_catalog_search_tool_falls_back_to_keywords_without_index(executor, anonymous):
    out = executor.run("catalog_search", {"query": "lamp"}, ctx=anonymous).result
    assert out.engine == "keyword" and [p.product_id for p in out.products] == ["P-LAMP"]


def test_policy_lookup_tool_cites_pages(indexed, anonymous):
    out = indexed.executor.run("policy_lookup", {"question": "how fast is express delivery?"}, ctx=anonymous)
    first = out.result.passages[0]
    assert (first.page, first.section) == ("Shipping", "Delivery times") and "1 to 2" in first.text


@pytest.mark.slow
def test_http_and_cli_return_the_same_results(indexed, index_settings, tmp_path):
    with TestClient(create_app(index_settings, services=indexed)) as client:
        response = client.get("/api/v1/catalog/search", params={"q": "running", "k": 5, "max_price": 50})
        assert response.status_code == 200
        over_http = response.json()
        assert client.get("/api/v1/catalog/search", params={"q": ""}).status_code == 422
        assert client.get("/api/v1/catalog/search", params={"q": "x", "k": 500}).status_code == 422
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(json.loads(index_settings.model_dump_json(exclude={"policy"}))))
    result = CliRunner().invoke(
        cli_app, ["--config", str(config), "search", "running", "--k", "5", "--max-price", "50", "--json"]
    )
    assert result.exit_code == 0, result.output
    over_cli = json.loads(result.stdout[result.stdout.index("{") :])
    assert over_cli == over_http
    assert [r["product_id"] for r in over_http["results"]] == ["P-SOCK"]
    assert over_http["filters"]["max_price"] == 50.0


def test_langchain_retriever_returns_documents(index):
    retriever = ShopRetriever(index=index, k=2, filters=SearchFilters(in_stock=True))
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("desk lamp")
    assert docs[0].id == "P-LAMP" and docs[0].metadata["min_price"] == 45.0
    assert "Arc Desk Lamp" in docs[0].page_content
    policies = ShopRetriever(index=index, kind="policies", k=1).invoke("refund to gift card")
    assert policies[0].metadata["page"] == "Returns"
