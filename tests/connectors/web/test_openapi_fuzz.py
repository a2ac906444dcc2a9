"""Schemathesis fuzzes every operation of the API from the app's own OpenAPI schema: valid and
invalid bodies, parameters and headers, a bounded number of examples each. No input may get a
5xx, and every status answered must be one the schema documents for the operation.

The app is the fixture shop's (rules only) with a logged-in support agent, so the agent routes
are reached past their login; rate limits are raised so the fuzzer reaches the handlers rather
than 429. The speech route needs the Whisper model and runs in its own test (marker ``speech``).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from connectors.web.app import create_app
from core.config import Settings
from eval.dialogue.runner import ScenarioHarness
from services import Services
from speech.recognizer import WhisperRecognizer
from support.accounts import AgentAccounts
from tests.connectors.web.conftest import WebShop, add_voice
from tests.servers import serve_in_thread

EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance]
PASSWORD = "a long fuzzing password"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# The schema as the app serves it at /openapi.json (building the app reads no data: the services
# start with its lifespan). Schemathesis needs it when the tests are collected.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(policy={"secret_key": "schema-only-secret-0123456789"})).openapi()
)


def _unlimited(services: Services) -> FastAPI:
    base = services.settings
    web = base.web.model_copy(
        update={"rate_limit_per_session": "100000/minute", "rate_limit_per_ip": "100000/minute"}
    )
    return create_app(base.model_copy(update={"web": web}), services=services)


@pytest.fixture(scope="module")
def fuzzed(harness: ScenarioHarness) -> Iterator[tuple[str, dict[str, str]]]:
    """The fixture shop's app on a real uvicorn server, and a logged-in agent's Authorization
    header; one for all operations (the fuzzer's writes land in this copy of the shop only)."""
    with harness.assistant() as (_assistant, services):
        AgentAccounts(services.database).add("fuzz", PASSWORD)
        with serve_in_thread(_unlimited(services), name="fuzzed app") as url:
            login = httpx.post(f"{url}/api/v1/agent/login", json={"name": "fuzz", "password": PASSWORD})
            assert login.status_code == 200, login.text
            yield url, {"Authorization": f"Bearer {login.json()['token']}"}


@pytest.mark.slow
@schema.exclude(path="/api/v1/speech").parametrize()
@FUZZ
def test_no_input_gets_a_server_error(case: schemathesis.Case, fuzzed: tuple[str, dict[str, str]]) -> None:
    url, agent = fuzzed
    headers = agent if case.path.startswith("/api/v1/agent/") and not case.headers else None
    case.call_and_validate(base_url=url, checks=CHECKS, headers=headers)


@pytest.fixture
def voiced(web_shop: WebShop, recognizer: WhisperRecognizer) -> Iterator[str]:
    add_voice(web_shop, recognizer)
    with serve_in_thread(_unlimited(web_shop.services), name="fuzzed speech app") as url:
        yield url


@pytest.mark.slow
@schema.include(path="/api/v1/speech").parametrize()
@FUZZ
def test_no_upload_gets_a_server_error(case: schemathesis.Case, voiced: str) -> None:
    case.call_and_validate(base_url=voiced, checks=CHECKS)


def test_the_schema_documents_the_error_responses_and_the_session_id_format() -> None:
    spec = schema.raw_schema
    chat = spec["paths"]["/api/v1/chat"]["post"]["responses"]
    for status in ("400", "401", "403", "409", "413", "422", "429", "503", "507"):
        assert chat[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    speech = spec["paths"]["/api/v1/speech"]["post"]["responses"]
    assert {"413", "415", "422"} <= set(speech)
    transcript = spec["paths"]["/api/v1/sessions/{session_id}"]["get"]
    (param,) = [p for p in transcript["parameters"] if p["name"] == "session_id"]
    assert param["schema"]["pattern"] == r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
