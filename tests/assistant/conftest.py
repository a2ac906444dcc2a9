"""Fixtures for conversation sessions: a store on an empty database (SQLite or PostgreSQL), turn
helpers, child processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.sessions.events import BotReply, Event, StoredEvent, ToolCall, ToolResult, UserMessage
from assistant.sessions.sql_store import SqlSessionStore

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

# A child process driving a store. Modes:
#   turns URL SID NAME N STEP [LEASE]
#                              - after a "go" line, N turns under the lock, each as four appends.
#                                STEP=1: print each append (stored events + state) and wait for a line.
#                                LEASE: the store's lease seconds (default 30).
#   hold URL SID LEASE         - take the lock, print the lease, never release it.
CHILD = r"""
import json, sys, time
from assistant.sessions.sql_store import SqlSessionStore
from tests.assistant.conftest import turn_events

mode, url, sid = sys.argv[1:4]
if mode == "turns":
    name, turns, step = sys.argv[4], int(sys.argv[5]), sys.argv[6] == "1"
    store = SqlSessionStore(url, lease_seconds=float(sys.argv[7]) if len(sys.argv) > 7 else 30)
    print("ready", flush=True)
    sys.stdin.readline()
    for turn in range(turns):
        with store.lock(session_id=sid, timeout=60):
            for event in turn_events(name, turn):
                stored = store.append(session_id=sid, events=[event])
                if step:
                    state = store.state(session_id=sid)
                    line = {"stored": [s.model_dump(mode="json") for s in stored],
                            "state": state.model_dump(mode="json")}
                    print(json.dumps(line), flush=True)
                    sys.stdin.readline()
                else:
                    time.sleep(0.002)
    print("done", flush=True)
elif mode == "hold":
    store = SqlSessionStore(url, lease_seconds=float(sys.argv[4]))
    held = store.lock(session_id=sid, timeout=60)  # keep a reference: collecting it would release
    lease = held.__enter__()
    print(json.dumps({"owner": lease.owner, "expires_at_us": lease.expires_at_us}), flush=True)
    sys.stdin.readline()
"""


def turn_events(name: str, turn: int) -> list[Event]:
    """One turn's events, each marked with who wrote it and which turn it is."""
    marker = f"{name}:{turn}"
    return [
        UserMessage(text=marker, channel="web"),
        ToolCall(tool="search_products", args={"marker": marker}),
        ToolResult(tool="search_products", ok=True, result={"marker": marker}),
        BotReply(text=marker),
    ]


def marker_of(stored: StoredEvent) -> str:
    event = stored.event
    if isinstance(event, UserMessage | BotReply):
        return event.text
    if isinstance(event, ToolCall):
        return str(event.args["marker"])
    if isinstance(event, ToolResult) and isinstance(event.result, dict):
        return str(event.result["marker"])
    raise AssertionError(f"unexpected event {event!r}")


def turns_in_order(events: list[StoredEvent]) -> list[str]:
    """The turn markers in log order; fails unless each turn's four events are contiguous."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "seq must be gapless"
    assert len(events) % 4 == 0
    markers = []
    for start in range(0, len(events), 4):
        chunk = events[start : start + 4]
        assert [e.type for e in chunk] == ["user_message", "tool_call", "tool_result", "bot_reply"]
        assert len({marker_of(e) for e in chunk}) == 1, f"interleaved turn: {[marker_of(e) for e in chunk]}"
        markers.append(marker_of(chunk[0]))
    return markers


class FakeClock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def at(self, seconds: float = 0.0) -> datetime:
        return datetime.fromtimestamp(self.now, UTC) + timedelta(seconds=seconds)


@pytest.fixture
def sessions_url(empty_db_url: str) -> str:
    """An empty conversation database on the backend under test (see :mod:`tests.databases`)."""
    return empty_db_url


@pytest.fixture
def store(sessions_url: str) -> Iterator[SqlSessionStore]:
    opened = SqlSessionStore(sessions_url, lease_seconds=30)
    yield opened
    opened.close()


@pytest.fixture
def session_id(store: SqlSessionStore) -> str:
    return store.create(channel="web")


class Child:
    """A child process running :data:`CHILD`; killed at teardown if still alive."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def read_line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"child exited early with code {self.process.poll()}"
        return line.strip()

    def read_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.read_line())
        return data

    def send(self, line: str = "") -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait(self) -> int:
        return self.process.wait(timeout=120)


@pytest.fixture
def spawn() -> Iterator[Any]:
    children: list[Child] = []

    def start(*args: str) -> Child:
        child = Child(*args)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.process.poll() is None:
            child.process.kill()
        child.process.wait(timeout=30)
        for stream in (child.process.stdin, child.process.stdout):
            if stream is not None:
                stream.close()
