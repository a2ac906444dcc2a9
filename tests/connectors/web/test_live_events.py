"""Live events across processes: two real ``shopassist serve`` processes, A and B, share one
conversation store and a notification bus. A customer chats on A's WebSocket; an agent on B
takes over and replies through B's REST API; the mode change and the reply reach the customer
on A, and the customer's next message reaches the agent's console socket on B, each well
within a second. The sockets' safety poll is set to 30 s, so only a notification can bring
them that fast. The delays are printed (run with ``-s``), bounded generously, not targets.

Three set-ups: a shared SQLite sessions file with Redis pub/sub, and a PostgreSQL sessions
database with LISTEN/NOTIFY (no Redis), where each process has its own copy of the fixture
shop's store and index (what is shared is the conversation store and the bus; the agent's
account lives in B's store); and the scale-out deployment, where the two processes share
everything but their local keyword indexes: one PostgreSQL database (store and conversations),
Redis and a Chroma server (see also ``tests/shopassist/cli/test_scale_out.py``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from eval.dialogue.runner import ScenarioHarness
from store.db import Database
from support.accounts import AgentAccounts
from tests.backends import REDIS_URL, new_postgres_database, redis_prefix
from tests.conftest import build_shop_database
from tests.databases import PostgresServer
from tests.servers import chroma_server_process, free_port, shopassist_serve

pytestmark = pytest.mark.slow
PASSWORD = "a long test password"


def _config(tmp_path: Path, harness: ScenarioHarness, name: str, *, shop_copy: bool = True) -> Path:
    data_dir = tmp_path / name
    if shop_copy:
        shutil.copytree(harness.template, data_dir)
    else:  # the shop is in a shared database; the process builds its index from it
        data_dir.mkdir()
    config = tmp_path / f"{name}.yaml"
    config.write_text(
        f"data_dir: {data_dir}\n"
        "policy: {secret_key: live-events-test-secret-0123456789}\n"
        "llm: {enabled: false}\nspeech: {enabled: false}\n"
        "embeddings: {query_backend: torch}\n"
        "web: {ws_safety_poll_seconds: 30}\n"
        "logging: {level: WARNING}\n"
    )
    return config


@pytest.fixture(scope="module", params=["sqlite+redis", "postgresql", "postgresql+redis+chroma"])
def two_servers(
    request: pytest.FixtureRequest,
    harness: ScenarioHarness,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
) -> Iterator[tuple[str, str, str]]:
    """A and B serving, sharing the conversation store and the bus; yields their URLs and the
    backend their ``/readyz`` names for live events. (Module-wide: the tests below share them.)"""
    tmp_path = tmp_path_factory.mktemp("two-servers")
    with ExitStack() as stack:
        agents_store = f"sqlite:///{tmp_path / 'b' / 'shop.db'}"  # B's own copy of the shop
        shop_copy, expected = True, "redis"
        if request.param == "postgresql+redis+chroma":
            name = postgres_server.create(template=postgres_server.template("shop", build_shop_database))
            stack.callback(postgres_server.drop_later, name)
            agents_store = postgres_server.url(name)
            shop_copy = False
            chroma = stack.enter_context(chroma_server_process(tmp_path / "chroma", tmp_path / "chroma.log"))
            env = {
                "SHOPASSIST_STORE__URL": agents_store,
                "SHOPASSIST_SESSIONS__URL": agents_store,
                "SHOPASSIST_REDIS__URL": REDIS_URL,
                "SHOPASSIST_REDIS__KEY_PREFIX": stack.enter_context(redis_prefix()),
                "SHOPASSIST_RETRIEVAL__CHROMA__URL": chroma,
            }
        elif request.param == "postgresql":
            env = {"SHOPASSIST_SESSIONS__URL": stack.enter_context(new_postgres_database())}
            expected = "postgresql"
        else:
            env = {
                "SHOPASSIST_SESSIONS__URL": f"sqlite:///{tmp_path / 'sessions.db'}",
                "SHOPASSIST_REDIS__URL": REDIS_URL,
                "SHOPASSIST_REDIS__KEY_PREFIX": stack.enter_context(redis_prefix()),
            }
        configs = {name: _config(tmp_path, harness, name, shop_copy=shop_copy) for name in ("a", "b")}
        store = Database(agents_store)
        AgentAccounts(store).add("sam", PASSWORD)
        store.dispose()
        a, b = (
            stack.enter_context(
                shopassist_serve(configs[name], port=free_port(), log=tmp_path / f"{name}.log", env=env)
            )[0]
            for name in ("a", "b")
        )
        yield a, b, expected


async def _until(ws: Any, kind: str, *, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kind} event within {seconds} s")
        event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=left))
        if event["type"] == kind:
            return event


def test_an_agent_reply_through_b_reaches_the_customer_on_a(two_servers: tuple[str, str, str]) -> None:
    a, b, backend = two_servers
    for url in (a, b):
        live = httpx.get(f"{url}/readyz").json()["components"]["live_events"]
        assert live == {"state": "ok", "reason": f"{backend}: connected"}
    delays: dict[str, float] = {}

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=b) as desk:
            login = await desk.post("/api/v1/agent/login", json={"name": "sam", "password": PASSWORD})
            token = login.json()["token"]
            sam = {"Authorization": f"Bearer {token}"}
            async with websockets.connect(a.replace("http", "ws") + "/ws/chat") as customer:
                await customer.send(
                    json.dumps({"type": "message", "text": "I want to talk to a real person"})
                )
                sid = (await _until(customer, "session"))["session_id"]
                assert (await _until(customer, "reply"))["template"] == "handoff_started"

                started = time.perf_counter()
                taken = await desk.post(f"/api/v1/agent/conversations/{sid}/take-over", headers=sam)
                assert taken.status_code == 200, taken.text
                assert (await _until(customer, "mode"))["mode"] == "agent"
                delays["mode change, B to A"] = time.perf_counter() - started

                started = time.perf_counter()
                text = "Hi, Sam here from the other process."
                replied = await desk.post(
                    f"/api/v1/agent/conversations/{sid}/reply", headers=sam, json={"text": text}
                )
                assert replied.status_code == 200, replied.text
                message = await _until(customer, "agent_message")
                delays["agent reply, B to A"] = time.perf_counter() - started
                assert message["text"] == text

                async with websockets.connect(b.replace("http", "ws") + "/ws/agent") as console:
                    await console.send(json.dumps({"type": "hello", "token": token}))
                    await _until(console, "conversations")
                    await console.send(
                        json.dumps({"type": "open", "session_id": sid, "after_seq": message["seq"]})
                    )
                    await asyncio.sleep(0.3)  # the socket takes the open before the customer writes
                    started = time.perf_counter()
                    message = {"type": "message", "text": "thanks Sam", "message_id": "m-thanks"}
                    await customer.send(json.dumps(message))

                    async def turn_done_on_a() -> float:
                        await _until(customer, "received")
                        return time.perf_counter()

                    async def shown_on_b() -> tuple[float, dict[str, Any]]:
                        while True:
                            event = (await _until(console, "event"))["event"]
                            if event["type"] == "user_message":
                                return time.perf_counter(), event

                    done_at, (shown_at, event) = await asyncio.gather(turn_done_on_a(), shown_on_b())
                    assert event["text"] == "thanks Sam"
                    delays["customer message, sent on A to shown on B"] = shown_at - started
                    print(f"{backend}: (of which the turn on A: {(done_at - started) * 1000:.1f} ms)")

    asyncio.run(scenario())
    for what, seconds in delays.items():
        print(f"{backend}: {what}: {seconds * 1000:.1f} ms")
    assert all(seconds < 1.0 for seconds in delays.values()), delays  # generous: poll is 30 s


def test_messages_of_one_conversation_split_across_a_and_b_share_its_rate_limit(
    two_servers: tuple[str, str, str],
) -> None:
    """35 messages at 30 a minute (``web.rate_limit_per_session``), alternating between A and B:
    with Redis the 31st is refused, whichever process takes it; without Redis (PostgreSQL
    notifications only) each process counts its own half, and none is."""
    a, b, backend = two_servers
    first = httpx.post(f"{a}/api/v1/chat", json={"message": "hello"}, timeout=60)
    assert first.status_code == 200, first.text
    token = first.json()["session_token"]
    codes = [first.status_code]
    for n in range(1, 35):
        url = b if n % 2 else a
        answer = httpx.post(
            f"{url}/api/v1/chat",
            json={"message": f"do you sell tents? ({n})"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        codes.append(answer.status_code)
        if answer.status_code == 200:
            token = answer.json()["session_token"]
    if backend == "redis":
        assert codes == [200] * 30 + [429] * 5
    else:
        assert codes == [200] * 35
