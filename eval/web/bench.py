"""`shopassist bench web`: many concurrent WebSocket conversations against a real server.

A fresh copy of the fixture shop (store and built index) is served by a real ``shopassist
serve`` process (``--workers N`` of them behind one port), started the way a shop starts it:
the configuration the command was given, with the data directory, the benchmark's relaxed
limits (one client address sends every message) and the LLM switch set through the
environment. The customers run in this process, so the server's CPU time is its own and not
shared with the clients' event loop (both still share the machine's cores; the report says how
many). Each simulated customer opens its own WebSocket and sends its turns one after another,
waiting for each reply (and ``think_ms`` more, a customer reading and typing; 0 by default: the
hardest case). The report counts turns per second, reply latency percentiles, error events, and
lost messages: replies that never arrived, and turns missing from the conversation log
afterwards. With an LLM it also says how the replies were made: phrased by the model, or the
template because the model's phrasing failed the check or the model was busy past
``llm.queue_budget_ms`` (the admission gate's refused calls, read from ``/metrics``; with several
workers, from whichever worker answered).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from assistant.sessions.events import BotReply, UserMessage
from assistant.sessions.sql_store import SqlSessionStore
from core.config import Settings
from eval.dialogue.runner import ScenarioHarness
from eval.latency import percentile
from eval.web.servers import served_shop
from eval.web.shared import postgres_shop, redis_keys

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
    workers: int = 1
    llm: bool = False
    engines: str = "SQLite"
    database: str | None = None
    """The PostgreSQL database of the benchmark's own (dropped at the end), if one was made."""
    key_prefix: str | None = None
    """The Redis key prefix of the benchmark's own (its keys deleted at the end), if one was used."""
    replies_by_source: dict[str, int] = field(default_factory=dict)
    llm_calls: dict[str, dict[str, int]] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def to_dict(self) -> dict[str, Any]:
        sent = self.sessions * self.turns_per_session
        return {
            "sessions": self.sessions,
            "turns_per_session": self.turns_per_session,
            "turns": sent,
            "workers": self.workers,
            "engines": self.engines,
            "cpus": os.cpu_count(),
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


def _llm_calls(url: str) -> dict[str, dict[str, int]]:
    """The admission gate's counts from ``/metrics`` (one worker's)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    calls: dict[str, dict[str, int]] = {}
    text = httpx.get(f"{url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for outcome in ("admitted", "refused"):
            if family.name == f"shopassist_llm_{outcome}":
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        kinds = calls.setdefault(outcome, {})
                        kinds[sample.labels["call"]] = int(sample.value)
    return calls


def _check_log(bench: WebBench, sessions_url: str, seen: list[str]) -> None:
    store = SqlSessionStore(sessions_url)
    try:
        for sid in seen:
            events = [e.event for e in store.events(session_id=sid)]
            asked = sum(isinstance(e, UserMessage) for e in events)
            replies = [e for e in events if isinstance(e, BotReply)]
            bench.missing_in_log += max(0, bench.turns_per_session - asked) + max(0, asked - len(replies))
            for reply in replies:
                source = reply.source.value
                bench.replies_by_source[source] = bench.replies_by_source.get(source, 0) + 1
    finally:
        store.close()
    bench.missing_in_log += max(0, bench.sessions - len(seen)) * bench.turns_per_session


def run_web_bench(
    harness: ScenarioHarness,
    *,
    sessions: int = 50,
    turns: int = 10,
    think_ms: int = 0,
    workers: int = 1,
    llm: bool = False,
    settings: Settings | None = None,
    config: Path | None = None,
    postgres: str | None = None,
    redis: str | None = None,
) -> WebBench:
    """Serve a copy of ``harness``'s fixture shop with ``shopassist serve`` and run the customers
    against it. ``settings``/``config``: the command's settings and the file they came from (the
    server loads the same file; the conversation log is checked where those settings keep it).
    ``postgres``: a PostgreSQL server; the store and the conversations go to a database of the
    benchmark's own there (:func:`~eval.web.shared.postgres_shop`) instead of SQLite files.
    ``redis``: a Redis server for the rate limits and live events, under a prefix of its own."""
    bench = WebBench(sessions, turns, think_ms=think_ms, workers=workers, llm=llm)
    bench.engines = "PostgreSQL" if postgres else "SQLite"
    bench.engines += " + Redis" if redis else ""
    data_dir = Path(tempfile.mkdtemp(prefix="shopassist-bench-web-"))
    try:
        shutil.copytree(harness.template, data_dir, dirs_exist_ok=True)
        with ExitStack() as stack:
            env: dict[str, str] = {}
            if postgres:
                database = stack.enter_context(postgres_shop(postgres))
                bench.database = make_url(database).database
                env |= {"SHOPASSIST_STORE__URL": database, "SHOPASSIST_SESSIONS__URL": database}
            if redis:
                prefix = stack.enter_context(redis_keys(redis))
                bench.key_prefix = prefix
                env |= {"SHOPASSIST_REDIS__URL": redis, "SHOPASSIST_REDIS__KEY_PREFIX": prefix}
            _serve_and_run(bench, data_dir, config=config, env=env, settings=settings)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return bench


def _serve_and_run(
    bench: WebBench, data_dir: Path, *, config: Path | None, env: dict[str, str], settings: Settings | None
) -> None:
    sessions, turns = bench.sessions, bench.turns_per_session
    with served_shop(data_dir, config=config, workers=bench.workers, llm=bench.llm, env=env) as url:
        seen: list[str] = []
        socket_url = url.replace("http://", "ws://") + "/ws/chat"

        async def crowd() -> None:
            await asyncio.gather(*(_customer(socket_url, turns, bench, seen) for _ in range(sessions)))

        started = time.perf_counter()
        try:
            asyncio.run(crowd())
        finally:
            bench.seconds = time.perf_counter() - started
        if bench.llm:
            bench.llm_calls = _llm_calls(url)
    served = (settings or Settings()).model_copy(update={"data_dir": data_dir})
    _check_log(bench, env.get("SHOPASSIST_SESSIONS__URL", served.sessions_url), seen)
