"""``llm.backend: openai`` against a real llama.cpp server: llama-cpp-python's own OpenAI-compatible
server (``python -m llama_cpp.server``, the ``server`` extra) serving the bundled GGUF, started as
a separate process by the ``llama_server`` fixture (tests/conftest.py).

The same model also runs in process (the ``llm`` fixture); with greedy decoding both must say
the same thing, so the in-process answer is the expected one: a difference means the backend
asks the server for something else than the in-process call (it did: the server's default
repeat penalty of 1.1 changed both the phrasing and the command proposal below until the
backend asked for 1.0; checked by removing it again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from assistant.engine import Assistant, StreamText
from assistant.llm.commands import CommandContext, parse_command, propose_command
from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.llm.openai_compatible import OpenAICompatibleLLM
from assistant.llm.phrasing import phrase_messages
from assistant.llm.protocol import ChatMessage, LLMError
from assistant.reply.message import Reply
from core.config import LLMSettings
from core.health import ComponentState
from eval.dialogue.runner import ScenarioHarness
from tests.servers import LlamaServer

pytest_plugins = ("tests.assistant.llm.stub_server",)  # the in-process model (`llm`)
pytestmark = pytest.mark.slow  # the `llm` marker comes with the fixtures

PHRASE = phrase_messages(
    facts=["Arc Desk Lamp costs $45.00", "Arc Desk Lamp is in stock"],
    draft="The Arc Desk Lamp costs $45.00 and is in stock.",
    user_text="how much is the arc desk lamp?",
)
CONTEXT = CommandContext(flow_names=("return_order",), slot_names=("order_id",))
YES_NO = 'root ::= "yes" | "no"\n'


@pytest.fixture
def client(llama_server: LlamaServer) -> Iterator[OpenAICompatibleLLM]:
    server = llama_server
    built = OpenAICompatibleLLM(
        base_url=server.base_url, model=server.model, api_key=server.api_key, timeout_seconds=120
    )
    yield built
    built.close()


def test_phrasing_and_its_stream_match_the_model_in_process(
    client: OpenAICompatibleLLM, llm: LlamaCppLLM
) -> None:
    completion = client.chat(messages=PHRASE, max_tokens=24)
    assert completion.text == llm.chat(messages=PHRASE, max_tokens=24).text
    assert completion.prompt_tokens > 100 and 0 < completion.completion_tokens <= 24
    pieces = list(client.stream(messages=PHRASE, max_tokens=24))
    assert len(pieces) > 1, "the server's SSE stream reaches the caller token by token"
    assert "".join(pieces) == completion.text


def test_grammar_bound_command_proposals_match_the_model_in_process(
    client: OpenAICompatibleLLM, llm: LlamaCppLLM
) -> None:
    poem: list[ChatMessage] = [{"role": "user", "content": "Write a poem about shoes."}]
    assert client.chat(messages=poem, max_tokens=8, grammar=YES_NO).text in {"yes", "no"}
    # With the server's default repeat penalty this proposal differed ("question" echoed the
    # customer's words; in process it is another question and is refused as ungrounded).
    text = "do you have red running shoes under 80 dollars"
    served = propose_command(client, user_text=text, context=CONTEXT)
    local = propose_command(llm, user_text=text, context=CONTEXT)
    assert served.raw == local.raw
    parse_command(served.raw, flow_names=CONTEXT.flow_names, slot_names=CONTEXT.slot_names)
    # The server's log-probabilities are the raw model's too: the same decision probability.
    assert served.details["decision"] == pytest.approx(local.details["decision"], abs=1e-3)
    assert served.command == local.command and served.reason == local.reason


def test_the_server_wants_its_key(llama_server: LlamaServer, client: OpenAICompatibleLLM) -> None:
    anonymous = OpenAICompatibleLLM(base_url=llama_server.base_url, timeout_seconds=30)
    try:
        with pytest.raises(LLMError, match="HTTP 401"):
            anonymous.chat(messages=PHRASE, max_tokens=2)
    finally:
        anonymous.close()
    assert client.probe() is None


def _chat_requests(server: LlamaServer) -> int:
    return len(re.findall(r'"POST /v1/chat/completions HTTP/1.1" 200', server.log.read_text()))


def test_the_assistant_runs_on_the_server_behind_the_watch_and_the_gate(
    harness: ScenarioHarness, llama_server: LlamaServer
) -> None:
    """Services builds the backend from settings, behind the watcher and the admission gate;
    a price question is phrased over the server (streamed, then checked) and a message no rule
    understands gets a grammar-bound command from it."""
    settings = LLMSettings(
        backend="openai",
        base_url=llama_server.base_url,
        model=llama_server.model,
        api_key=llama_server.api_key,
        timeout_seconds=120,
        queue_budget_ms=60_000,  # two cores shared with the server: never count it busy here
        phrase_deadline_ms=120_000,
    )
    with harness.assistant(llm=settings) as (assistant, services):
        assert services.llm_gate is not None and services.llm_health.status.state is ComponentState.OK
        before = _chat_requests(llama_server)
        sid = assistant.start_session(channel="web")
        streamed, reply = _stream(assistant, sid, "how much is the arc desk lamp?")
        assert reply.template == "price_answer" and "45.00" in reply.text
        assert "".join(streamed) == reply.text  # the model's checked sentences, or the template
        unknown = assistant.handle(sid, "my grandmother reads a lot at night")
        (command,) = [s for s in unknown.steps if s.kind == "command"]
        assert command.detail["reason"] not in {"llm_error", "llm_busy", "invalid_command", "truncated"}
        json.loads(str(command.detail["raw"]))  # the grammar held: one JSON command
        assert _chat_requests(llama_server) >= before + 2
        counts = services.llm_gate.counts()
        assert counts["admitted"]["chat"] == 1 and counts["admitted"]["stream"] >= 1
        assert not counts["refused"]
        assert services.llm_health.status.state is ComponentState.OK


def _stream(assistant: Assistant, sid: str, text: str) -> tuple[list[str], Reply]:
    pieces: list[str] = []
    for item in assistant.handle_stream(sid, text):
        if isinstance(item, StreamText):
            pieces = [] if item.reset else pieces
            pieces.append(item.text)
        else:
            return pieces, item
    raise AssertionError("the turn ended without a reply")
