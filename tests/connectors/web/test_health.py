"""``/readyz``: ready (200) while the store, index, conversations and dialogue are up, with the
state of each optional part (LLM, speech, Telegram) and why it is degraded or off."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from connectors.web.app import create_app
from core.config import LLMSettings
from eval.dialogue.runner import ScenarioHarness
from tests.assistant.llm import openai_stand_in
from tests.servers import free_port

PRICE_QUESTION = "how much is the Arc Desk Lamp?"
"""Answered by a template the model rephrases (``price_answer``, ``phrase: true``)."""


def _components(client: TestClient) -> dict[str, Any]:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body: dict[str, Any] = ready.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"store": True, "index": True, "sessions": True, "dialogue": True}
    components: dict[str, Any] = body["components"]
    return components


def _wait_for_llm(client: TestClient, state: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (llm := _components(client)["llm"])["state"] != state:
        if time.monotonic() > deadline:
            raise AssertionError(f"llm stayed {llm}")
        time.sleep(0.05)
    return llm


def test_parts_not_configured_are_off_and_speech_not_loaded_is_degraded(client: TestClient) -> None:
    components = _components(client)
    assert components["llm"] == {"state": "off", "reason": "llm.enabled is false"}
    assert components["telegram"] == {"state": "off", "reason": "no bot token (telegram.token)"}
    # speech.enabled is true, but these services were built without the voice channel.
    assert components["speech"] == {"state": "degraded", "reason": "not loaded in this process"}
    spoken = client.post("/api/v1/speech", files={"audio": ("a.wav", b"RIFF", "audio/wav")})
    assert spoken.status_code == 503 and spoken.json()["error"]["code"] == "speech_unavailable"


def test_a_model_that_cannot_load_leaves_the_rules_answering(
    harness: ScenarioHarness, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00not a model" * 64)
    with harness.assistant(llm=LLMSettings(model_path=corrupt)) as (_assistant, services):
        assert services.llm is None
        with TestClient(create_app(services.settings, services=services)) as client:
            llm = _components(client)["llm"]
            assert llm["state"] == "degraded" and "corrupt.gguf" in llm["reason"]
            answer = client.post("/api/v1/chat", json={"message": "desk lamp"})
            assert answer.status_code == 200 and "Arc Desk Lamp" in answer.json()["reply"]


def test_an_llm_server_that_is_down_at_start_is_used_once_it_comes_up(harness: ScenarioHarness) -> None:
    port = free_port()
    settings = LLMSettings(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", probe_max_seconds=0.2)
    with (
        harness.assistant(llm=settings) as (_assistant, services),
        TestClient(create_app(services.settings, services=services)) as client,
    ):
        llm = _components(client)["llm"]
        assert llm["state"] == "degraded" and str(port) in llm["reason"]
        answer = client.post("/api/v1/chat", json={"message": PRICE_QUESTION})
        assert answer.status_code == 200 and "Arc Desk Lamp costs $" in answer.json()["reply"]
        with openai_stand_in.serve(port=port) as server:
            assert _wait_for_llm(client, "ok")["reason"] == ""
            answer = client.post("/api/v1/chat", json={"message": PRICE_QUESTION})
            assert answer.status_code == 200 and "Arc Desk Lamp" in answer.json()["reply"]
            assert server.requests, "the model is asked again once its server is back"
