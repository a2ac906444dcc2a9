"""The notification bus of conversation events, on each backend: the session store publishes
after each committed append; a waiter hears its own conversation only, across two processes
with Redis pub/sub and PostgreSQL LISTEN/NOTIFY; a listener whose server goes away says so,
reconnects by itself, wakes its waiters (news may have been missed) and hears again.

Real servers throughout: the test Redis and PostgreSQL (each test on a prefix / channel of its
own), and a redis-server of the test's own where Redis has to go away.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assistant.sessions.events import UserMessage
from assistant.sessions.notify import EventBus, InProcessBus, open_event_bus
from assistant.sessions.notify.pg_listen import PostgresBus
from assistant.sessions.notify.redis_pubsub import RedisBus
from assistant.sessions.notify.remote import RemoteBus
from assistant.sessions.sql_store import SqlSessionStore
from core.config import Settings
from core.health import ComponentHealth, ComponentState
from tests.backends import REDIS_URL, OwnRedis, postgres_reachable
from tests.conftest import REPO


def _until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.02)


def _state(health: ComponentHealth) -> ComponentState:
    return health.status.state


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlSessionStore]:
    sessions = SqlSessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    yield sessions
    sessions.close()


def test_the_store_publishes_each_committed_append_and_a_waiter_hears_only_its_conversation(
    store: SqlSessionStore,
) -> None:
    bus = InProcessBus()
    store.add_append_listener(bus.publish)
    mine, other = store.create(channel="web"), store.create(channel="web")

    def append(session_id: str) -> int:
        return store.append(session_id=session_id, events=[UserMessage(text="hello", channel="web")])[-1].seq

    async def scenario() -> None:
        waiter, everything = bus.subscribe(), bus.subscribe()
        waiter.watch(session_id=mine, seen_seq=0)
        everything.watch_everything()
        await asyncio.to_thread(append, other)  # from a thread, as turns append
        assert await waiter.wait(timeout=0.3) is False
        assert await everything.wait(timeout=5) is True
        seq = await asyncio.to_thread(append, mine)
        assert await waiter.wait(timeout=5) is True
        assert await waiter.wait(timeout=0.1) is False  # one notification, one wake
        # News the waiter has already shown does not wake it again.
        waiter.watch(session_id=mine, seen_seq=seq + 1)
        bus.publish(session_id=mine, seq=seq + 1)
        assert await waiter.wait(timeout=0.3) is False
        waiter.close()
        await asyncio.to_thread(append, mine)
        assert await waiter.wait(timeout=0.3) is False
        assert bus.hub.waiters() == 1

    asyncio.run(scenario())


def test_a_failing_listener_does_not_fail_the_append(store: SqlSessionStore) -> None:
    def broken(*, session_id: str, seq: int) -> None:
        raise RuntimeError("listener bug")

    heard: list[tuple[str, int]] = []
    store.add_append_listener(broken)
    store.add_append_listener(lambda *, session_id, seq: heard.append((session_id, seq)))
    sid = store.create(channel="web")
    stored = store.append(
        session_id=sid, events=[UserMessage(text="a", channel="web"), UserMessage(text="b", channel="web")]
    )
    assert heard == [(sid, stored[-1].seq)] and stored[-1].seq == 2
    assert [e.seq for e in store.events(session_id=sid)] == [1, 2]


def test_without_a_server_the_bus_stays_in_the_process(tmp_path: Path) -> None:
    health = ComponentHealth("live_events")
    bus = open_event_bus(Settings(data_dir=tmp_path), health=health, redis_health=ComponentHealth("redis"))
    assert isinstance(bus, InProcessBus) and not bus.crosses_processes
    assert health.status.state is ComponentState.OK and health.status.reason == "in-process"


# Across processes ---------------------------------------------------------------------------
@pytest.fixture(params=["redis", "postgresql"])
def bus_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Settings (as JSON-ready data) that select each server backend, on a prefix of their own."""
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_key_prefix")
        yield {"data_dir": str(tmp_path), "redis": {"url": REDIS_URL, "key_prefix": prefix}}
    else:
        prefix = f"test_{uuid.uuid4().hex[:10]}:"
        yield {
            "data_dir": str(tmp_path),
            "sessions": {"url": postgres_reachable()},
            "redis": {"key_prefix": prefix},
        }


def test_news_reaches_a_waiter_in_another_process(bus_settings: dict[str, Any]) -> None:
    settings = Settings(**bus_settings)
    health = ComponentHealth("live_events")
    bus = open_event_bus(settings, health=health, redis_health=ComponentHealth("redis"))
    assert isinstance(bus, RemoteBus) and bus.crosses_processes
    assert bus.wait_connected(20), health.status
    mine, other = uuid.uuid4().hex, uuid.uuid4().hex
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.assistant.sessions.news_listener", json.dumps(bus_settings), mine],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready = child.stdout.readline().split()
        assert ready == ["ready", bus.backend, "ok"], (ready, child.stderr.read() if child.stderr else "")
        bus.publish(session_id=other, seq=3)  # another conversation: the waiter sleeps on
        assert child.stdout.readline().split() == ["first", "False"]
        assert child.stdout.readline().strip() == "waiting"
        sent = time.time()
        bus.publish(session_id=mine, seq=4)
        second = child.stdout.readline().split()
        assert second[:2] == ["second", "True"], second
        delay_ms = (float(second[2]) - sent) * 1000
        print(f"{bus.backend}: news reached the other process in {delay_ms:.1f} ms")
        assert delay_ms < 1000  # a generous bound, not a target
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        bus.close()


# Losing the server ----------------------------------------------------------------------------
def test_a_redis_listener_reconnects_wakes_its_waiters_and_hears_again(own_redis: OwnRedis) -> None:
    listening, redis_health = ComponentHealth("live_events"), ComponentHealth("redis")
    listener = RedisBus(own_redis.url, key_prefix="own:", timeout=0.5, healths=(listening, redis_health))
    sender = RedisBus(own_redis.url, key_prefix="own:", timeout=0.5, healths=(ComponentHealth("sender"),))
    try:
        assert listener.wait_connected(20) and sender.wait_connected(20)
        _expect_reconnect(listener, sender, stop=own_redis.stop, start=own_redis.start)
        assert _state(redis_health) is ComponentState.OK
    finally:
        listener.close()
        sender.close()


def test_a_postgresql_listener_reconnects_when_its_connection_is_ended() -> None:
    url = postgres_reachable()
    prefix = f"test_{uuid.uuid4().hex[:10]}:"
    listener = PostgresBus(url, key_prefix=prefix, timeout=2, healths=(ComponentHealth("live_events"),))
    sender = PostgresBus(url, key_prefix=prefix, timeout=2, healths=(ComponentHealth("sender"),))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def end_listening_connection() -> None:
        # Only this listener's: its connections carry its origin in their application name.
        ended = sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = :name AND query LIKE 'LISTEN%'"
        )
        with admin.connect() as conn:
            name = f"shopassist-events-{listener.origin}"
            assert conn.execute(ended, {"name": name}).scalar() is True

    try:
        assert listener.wait_connected(20) and sender.wait_connected(20)
        _expect_reconnect(listener, sender, stop=end_listening_connection, start=None)
    finally:
        listener.close()
        sender.close()
        admin.dispose()


def _expect_reconnect(
    listener: RemoteBus, sender: EventBus, *, stop: Callable[[], None], start: Callable[[], None] | None
) -> None:
    """``stop`` takes the listener's server (or connection) away, ``start`` brings it back."""
    health = listener._healths[0]
    sid = uuid.uuid4().hex

    async def scenario() -> None:
        waiter = listener.subscribe()
        waiter.watch(session_id=sid, seen_seq=0)
        sender.publish(session_id=sid, seq=1)
        assert await waiter.wait(timeout=10) is True
        await asyncio.to_thread(stop)
        if start is not None:  # (a lost connection alone is made again at once)
            await asyncio.to_thread(_until, lambda: _state(health) is ComponentState.DEGRADED, "degraded")
            sender.publish(session_id=sid, seq=2)  # fails: logged, never raised
            await asyncio.to_thread(start)
        await asyncio.to_thread(_until, lambda: listener.connections == 2, "connected again")
        assert _state(health) is ComponentState.OK
        # Back: the waiter is woken (what was published meanwhile was not heard) ...
        assert await waiter.wait(timeout=10) is True
        # ... and news sent now arrives (the sender may skip sends for a moment after failing).
        deadline = time.monotonic() + 20
        heard = False
        while not heard and time.monotonic() < deadline:
            sender.publish(session_id=sid, seq=3)
            heard = await waiter.wait(timeout=0.5)
        assert heard

    asyncio.run(scenario())
