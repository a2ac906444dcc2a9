"""A fixture shop with its conversation store, a settable clock, and conversations that hold a
customer's personal data everywhere a conversation can hold it."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from assistant.sessions.events import (
    AgentMessage,
    BotReply,
    ConfirmationRequested,
    ModeChange,
    SlotSet,
    ToolCall,
    ToolResult,
    UserMessage,
)
from assistant.sessions.slots import ActiveForm, Mode, SlotName
from assistant.sessions.sql_store import SqlSessionStore
from core.config import Settings
from store.db import Database
from store.models import Order
from tests.shop_fixture import ALICE, BOB

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ALICE_PERSONAL = ("alice@example.com", "Alice", "Smith", "1 Main St", "4242", ALICE)


def holds(haystack: str | bytes, needle: str) -> bool:
    """Whether ``needle`` stands in ``haystack`` as a whole token: "4242" (Alice's card digits)
    counts, the same digits inside a uuid, a hash or a timestamp do not: "...24.24242...",
    "1764892800.4242" and a uuid's group "f335faec-fd34-4242-..." (one uuid in 4096 has it)."""
    pattern = (
        rf"(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)(?<![0-9]\.){re.escape(needle)}"
        rf"(?![0-9A-Za-z])(?!-[0-9A-Za-z])(?!\.[0-9])"
    )
    if isinstance(haystack, bytes):
        return re.search(pattern.encode(), haystack) is not None
    return re.search(pattern, haystack) is not None


class Clock:
    """Seconds since the epoch for the session store; set by the test."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions(settings: Settings, clock: Clock) -> Iterator[SqlSessionStore]:
    store = SqlSessionStore(settings.sessions_url, clock=clock)
    yield store
    store.close()


@pytest.fixture
def shop(database: Database) -> Database:
    """The fixture shop with Bob's orders shipped to Bob (the fixture sends every order to
    Alice's street), so Alice's street in the store is Alice's data only."""
    bob_address = {"address1": "9 Market St", "address2": "", "city": "San Francisco"}
    bob_address |= {"state": "CA", "country": "USA", "zip": "94107"}
    with database.transaction() as session:
        session.execute(update(Order).where(Order.customer_id == BOB).values(shipping_address=bob_address))
    return database


def bob_conversation(sessions: SqlSessionStore) -> str:
    """A conversation in which Bob verified."""
    sid = sessions.create(channel="web")
    sessions.append(
        session_id=sid,
        events=[
            UserMessage(text="bob@example.com, 94107", channel="web"),
            SlotSet(name=SlotName.CUSTOMER_ID, value=BOB),
            BotReply(text="Thanks Bob Jones, you're verified."),
        ],
    )
    return sid


def verified_conversation(
    sessions: SqlSessionStore, customer_id: str = ALICE, *, then_reset: bool = False
) -> str:
    """A web conversation in which Alice verified (as ``customer_id``) and changed an
    order's address: her email, name, street and card digits in messages, slots, tool calls,
    results, a confirmation and an agent's message."""
    sid = sessions.create(channel="web")
    address = {"address1": "1 Main St", "city": "Springfield", "zip": "10001"}
    sessions.append(
        session_id=sid,
        events=[
            UserMessage(text="I'm alice@example.com, Alice Smith, zip 10001", channel="web"),
            SlotSet(name=SlotName.CUSTOMER_ID, value=customer_id),
            SlotSet(name=SlotName.CUSTOMER_NAME, value="Alice Smith"),
            SlotSet(name=SlotName.ACTIVE_FORM, value=ActiveForm(name="change_address", slots=address)),
            BotReply(text="Thanks Alice Smith, you're verified. Your card ending 4242 is on file."),
            ToolCall(tool="modify_pending_order_address", args={"order_id": "#W0000001", **address}),
            ConfirmationRequested(
                tool="modify_pending_order_address",
                args=address,
                summary="Ship #W0000001 to Alice Smith, 1 Main St, Springfield",
                token="tok-1",
                expires_at=T0 + timedelta(minutes=15),
            ),
            ToolResult(tool="modify_pending_order_address", ok=True, result={"address": address}),
            ModeChange(mode=Mode.AGENT, reason="Alice Smith asked for a person", by="customer"),
            AgentMessage(agent="sam", text="Hello Alice, I see 1 Main St", draft="Hi Alice Smith"),
        ],
    )
    if then_reset:
        sessions.append(session_id=sid, events=[SlotSet(name=SlotName.CUSTOMER_ID, value=None)])
    return sid


def anonymous_conversation(sessions: SqlSessionStore, text: str = "do you sell lamps?") -> str:
    sid = sessions.create(channel="web")
    sessions.append(
        session_id=sid, events=[UserMessage(text=text, channel="web"), BotReply(text="We sell lamps.")]
    )
    return sid


def sqlite_dump(url: str) -> str:
    """Every row of a SQLite database as SQL text (what a copy of the file would give away)."""
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())
