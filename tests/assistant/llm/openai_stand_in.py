"""A small OpenAI-compatible server (``/v1/models``, ``/v1/chat/completions`` in JSON and SSE)
answering every request with one fixed text, and recording the requests.

It stands in for a llama.cpp server or vLLM where the test is about the server being there or
not (recovery after an outage), not about what a model says, so it needs no model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.servers import serve_in_thread

TEXT = "Here is what I found."


@dataclass
class OpenAIStandIn:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0  # chat requests received, answered or not
    failing: bool = False  # answer everything with 503, as a server that is overloaded or restarting

    async def models(self, _request: Request) -> Response:
        if self.failing:
            return _unavailable()
        return JSONResponse({"object": "list", "data": [{"id": "local", "object": "model"}]})

    async def complete(self, request: Request) -> Response:
        self.calls += 1
        if self.failing:
            return _unavailable()
        body: dict[str, Any] = await request.json()
        self.requests.append(body)
        if body.get("stream"):
            return StreamingResponse(_events(), media_type="text/event-stream")
        choice = {"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}
        usage = {"prompt_tokens": 1, "completion_tokens": 1}
        return JSONResponse({"object": "chat.completion", "choices": [choice], "usage": usage})


def _unavailable() -> Response:
    return JSONResponse({"error": {"message": "loading model"}}, status_code=503)


def _events() -> Iterator[str]:
    for delta, finish in (({"content": TEXT}, None), ({}, "stop")):
        chunk = {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


@contextmanager
def serve(port: int = 0) -> Iterator[OpenAIStandIn]:
    """The stand-in on 127.0.0.1 (``port``, or a free one) until the block ends; its ``url`` is
    the base URL a client is configured with (``.../v1``)."""
    stand_in = OpenAIStandIn()
    app = Starlette(
        routes=[
            Route("/v1/models", stand_in.models, methods=["GET"]),
            Route("/v1/chat/completions", stand_in.complete, methods=["POST"]),
        ]
    )
    with serve_in_thread(app, name="OpenAI stand-in", port=port) as url:
        stand_in.url = f"{url}/v1"
        yield stand_in
