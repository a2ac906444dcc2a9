"""Schemathesis fuzzes every operation of the API from the app's own OpenAPI schema: valid and
invalid bodies, parameters and headers, a bounded number of examples each. No input may get a
5xx, and every status answered must be one the schema documents for the operation.

The app is the fixture shop's (rules only) with a logged-in support agent, so the agent routes
are reached past their login; rate limits are raised so the fuzzer reaches the handlers rather
than 429. The speech route needs the Whisper model and runs in its own test (marker ``speech``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from connectors.web.app import create_app
from speech.recognizer import WhisperRecognizer
from support.accounts import AgentAccounts
from tests.connectors.web.conftest import WebShop, add_voice

EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance]
PASSWORD = "a long fuzzing password"


def _unlimited(shop: WebShop) -> FastAPI:
    base = shop.services.settings
    web = base.web.model_copy(update={"rate_limit_per_session": "100000/minute", "rate_limit_per_ip": "100000/minute"})
    return create_app(base.model_copy(update={"web": web}), services=shop.services)


@pytest.fixture
def fuzzed(web_shop: WebShop) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """The app, started (its lifespan runs), and an agent's Authorization header."""
    AgentAccounts(web_shop.services.database).add("fuzz", PASSWORD)
    app = _unlimited(web_shop)
    with TestClient(app) as client:
        login = client.post("/api/v1/agent/login", json={"name": "fuzz", "password": PASSWORD})
        assert login.status_code == 200, login.text
        yield app, {"Authorization": f"Bearer {login.json()['token']}"}


@pytest.fixture
def api_schema(fuzzed: tuple[FastAPI, dict[str, str]]) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed[0])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(path="/api/v1/speech").parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error(case: schemathesis.Case, fuzzed: tuple[FastAPI, dict[str, str]]) -> None:
    headers = fuzzed[1] if case.path.startswith("/api/v1/agent/") and case.headers is None else None
    case.call_and_validate(checks=CHECKS, headers=headers)


@pytest.fixture
def speech_schema(web_shop: WebShop, recognizer: WhisperRecognizer) -> Iterator[schemathesis.BaseSchema]:
    add_voice(web_shop, recognizer)
    app = _unlimited(web_shop)
    with TestClient(app):
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


@schemathesis.pytest.from_fixture("speech_schema").include(path="/api/v1/speech").parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_upload_gets_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


def test_the_schema_documents_the_error_responses_and_the_session_id_format(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    chat = spec["paths"]["/api/v1/chat"]["post"]["responses"]
    for status in ("400", "401", "403", "409", "413", "422", "429", "503", "507"):
        assert chat[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    speech = spec["paths"]["/api/v1/speech"]["post"]["responses"]
    assert {"413", "415", "422"} <= set(speech)
    transcript = spec["paths"]["/api/v1/sessions/{session_id}"]["get"]
    (param,) = [p for p in transcript["parameters"] if p["name"] == "session_id"]
    assert param["schema"]["pattern"] == r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
