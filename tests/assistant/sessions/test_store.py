"""The SQLite session store: atomic gapless appends, folded state, schema versions, and locks
that order turns across threads, processes and crashes."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assistant.sessions.events import (
    BotReply,
    ModeChange,
    SlotSet,
    StoredEvent,
    ToolCall,
    UserMessage,
)
from assistant.sessions.schema import LOCKS, SCHEMA_TABLE, SCHEMA_VERSION
from assistant.sessions.slots import Mode, SlotName
from assistant.sessions.sql_store import SqlSessionStore
from assistant.sessions.state import fold
from assistant.sessions.store import SessionBusyError, SessionStore
from core.config import Settings
from core.errors import ActionRefusedError, ConfigError, InvalidArgumentsError, NotFoundError
from tests.assistant.conftest import FakeClock, turn_events, turns_in_order

pytestmark = pytest.mark.databases


def hello(text: str = "hello") -> UserMessage:
    return UserMessage(text=text, channel="web")


def test_sql_store_implements_the_protocol(store: SqlSessionStore) -> None:
    backend: SessionStore = store
    assert backend.exists(session_id=backend.create(channel="web"))


def test_create_generates_or_takes_an_id(store: SqlSessionStore) -> None:
    generated = store.create(channel="web")
    assert len(generated) == 32 and store.exists(session_id=generated)
    assert store.create(channel="telegram", session_id="tg:4242") == "tg:4242"
    assert not store.exists(session_id="tg:9999")
    with pytest.raises(ActionRefusedError, match="already exists"):
        store.create(channel="telegram", session_id="tg:4242")


@pytest.mark.parametrize(("channel", "session_id"), [("web", "bad id"), ("web", "x" * 129), ("Web!", None)])
def test_create_validates_its_arguments(store: SqlSessionStore, channel: str, session_id: str | None) -> None:
    with pytest.raises(InvalidArgumentsError):
        store.create(channel=channel, session_id=session_id)


def test_unknown_or_invalid_sessions(store: SqlSessionStore) -> None:
    calls = [
        lambda sid: store.append(session_id=sid, events=[hello()]),
        lambda sid: store.events(session_id=sid),
        lambda sid: store.state(session_id=sid),
        lambda sid: store.lock(session_id=sid, timeout=1).__enter__(),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as caught:
            call("no-such-session")
        assert caught.value.context == {"session_id": "no-such-session"}
        with pytest.raises(InvalidArgumentsError):
            call("../etc/passwd")
    with pytest.raises(InvalidArgumentsError):
        store.exists(session_id="")


def test_appends_get_gapless_sequence_numbers(store: SqlSessionStore, session_id: str) -> None:
    first = store.append(session_id=session_id, events=[hello("a"), hello("b")])
    second = store.append(session_id=session_id, events=[BotReply(text="c")])
    assert [e.seq for e in first + second] == [1, 2, 3]
    assert len({e.id for e in first + second}) == 3
    assert all(e.session_id == session_id and e.at.tzinfo is not None for e in first + second)
    assert store.events(session_id=session_id) == first + second
    assert store.events(session_id=session_id, after_seq=1) == first[1:] + second
    assert store.events(session_id=session_id, after_seq=1, limit=1) == first[1:]
    assert store.events(session_id=session_id, after_seq=3) == []
    assert store.append(session_id=session_id, events=[]) == []


def test_append_accepts_event_dicts_and_rejects_bad_ones(store: SqlSessionStore, session_id: str) -> None:
    (stored,) = store.append(session_id=session_id, events=[{"type": "bot_reply", "text": "hi"}])  # type: ignore[list-item]
    assert stored.event == BotReply(text="hi")
    with pytest.raises(ValueError):
        store.append(session_id=session_id, events=[hello(), {"type": "bot_reply"}])  # type: ignore[list-item]
    assert [e.seq for e in store.events(session_id=session_id)] == [1]


@pytest.mark.parametrize("kwargs", [{"after_seq": -1}, {"limit": 0}, {"after_seq": "1"}])
def test_events_validates_paging(store: SqlSessionStore, session_id: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentsError):
        store.events(session_id=session_id, **kwargs)


def test_a_failed_append_writes_nothing(store: SqlSessionStore, session_id: str) -> None:
    with store.engine.begin() as conn:  # make the database refuse the second event of the batch
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON conversation_events WHEN NEW.payload LIKE '%boom%' "
                "BEGIN SELECT RAISE(ABORT, 'boom_refused'); END"
            )
        else:
            conn.execute(
                sa.text(
                    "ALTER TABLE conversation_events "
                    "ADD CONSTRAINT boom_refused CHECK (payload NOT LIKE '%boom%')"
                )
            )
    with pytest.raises(sa.exc.IntegrityError, match="boom_refused"):
        store.append(session_id=session_id, events=[hello("fine"), hello("boom"), hello("fine too")])
    assert store.events(session_id=session_id) == []
    assert store.list_sessions(limit=5)[0].last_seq == 0
    assert [e.seq for e in store.append(session_id=session_id, events=[hello()])] == [1]


def test_state_is_the_fold_of_the_events(store: SqlSessionStore, session_id: str) -> None:
    store.append(session_id=session_id, events=turn_events("a", 0))
    store.append(session_id=session_id, events=[SlotSet(name=SlotName.CUSTOMER_ID, value="cust-1")])
    state = store.state(session_id=session_id)
    assert state == fold(store.events(session_id=session_id))
    assert state.turns == 1 and state.customer_id == "cust-1" and state.last_seq == 5
    assert state.last_bot_reply == BotReply(text="a:0")


def test_a_new_session_has_a_fresh_state(store: SqlSessionStore, session_id: str) -> None:
    state = store.state(session_id=session_id)
    assert state.session_id == session_id and state.last_seq == 0 and state.mode is Mode.BOT


def test_cached_state_sees_events_appended_by_another_store(sessions_url: str, session_id: str) -> None:
    cached = SqlSessionStore(sessions_url)
    other = SqlSessionStore(sessions_url)
    cached.append(session_id=session_id, events=[hello()])
    assert cached.state(session_id=session_id).turns == 1
    other.append(session_id=session_id, events=[hello(), ModeChange(mode=Mode.AGENT, reason="r", by="bot")])
    state = cached.state(session_id=session_id)
    assert state.turns == 2 and state.mode is Mode.AGENT and state.last_seq == 3
    assert state == SqlSessionStore(sessions_url, snapshot_cache=0).state(session_id=session_id)


def test_list_sessions_by_recent_activity_and_mode(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SqlSessionStore(f"sqlite:///{tmp_path / 's.db'}", clock=clock)
    ids = [store.create(channel="web", session_id=f"s{i}") for i in range(3)]
    clock.advance(1)
    store.append(session_id="s0", events=[ModeChange(mode=Mode.AGENT, reason="help", by="customer")])
    clock.advance(1)
    store.append(session_id="s1", events=[SlotSet(name=SlotName.CUSTOMER_ID, value="cust-9"), hello()])
    listing = store.list_sessions(limit=10)
    assert [s.session_id for s in listing] == ["s1", "s0", "s2"]
    assert listing[0].customer_id == "cust-9" and listing[0].last_seq == 2 and listing[0].mode is Mode.BOT
    assert listing[0].updated_at == clock.at() and listing[0].created_at == clock.at(-2)
    assert [s.session_id for s in store.list_sessions(mode=Mode.AGENT, limit=10)] == ["s0"]
    assert [s.session_id for s in store.list_sessions(mode=Mode.BOT, limit=1)] == ["s1"]
    assert store.list_sessions(mode=Mode.CLOSED, limit=10) == []
    assert len(ids) == 3
    with pytest.raises(InvalidArgumentsError):
        store.list_sessions(limit=0)


def test_schema_is_versioned_and_a_newer_one_is_refused(sessions_url: str, store: SqlSessionStore) -> None:
    assert store.schema_version() == SCHEMA_VERSION == 2
    sid = store.create(channel="web")
    reopened = SqlSessionStore(sessions_url)
    assert reopened.schema_version() == 2 and reopened.exists(session_id=sid)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(SCHEMA_TABLE).values(version=SCHEMA_VERSION + 1, applied_at_us=0))
    with pytest.raises(ConfigError, match="schema version 3, newer than this Shopassist understands"):
        SqlSessionStore(sessions_url)


def test_a_version_1_database_is_upgraded_in_place(sessions_url: str, store: SqlSessionStore) -> None:
    sid = store.create(channel="telegram")
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_conversation_sessions_channel_updated"))
        conn.execute(sa.delete(SCHEMA_TABLE).where(SCHEMA_TABLE.c.version == 2))
    reopened = SqlSessionStore(sessions_url)
    indexes = {ix["name"] for ix in sa.inspect(reopened.engine).get_indexes("conversation_sessions")}
    assert reopened.schema_version() == 2 and "ix_conversation_sessions_channel_updated" in indexes
    assert reopened.exists(session_id=sid)


def test_list_sessions_by_channel_and_activity_since(store: SqlSessionStore) -> None:
    web = store.create(channel="web")
    tg = store.create(channel="telegram")
    assert [s.session_id for s in store.list_sessions(channel="telegram")] == [tg]
    later = store.list_sessions(channel="telegram")[0].updated_at
    assert store.list_sessions(channel="telegram", updated_after=later) == []
    store.append(session_id=tg, events=[UserMessage(text="hi", channel="telegram")])
    changed = store.list_sessions(channel="telegram", updated_after=later)
    assert [s.session_id for s in changed] == [tg] and changed[0].last_seq == 1
    assert web not in {s.session_id for s in store.list_sessions(updated_after=later)}
    with pytest.raises(InvalidArgumentsError):
        store.list_sessions(channel="Not A Channel")


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ConfigError, match="in-memory"):
        SqlSessionStore("sqlite://")


def test_from_settings_uses_the_data_dir(tmp_path: Path) -> None:
    store = SqlSessionStore.from_settings(Settings(data_dir=tmp_path / "data"))
    store.create(channel="web")
    assert (tmp_path / "data" / "sessions.db").is_file()


# Locks ------------------------------------------------------------------------------------------


def test_a_held_lock_makes_others_wait_then_fail(store: SqlSessionStore, session_id: str) -> None:
    other_session = store.create(channel="web")
    with store.lock(session_id=session_id, timeout=1) as lease:
        assert lease.session_id == session_id and not lease.lost
        with pytest.raises(SessionBusyError) as caught, store.lock(session_id=session_id, timeout=0.05):
            pass
        with store.lock(session_id=other_session, timeout=0):  # other sessions never wait
            pass
    assert caught.value.code == "session_busy" and caught.value.http_status == 409
    assert caught.value.context["session_id"] == session_id
    with store.lock(session_id=session_id, timeout=0):  # released on exit
        pass


def test_the_lock_is_released_when_the_turn_fails(store: SqlSessionStore, session_id: str) -> None:
    with pytest.raises(RuntimeError), store.lock(session_id=session_id, timeout=1):
        raise RuntimeError("turn failed")
    with store.lock(session_id=session_id, timeout=0):
        pass


@pytest.mark.parametrize("timeout", [-1, "soon", True])
def test_lock_timeout_is_validated(store: SqlSessionStore, session_id: str, timeout: Any) -> None:
    with pytest.raises(InvalidArgumentsError), store.lock(session_id=session_id, timeout=timeout):
        pass


def test_a_lease_that_is_never_released_expires(sessions_url: str) -> None:
    clock = FakeClock()
    holder, other, third = (SqlSessionStore(sessions_url, lease_seconds=10, clock=clock) for _ in range(3))
    sid = holder.create(channel="web")
    held = holder.lock(session_id=sid, timeout=1)
    lease = held.__enter__()  # a holder that hangs and never releases
    clock.advance(9)
    with pytest.raises(SessionBusyError), other.lock(session_id=sid, timeout=0.05):
        pass
    clock.advance(1)  # the lease has run out
    with other.lock(session_id=sid, timeout=0) as taken:
        assert taken.owner != lease.owner
        assert lease.renew() is False and lease.lost
        held.__exit__(None, None, None)  # the late release must not free the new holder's lock
        with pytest.raises(SessionBusyError), third.lock(session_id=sid, timeout=0.05):
            pass
    with third.lock(session_id=sid, timeout=0):
        pass


def test_renewing_extends_the_lease(sessions_url: str) -> None:
    clock = FakeClock()
    holder, other = (SqlSessionStore(sessions_url, lease_seconds=10, clock=clock) for _ in range(2))
    sid = holder.create(channel="web")
    with holder.lock(session_id=sid, timeout=1) as lease:
        clock.advance(8)
        assert lease.renew() and lease.expires_at == clock.at(10)
        clock.advance(8)  # past the first expiry, within the renewed one
        with pytest.raises(SessionBusyError), other.lock(session_id=sid, timeout=0.05):
            pass
    assert not lease.lost


@pytest.mark.parametrize("shared_store", [True, False], ids=["one-store", "store-per-thread"])
def test_threads_never_interleave_turns(sessions_url: str, shared_store: bool) -> None:
    first = SqlSessionStore(sessions_url)
    stores = [first, first] if shared_store else [first, SqlSessionStore(sessions_url)]
    sid = first.create(channel="web")
    start = threading.Barrier(2)

    def run_turns(name: str, store: SqlSessionStore) -> None:
        start.wait()
        for turn in range(5):
            with store.lock(session_id=sid, timeout=60):
                for event in turn_events(name, turn):
                    store.append(session_id=sid, events=[event])
                    time.sleep(0.001)  # give the other thread every chance to cut in

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(run_turns, name, s) for name, s in zip("ab", stores, strict=True)]:
            future.result()
    markers = turns_in_order(first.events(session_id=sid))
    for name in "ab":
        assert [m for m in markers if m.startswith(name)] == [f"{name}:{t}" for t in range(5)]


def test_processes_never_interleave_turns(store: SqlSessionStore, session_id: str, spawn: Any) -> None:
    children = [spawn("turns", store.url, session_id, name, "4", "0") for name in "pq"]
    for child in children:
        assert child.read_line() == "ready"
    for child in children:
        child.send("go")
    for child in children:
        assert child.read_line() == "done"
        assert child.wait() == 0
    markers = turns_in_order(store.events(session_id=session_id))
    for name in "pq":
        assert [m for m in markers if m.startswith(name)] == [f"{name}:{t}" for t in range(4)]


def test_a_killed_process_loses_no_committed_event(
    store: SqlSessionStore, session_id: str, spawn: Any
) -> None:
    child = spawn("turns", store.url, session_id, "k", "3", "1")
    assert child.read_line() == "ready"
    child.send("go")
    reported: list[dict[str, Any]] = []
    for _ in range(9):  # two whole turns and the first event of the third
        if reported:
            child.send()
        reported.append(child.read_json())
    os.kill(child.process.pid, signal.SIGKILL)  # while it holds the lock, between two appends
    assert child.wait() == -signal.SIGKILL

    reopened = SqlSessionStore(store.url, lease_seconds=30)
    committed = [StoredEvent.model_validate(e) for line in reported for e in line["stored"]]
    assert reopened.events(session_id=session_id) == committed
    state = reopened.state(session_id=session_id)
    assert state.model_dump(mode="json") == reported[-1]["state"]
    assert state == fold(committed) and state.turns == 3 and state.last_seq == 9
    assert state.last_user_message == UserMessage(text="k:2", channel="web")

    with pytest.raises(SessionBusyError), reopened.lock(session_id=session_id, timeout=0.05):
        pass  # the dead process's lease has not run out yet
    later = SqlSessionStore(store.url, clock=lambda: time.time() + 31)
    with later.lock(session_id=session_id, timeout=0):
        (next_event,) = later.append(session_id=session_id, events=[ToolCall(tool="search_products")])
    assert next_event.seq == 10


def test_a_crashed_holders_lease_runs_out(store: SqlSessionStore, session_id: str, spawn: Any) -> None:
    child = spawn("hold", store.url, session_id, "0.5")
    crashed = child.read_json()
    os.kill(child.process.pid, signal.SIGKILL)
    child.wait()
    with store.lock(session_id=session_id, timeout=30) as lease:
        acquired_at_us = store.now_us()
        assert lease.owner != crashed["owner"]
    assert acquired_at_us >= crashed["expires_at_us"]
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(LOCKS).where(LOCKS.c.session_id == session_id)).one()
    assert row.owner is None  # released again
