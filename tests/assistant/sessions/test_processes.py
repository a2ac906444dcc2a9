"""Two OS processes hammer one conversation at once, on SQLite and on PostgreSQL: locked turns
(four appends under the session's lease) mixed with unlocked two-event appends (what an agent's
message or a mode change does). The log must come out gapless, with every event exactly once,
each append's events together and no locked turn cut by another locked turn."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from assistant.sessions.events import BotReply, UserMessage
from assistant.sessions.schema import SESSIONS
from assistant.sessions.sql_store import SqlSessionStore
from tests.assistant.conftest import marker_of, turn_events

pytestmark = pytest.mark.databases

ROUNDS = 30  # per process: 15 locked turns of 4 events and 15 unlocked appends of 2


def batch_events(name: str, round_: int) -> list[UserMessage | BotReply]:
    marker = f"{name}:b{round_}"
    return [UserMessage(text=marker, channel="web"), BotReply(text=marker)]


def hammer(url: str, sid: str, name: str, start: Any) -> None:
    """One process's share (run by ``multiprocessing`` with spawn: a fresh interpreter)."""
    store = SqlSessionStore(url, lease_seconds=30)
    start.wait(timeout=60)
    for round_ in range(ROUNDS):
        if round_ % 2 == 0:
            with store.lock(session_id=sid, timeout=60):
                for event in turn_events(name, round_):
                    store.append(session_id=sid, events=[event])
                    time.sleep(0.001)  # give the other process every chance to cut in
        else:
            store.append(session_id=sid, events=batch_events(name, round_))
    store.close()


def test_two_processes_hammering_one_conversation(sessions_url: str) -> None:
    store = SqlSessionStore(sessions_url, lease_seconds=30)
    sid = store.create(channel="web")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [context.Process(target=hammer, args=(sessions_url, sid, name, start)) for name in "pq"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0, 0]

    events = store.events(session_id=sid)
    per_process = ROUNDS // 2 * 4 + ROUNDS // 2 * 2
    assert [e.seq for e in events] == list(range(1, 2 * per_process + 1)), "gapless, no duplicate seq"
    assert len({e.id for e in events}) == len(events)
    with store.engine.connect() as conn:
        last_seq = conn.execute(sa.select(SESSIONS.c.last_seq).where(SESSIONS.c.session_id == sid)).scalar()
    assert last_seq == len(events)

    markers = [marker_of(e) for e in events]
    expected = Counter(
        {f"{name}:{r}": 4 for name in "pq" for r in range(0, ROUNDS, 2)}
        | {f"{name}:b{r}": 2 for name in "pq" for r in range(1, ROUNDS, 2)}
    )
    assert Counter(markers) == expected, "every event exactly once"
    for i, marker in enumerate(markers):  # an append's two events are never split
        if ":b" in marker and (i == 0 or markers[i - 1] != marker):
            assert markers[i + 1] == marker
    turns = [m for m in markers if ":b" not in m]  # locked turns: never cut by another locked turn
    assert all(len(set(turns[i : i + 4])) == 1 for i in range(0, len(turns), 4))
    for name in "pq":  # each process's rounds in its own order
        mine = list(dict.fromkeys(m for m in markers if m.startswith(f"{name}:")))
        assert mine == [f"{name}:{r}" if r % 2 == 0 else f"{name}:b{r}" for r in range(ROUNDS)]
    store.close()
