from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app


def test_healthz_and_openapi(settings, services):
    with TestClient(create_app(settings, services=services)) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        spec = client.get("/openapi.json").json()
        assert "/healthz" in spec["paths"] and "/api/v1/tools" in spec["paths"]


def test_tools_endpoint_lists_schemas(settings, services):
    with TestClient(create_app(settings, services=services)) as client:
        tools = {t["name"]: t for t in client.get("/api/v1/tools").json()}
    assert tools["checkout"]["side_effect"] and tools["checkout"]["requires_auth"]
    assert "product_id" in tools["get_product"]["parameters"]["properties"]


@pytest.mark.slow
def test_app_builds_its_own_services_from_settings(settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.app.state.services.database.current_revision() is not None
