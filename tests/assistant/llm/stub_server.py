"""Fixtures for the LLM layer: the bundled GGUF loaded once per session, and an
OpenAI-compatible HTTP server on 127.0.0.1 in front of it.

Test modules load this with ``pytest_plugins = ("tests.assistant.llm.stub_server",)``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.llm.protocol import Completion
from core.bundled_models import bundled_llm_path
from tests.servers import free_port, serve_in_thread

API_KEY = "test-key-123"


@pytest.fixture(scope="session")
def llm() -> Iterator[LlamaCppLLM]:
    """The bundled SmolLM2-135M GGUF, loaded once for the whole test session."""
    model = LlamaCppLLM(model_path=bundled_llm_path(), n_ctx=1024, n_threads=2, seed=0)
    yield model
    model.close()


@dataclass
class StubState:
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_with: int | None = None  # answer the next requests with this HTTP status
    malformed: bool = False  # answer 200 with a body that is not JSON


def _openai_logprobs(completion: Completion) -> dict[str, Any] | None:
    if completion.logprobs is None:
        return None
    return {
        "content": [
            {
                "token": t.token,
                "logprob": t.logprob,
                "top_logprobs": [{"token": text, "logprob": lp} for text, lp in t.top],
            }
            for t in completion.logprobs
        ]
    }


def build_stub_app(llm: LlamaCppLLM, state: StubState, api_key: str) -> FastAPI:
    """An OpenAI-compatible ``/v1/chat/completions`` (JSON and SSE) that delegates to a real
    :class:`LlamaCppLLM`.

    It reads the request fields llama.cpp's server reads (``grammar``, ``logprobs``/
    ``top_logprobs``, ``stream``, ``stop``) and answers in the same shapes, and it records every
    request and can be told to fail: the tests of what the client sends and of failures use it.
    ``test_llama_server.py`` runs the backend against llama.cpp's real server; vLLM is not
    installed here.
    """
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> Response:
        state.headers.append(dict(request.headers))
        if request.headers.get("authorization") != f"Bearer {api_key}":
            return JSONResponse({"error": {"message": "bad api key"}}, status_code=401)
        if state.fail_with is not None:
            return JSONResponse({"error": {"message": "boom"}}, status_code=state.fail_with)
        if state.malformed:
            return PlainTextResponse("<html>not json</html>")
        body = await request.json()
        state.requests.append(body)
        options = {
            "messages": body["messages"],
            "max_tokens": body["max_tokens"],
            "temperature": body.get("temperature", 0.0),
            "stop": body.get("stop"),
        }
        if body.get("stream"):
            return StreamingResponse(_sse(llm, options), media_type="text/event-stream")
        completion = await run_in_threadpool(
            lambda: llm.chat(
                **options,
                grammar=body.get("grammar"),
                top_logprobs=body.get("top_logprobs", 0) if body.get("logprobs") else 0,
            )
        )
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": completion.text},
                        "finish_reason": completion.finish_reason,
                        "logprobs": _openai_logprobs(completion),
                    }
                ],
                "usage": {
                    "prompt_tokens": completion.prompt_tokens,
                    "completion_tokens": completion.completion_tokens,
                },
            }
        )

    return app


def _sse(llm: LlamaCppLLM, options: dict[str, Any]) -> Iterator[str]:
    def event(delta: dict[str, str], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return f"data: {json.dumps({'object': 'chat.completion.chunk', 'choices': [choice]})}\n\n"

    for piece in llm.stream(**options):
        yield event({"content": piece})
    yield event({}, "stop")
    yield "data: [DONE]\n\n"


@dataclass
class StubServer:
    base_url: str
    state: StubState
    api_key: str


@pytest.fixture(scope="session")
def _stub_server(llm: LlamaCppLLM) -> Iterator[StubServer]:
    state = StubState()
    app = build_stub_app(llm, state, API_KEY)
    with serve_in_thread(app, name="stub OpenAI server", lifespan="off") as url:
        yield StubServer(f"{url}/v1", state, API_KEY)


@pytest.fixture
def stub_server(_stub_server: StubServer) -> StubServer:
    """The session's stub server with its recorded requests and failure switches reset."""
    _stub_server.state.requests.clear()
    _stub_server.state.headers.clear()
    _stub_server.state.fail_with = None
    _stub_server.state.malformed = False
    return _stub_server


@pytest.fixture
def unused_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    return free_port()
