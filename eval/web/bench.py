"""`shopassist bench web`: many concurrent WebSocket conversations against a real server.

The app is served by uvicorn on 127.0.0.1 over a fresh copy of the fixture shop (real index,
conversation store and engine; rules only unless an LLM is given). Each simulated customer
opens its own WebSocket and sends its turns one after another, waiting for each reply (and
``think_ms`` more, a customer reading and typing; 0 by default: the hardest case). The report
counts turns per second, reply latency percentiles, error events, and lost messages: replies
that never arrived, and turns missing from the conversation log afterwards. With an LLM it also
says how the replies were made: phrased by the model, or the template because the model's
phrasing failed the check or the model was busy past ``llm.queue_budget_ms`` (the admission
gate's refused calls, :mod:`assistant.llm.admission`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI

from assistant.sessions.events import BotReply, UserMessage
from connectors.web.app import create_app, uvicorn_options
from eval.dialogue.runner import ScenarioHarness
from services import Services

TURNS = (
    "running shoes",
    "in blue",
    "tell me more about the first one",
    "what is your return policy?",
    "water bottle",
    "add it to my cart",
    "what's in my cart?",
    "desk lamp",
    "how much is it?",
    "thanks",
)


@dataclass
class WebBench:
    sessions: int
    turns_per_session: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lost_replies: int = 0
    missing_in_log: int = 0
    think_ms: int = 0
    llm: str | None = None
    replies_by_source: dict[str, int] = field(default_factory=dict)
    llm_calls: dict[str, dict[str, int]] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0

    def to_dict(self) -> dict[str, Any]:
        sent = self.sessions * self.turns_per_session
        return {
            "sessions": self.sessions,
            "turns_per_session": self.turns_per_session,
            "turns": sent,
            "seconds": round(self.seconds, 2),
            "turns_per_second": round(len(self.latencies_ms) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(0.5), 1),
            "p95_ms": round(self.percentile(0.95), 1),
            "p99_ms": round(self.percentile(0.99), 1),
            "max_ms": round(max(self.latencies_ms, default=0.0), 1),
            "think_ms": self.think_ms,
            "llm": self.llm,
            "error_count": sum(self.errors.values()),
            "errors": self.errors,
            "replies_by_source": self.replies_by_source,
            "llm_calls": self.llm_calls,
            "llm_busy_fallbacks": sum(self.llm_calls.get("refused", {}).values()),
            "lost_replies": self.lost_replies,
            "missing_in_log": self.missing_in_log,
        }


async def _customer(url: str, turns: int, bench: WebBench, sessions: list[str]) -> None:
    import websockets

    async with websockets.connect(url, max_size=2**22) as ws:
        for number in range(turns):
            if number and bench.think_ms:
                await asyncio.sleep(bench.think_ms / 1000)
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "text": TURNS[number % len(TURNS)]}))
            while True:
                try:
                    event = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
                except TimeoutError:
                    bench.lost_replies += 1
                    break
                if event["type"] == "session" and event["session_id"] not in sessions:
                    sessions.append(event["session_id"])
                if event["type"] == "reply":
                    bench.latencies_ms.append((time.perf_counter() - started) * 1000)
                    break
                if event["type"] == "error":
                    bench.errors[event["code"]] = bench.errors.get(event["code"], 0) + 1
                    break


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def bench_server(services: Services) -> Iterator[tuple[FastAPI, int]]:
    """The app over ``services`` on uvicorn at 127.0.0.1, and its port. A benchmark is one
    client address, so the per-address and per-session limits and the socket cap are lifted."""
    web = services.settings.web.model_copy(
        update={
            "rate_limit_per_ip": "1000000/minute",
            "rate_limit_per_session": "1000/minute",
            "ws_max_per_client": 0,
        }
    )
    app = create_app(services.settings.model_copy(update={"web": web}), services=services)
    port = _free_port()
    options = uvicorn_options(services.settings.server)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield app, port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def run_web_bench(
    harness: ScenarioHarness, *, sessions: int = 50, turns: int = 10, think_ms: int = 0
) -> WebBench:
    bench = WebBench(sessions, turns, think_ms=think_ms)
    with harness.assistant() as (_assistant, services), bench_server(services) as (_app, port):
        bench.llm = services.llm.name if services.llm is not None else None
        seen: list[str] = []
        url = f"ws://127.0.0.1:{port}/ws/chat"

        async def crowd() -> None:
            await asyncio.gather(*(_customer(url, turns, bench, seen) for _ in range(sessions)))

        started = time.perf_counter()
        try:
            asyncio.run(crowd())
        finally:
            bench.seconds = time.perf_counter() - started
        store = services.sessions
        if store is not None:
            for sid in seen:
                events = [e.event for e in store.events(session_id=sid)]
                asked = sum(isinstance(e, UserMessage) for e in events)
                replies = [e for e in events if isinstance(e, BotReply)]
                bench.missing_in_log += max(0, turns - asked) + max(0, asked - len(replies))
                for reply in replies:
                    source = reply.source.value
                    bench.replies_by_source[source] = bench.replies_by_source.get(source, 0) + 1
        bench.missing_in_log += max(0, sessions - len(seen)) * turns
        if services.llm_gate is not None:
            bench.llm_calls = services.llm_gate.counts()
    return bench
