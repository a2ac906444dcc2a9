"""The LLM backends: the bundled GGUF in process, and an OpenAI-compatible server over HTTP."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from assistant.llm.backends import create_llm
from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.llm.openai_compatible import OpenAICompatibleLLM
from assistant.llm.protocol import ChatMessage, LLMError
from core.bundled_models import bundled_llm_path
from core.config import LLMSettings
from core.errors import ConfigError, InvalidArgumentsError

if TYPE_CHECKING:
    from tests.assistant.llm.stub_server import StubServer

pytest_plugins = (
    "tests.assistant.llm.stub_server",
)  # the model and the stub server (not imported: rewritten)

HELLO: list[ChatMessage] = [
    {"role": "system", "content": "You are a helpful shop assistant."},
    {"role": "user", "content": "Say hello to a customer in one sentence."},
]
YES_NO = 'root ::= "yes" | "no"\n'


def test_create_llm_is_none_when_disabled() -> None:
    assert create_llm(LLMSettings(enabled=False)) is None


def test_create_llm_builds_the_bundled_model() -> None:
    llm = create_llm(LLMSettings(n_ctx=256, n_threads=1))
    try:
        assert isinstance(llm, LlamaCppLLM)
        assert llm.model_path == bundled_llm_path()
        assert llm.name == "llama_cpp:SmolLM2-135M-Instruct.Q4_1.gguf"
        assert llm.n_ctx == 256
        assert llm.chat(messages=HELLO, max_tokens=2).completion_tokens > 0
    finally:
        assert isinstance(llm, LlamaCppLLM)
        llm.close()
    with pytest.raises(LLMError, match="closed"):
        llm.chat(messages=HELLO, max_tokens=2)


def test_create_llm_openai_needs_a_base_url() -> None:
    with pytest.raises(ConfigError) as caught:
        create_llm(LLMSettings(backend="openai"))
    assert caught.value.context["key"] == "llm.base_url"


def test_create_llm_openai(stub_server: StubServer) -> None:
    settings = LLMSettings(
        backend="openai",
        base_url=stub_server.base_url,
        model="smol",
        api_key="k",
        grammar_request="structured_outputs",
    )
    llm = create_llm(settings)
    assert isinstance(llm, OpenAICompatibleLLM)
    assert llm.name == f"openai:smol@{stub_server.base_url}"
    assert llm.grammar_request == "structured_outputs"
    llm.close()


def test_missing_model_path_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ValidationError, match="no GGUF file"):
        LLMSettings(model_path=missing)
    with pytest.raises(ConfigError, match="no GGUF file") as caught:
        LlamaCppLLM(model_path=missing)
    assert caught.value.context["key"] == "llm.model_path"


def test_a_file_that_is_not_a_gguf_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"this is not a GGUF model" * 100)
    with pytest.raises(ConfigError, match="could not load"):
        LlamaCppLLM(model_path=bogus, n_ctx=256)


def test_chat_reports_text_and_usage(llm: LlamaCppLLM) -> None:
    completion = llm.chat(messages=HELLO, max_tokens=12)
    assert completion.text.strip()
    assert completion.finish_reason in {"stop", "length"}
    assert completion.prompt_tokens > 10
    assert 0 < completion.completion_tokens <= 12
    assert completion.logprobs is None


def test_greedy_decoding_is_deterministic(llm: LlamaCppLLM) -> None:
    first = llm.chat(messages=HELLO, max_tokens=16)
    llm.chat(messages=[{"role": "user", "content": "Name a color."}], max_tokens=4)  # another prompt between
    second = llm.chat(messages=HELLO, max_tokens=16)
    assert first.text == second.text
    assert first.completion_tokens == second.completion_tokens


def test_stream_pieces_join_into_the_chat_completion(llm: LlamaCppLLM) -> None:
    pieces = list(llm.stream(messages=HELLO, max_tokens=16))
    assert len(pieces) > 1
    assert "".join(pieces) == llm.chat(messages=HELLO, max_tokens=16).text


def test_grammar_constrains_the_output(llm: LlamaCppLLM) -> None:
    messages: list[ChatMessage] = [{"role": "user", "content": "Write a poem about shoes."}]
    completion = llm.chat(messages=messages, max_tokens=8, grammar=YES_NO)
    assert completion.text in {"yes", "no"}
    assert completion.finish_reason == "stop"


def test_an_invalid_grammar_is_rejected_and_the_model_still_works(llm: LlamaCppLLM) -> None:
    with pytest.raises(InvalidArgumentsError, match="does not parse"):
        llm.chat(messages=HELLO, max_tokens=4, grammar="root ::= undefined-rule")
    assert llm.chat(messages=HELLO, max_tokens=4, grammar=YES_NO).text in {"yes", "no"}


def test_bad_requests_are_invalid_arguments(llm: LlamaCppLLM) -> None:
    with pytest.raises(InvalidArgumentsError):
        llm.chat(messages=[], max_tokens=4)
    with pytest.raises(InvalidArgumentsError):
        llm.chat(messages=HELLO, max_tokens=0)


def test_a_prompt_longer_than_the_context_is_an_llm_error(llm: LlamaCppLLM) -> None:
    huge: list[ChatMessage] = [{"role": "user", "content": "shoes " * 2000}]
    with pytest.raises(LLMError, match=r"llama\.cpp failed") as caught:
        llm.chat(messages=huge, max_tokens=4)
    assert caught.value.code == "llm_error"
    assert caught.value.http_status == 503


def test_logprobs_match_llama_cpps_own(llm: LlamaCppLLM) -> None:
    """The logits-processor recorder agrees with llama.cpp's logits_all=True log-probabilities."""
    from llama_cpp import Llama

    completion = llm.chat(messages=HELLO, max_tokens=6, top_logprobs=3)
    assert completion.logprobs is not None
    reference = Llama(model_path=str(llm.model_path), n_ctx=256, n_threads=2, logits_all=True, verbose=False)
    try:
        result = reference.create_chat_completion(
            messages=HELLO,  # type: ignore[arg-type]
            max_tokens=6,
            temperature=0.0,
            logprobs=True,
            top_logprobs=3,
        )
    finally:
        reference.close()
    expected: Any = result["choices"][0]["logprobs"]["content"]  # type: ignore[index]
    got = completion.logprobs
    assert [t.token for t in got] == [e["token"] for e in expected][: len(got)]
    assert len(got) >= 5
    for mine, theirs in zip(got, expected, strict=False):
        assert mine.logprob == pytest.approx(theirs["logprob"], abs=1e-3)
        assert [text for text, _ in mine.top] == [t["token"] for t in theirs["top_logprobs"]]
        assert mine.top[0][1] >= mine.logprob


def test_concurrent_calls_are_serialised(llm: LlamaCppLLM) -> None:
    expected = llm.chat(messages=HELLO, max_tokens=10).text
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(llm.chat(messages=HELLO, max_tokens=10).text)
        except BaseException as exc:  # collected and re-checked below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [expected] * 3


# --- the OpenAI-compatible backend, against a real HTTP server ---


def _client(server: StubServer, **kwargs: object) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(base_url=server.base_url, model="smol", api_key=server.api_key, **kwargs)  # type: ignore[arg-type]


def test_openai_chat_returns_the_models_completion(stub_server: StubServer, llm: LlamaCppLLM) -> None:
    client = _client(stub_server)
    completion = client.chat(messages=HELLO, max_tokens=12)
    assert completion.text == llm.chat(messages=HELLO, max_tokens=12).text
    assert completion.prompt_tokens > 10
    assert completion.completion_tokens > 0
    sent = stub_server.state.requests[0]
    assert sent["model"] == "smol"
    assert sent["messages"] == HELLO
    assert "grammar" not in sent
    assert "logprobs" not in sent


def test_openai_sends_the_bearer_token(stub_server: StubServer) -> None:
    _client(stub_server).chat(messages=HELLO, max_tokens=2)
    assert stub_server.state.headers[-1]["authorization"] == f"Bearer {stub_server.api_key}"
    anonymous = OpenAICompatibleLLM(base_url=stub_server.base_url)
    with pytest.raises(LLMError, match="HTTP 401") as caught:
        anonymous.chat(messages=HELLO, max_tokens=2)
    assert caught.value.context["status"] == 401
    assert "authorization" not in stub_server.state.headers[-1]


def test_openai_passes_the_grammar_through(stub_server: StubServer) -> None:
    messages: list[ChatMessage] = [{"role": "user", "content": "Write a poem about shoes."}]
    completion = _client(stub_server).chat(messages=messages, max_tokens=8, grammar=YES_NO)
    assert completion.text in {"yes", "no"}
    assert stub_server.state.requests[-1]["grammar"] == YES_NO
    assert stub_server.state.requests[-1]["repeat_penalty"] == 1.0
    assert "guided_grammar" not in stub_server.state.requests[-1]
    # vLLM's ways (llm.grammar_request): the stub reads only `grammar`, so look at what was sent.
    for way, sent in (
        ("structured_outputs", {"structured_outputs": {"grammar": YES_NO}}),
        ("guided_grammar", {"guided_grammar": YES_NO}),
    ):
        _client(stub_server, grammar_request=way).chat(messages=messages, max_tokens=2, grammar=YES_NO)
        request = stub_server.state.requests[-1]
        assert {key: request[key] for key in sent} == sent and "grammar" not in request


def test_openai_parses_logprobs(stub_server: StubServer, llm: LlamaCppLLM) -> None:
    completion = _client(stub_server).chat(messages=HELLO, max_tokens=6, top_logprobs=3)
    direct = llm.chat(messages=HELLO, max_tokens=6, top_logprobs=3)
    assert stub_server.state.requests[-1]["logprobs"] is True
    assert stub_server.state.requests[-1]["top_logprobs"] == 3
    assert completion.logprobs is not None
    assert direct.logprobs is not None
    assert [t.token for t in completion.logprobs] == [t.token for t in direct.logprobs]
    assert len(completion.logprobs[0].top) == 3


def test_openai_stream_joins_into_the_completion(stub_server: StubServer) -> None:
    client = _client(stub_server)
    pieces = list(client.stream(messages=HELLO, max_tokens=16))
    assert len(pieces) > 1
    assert stub_server.state.requests[-1]["stream"] is True
    assert "".join(pieces) == client.chat(messages=HELLO, max_tokens=16).text


def test_openai_server_error_is_an_llm_error(stub_server: StubServer) -> None:
    stub_server.state.fail_with = 500
    client = _client(stub_server)
    with pytest.raises(LLMError, match="HTTP 500") as caught:
        client.chat(messages=HELLO, max_tokens=4)
    assert caught.value.context["status"] == 500
    with pytest.raises(LLMError, match="HTTP 500"):
        list(client.stream(messages=HELLO, max_tokens=4))


def test_openai_malformed_body_is_an_llm_error(stub_server: StubServer) -> None:
    stub_server.state.malformed = True
    with pytest.raises(LLMError, match="not JSON"):
        _client(stub_server).chat(messages=HELLO, max_tokens=4)


def test_openai_unreachable_server_is_retried_once_then_an_llm_error(
    unused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    client = OpenAICompatibleLLM(base_url=f"http://127.0.0.1:{unused_port}/v1", timeout_seconds=5)
    with (
        caplog.at_level(logging.WARNING, logger="assistant.llm.llama_cpp"),
        pytest.raises(LLMError) as caught,
    ):
        client.chat(messages=HELLO, max_tokens=4)
    assert "failed" in caught.value.message
    assert caught.value.http_status == 503
    assert [r.getMessage() for r in caplog.records] == ["llm server unreachable, retrying once"]
