"""The lease heartbeat: a live holder keeps its conversation's lease however long its turn runs;
a holder killed mid-turn loses it within one lease time, and the next process's turn takes over
with the log intact. Holders are real child processes killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from assistant.sessions.events import StoredEvent, ToolCall
from assistant.sessions.schema import LOCKS
from assistant.sessions.sql_store import SqlSessionStore
from assistant.sessions.store import SessionBusyError
from core.config import Settings
from tests.assistant.conftest import FakeClock, marker_of

pytestmark = pytest.mark.databases


def _busy_for(store: SqlSessionStore, session_id: str, seconds: float) -> int:
    """Try the lock again and again for ``seconds``; every try must find it taken."""
    tries = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with pytest.raises(SessionBusyError), store.lock(session_id=session_id, timeout=0.2):
            pass
        tries += 1
    return tries


def test_a_live_holder_keeps_its_lease_past_the_lease_time(
    store: SqlSessionStore, session_id: str, spawn: Any
) -> None:
    child = spawn("hold", store.url, session_id, "1")  # a 1 s lease, never released
    taken = child.read_json()
    assert _busy_for(store, session_id, 3.5) >= 5  # three and a half lease times: renewed
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(LOCKS).where(LOCKS.c.session_id == session_id)).one()
    assert row.owner == taken["owner"] and row.expires_at_us > taken["expires_at_us"]
    os.kill(child.process.pid, signal.SIGKILL)
    child.wait()
    with store.lock(session_id=session_id, timeout=30) as lease:  # now it runs out
        assert lease.owner != taken["owner"]


def test_a_turn_killed_mid_way_is_taken_over_within_one_lease(
    store: SqlSessionStore, session_id: str, spawn: Any
) -> None:
    lease = str(Settings().sessions.lease_seconds)
    child = spawn("turns", store.url, session_id, "k", "2", "1", lease)
    assert child.read_line() == "ready"
    child.send("go")
    committed: list[dict[str, Any]] = []
    for _ in range(5):  # one whole turn and the first event of the second
        if committed:
            child.send()
        committed.append(child.read_json())
    os.kill(child.process.pid, signal.SIGKILL)  # mid-turn, holding the lock
    assert child.wait() == -signal.SIGKILL
    killed_at = time.monotonic()

    retry = spawn("turns", store.url, session_id, "n", "1", "0", lease)  # a new process's turn
    assert retry.read_line() == "ready"
    retry.send("go")
    assert retry.read_line() == "done"
    waited = time.monotonic() - killed_at
    # A correctness bound, not a speed figure: with the former 60 s lease the retry waited out
    # its 30 s lock timeout and failed with session_busy.
    assert waited < 15, f"the crashed holder's lease held the conversation for {waited:.1f} s"

    events = store.events(session_id=session_id)
    assert [e.seq for e in events] == list(range(1, 10)), "seq must stay gapless"
    kept = [StoredEvent.model_validate(e) for line in committed for e in line["stored"]]
    assert events[:5] == kept  # nothing committed was lost
    assert [marker_of(e) for e in events] == ["k:0"] * 4 + ["k:1"] + ["n:0"] * 4
    state = store.state(session_id=session_id)
    assert state.last_seq == 9 and state.turns == 3


def test_a_beat_that_finds_the_lease_taken_marks_it_lost(sessions_url: str) -> None:
    stalled, later = FakeClock(), FakeClock()
    later.advance(60)  # the holder's renewals reach the table a minute too late, as if it stalled
    holder = SqlSessionStore(sessions_url, lease_seconds=1.5, clock=stalled)  # beats every 0.5 s
    other = SqlSessionStore(sessions_url, lease_seconds=1.5, clock=later, heartbeat=False)
    sid = holder.create(channel="web")
    try:
        with holder.lock(session_id=sid, timeout=1) as lease:
            with other.lock(session_id=sid, timeout=1) as taken:
                deadline = time.monotonic() + 10
                while not lease.lost and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert lease.lost  # the heartbeat noticed; the engine then records nothing
                (event,) = other.append(session_id=sid, events=[ToolCall(tool="search_products")])
                assert taken.owner != lease.owner and event.seq == 1
            assert not taken.lost
    finally:
        holder.close()
        other.close()


def test_the_heartbeat_stops_with_the_store(sessions_url: str) -> None:
    before = set(threading.enumerate())
    store = SqlSessionStore(sessions_url, lease_seconds=1.5)
    sid = store.create(channel="web")
    with store.lock(session_id=sid, timeout=1):
        pass
    (beat,) = [t for t in set(threading.enumerate()) - before if t.name == "session-lease-heartbeat"]
    assert beat.is_alive()  # waits for the next lease, without beating
    store.close()
    beat.join(timeout=5)
    assert not beat.is_alive()
