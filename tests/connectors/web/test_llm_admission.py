"""Admission control over HTTP with the bundled model: while another conversation holds the model
past ``llm.queue_budget_ms``, a chat turn answers with the checked template and
``/metrics`` counts the refused call; with the model free, the model phrases (and the grounding
check decides what is sent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.llm.protocol import ChatMessage
from assistant.sessions.events import BotReply
from assistant.sessions.shown import ReplySource
from connectors.web.app import create_app
from eval.dialogue.runner import ScenarioHarness
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services

pytest_plugins = ("tests.assistant.llm.stub_server",)

HELLO: list[ChatMessage] = [{"role": "user", "content": "Say hello."}]
QUESTION = {"message": "how much is the arc desk lamp?"}


@pytest.fixture(scope="module")
def llm_harness(
    embedder: SentenceTransformerEmbedder, harness: ScenarioHarness, llm: LlamaCppLLM
) -> Iterator[ScenarioHarness]:
    built = ScenarioHarness(embedder=embedder, llm=llm, matcher=harness.matcher)
    yield built
    built.close()


@pytest.fixture
def shop(llm_harness: ScenarioHarness) -> Iterator[Services]:
    with llm_harness.assistant() as (_assistant, services):
        yield services


def _metric(text: str, line_start: str) -> float:
    (value,) = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    return value


def test_a_busy_model_answers_with_the_template_and_is_counted(shop: Services) -> None:
    gate = shop.llm_gate
    assert gate is not None and gate.budget_seconds == 0.3  # llm.queue_budget_ms's default
    with TestClient(create_app(shop.settings, services=shop)) as client:
        held = gate.stream(messages=HELLO, max_tokens=8)  # a real llama.cpp call, admitted, unread
        try:
            busy = client.post("/api/v1/chat", json=QUESTION)
        finally:
            held.close()
        assert busy.status_code == 200, busy.text
        body = busy.json()
        free = client.post(
            "/api/v1/chat", json=QUESTION, headers={"Authorization": f"Bearer {body['session_token']}"}
        )
        assert free.status_code == 200, free.text
        metrics = client.get("/metrics").text

    assert _metric(metrics, 'shopassist_llm_refused_total{call="stream"}') == 1.0
    assert _metric(metrics, 'shopassist_llm_admitted_total{call="stream"}') == 2.0  # held + free turn
    assert _metric(metrics, 'shopassist_llm_refused_total{call="chat"}') == 0.0
    assert shop.sessions is not None
    replies = [
        e.event for e in shop.sessions.events(session_id=body["session_id"]) if isinstance(e.event, BotReply)
    ]
    assert len(replies) == 2 and all(r.template == "price_answer" for r in replies)
    assert replies[0].source is ReplySource.TEMPLATE and replies[0].text == body["reply"]
    assert "$45.00" in body["reply"]
    # The free turn was phrased by the model; what was sent is its grounded rewrite or the template.
    if replies[1].source is ReplySource.LLM:
        assert "45.00" in replies[1].text and replies[1].text != body["reply"]
    else:
        assert replies[1].text == body["reply"]
