"""The session store's privacy methods: finding a customer's conversations, anonymising and
erasing one, listing idle ones (the one exception to the append-only log)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistant.sessions.erasure import REMOVED, anonymised
from assistant.sessions.events import (
    EVENT_TYPES,
    BotReply,
    ConfirmationResolved,
    SlotSet,
    UserMessage,
    parse_event,
)
from assistant.sessions.shown import ShownProduct
from assistant.sessions.slots import ConfirmationOutcome, SlotName
from assistant.sessions.sql_store import SqlSessionStore
from core.errors import InvalidArgumentsError, NotFoundError
from tests.assistant.conftest import FakeClock

pytestmark = pytest.mark.databases


def test_every_anonymised_event_is_still_valid() -> None:

    reply = BotReply(text="Alice, here", products=(ShownProduct(product_id="P1", title="Lamp"),))
    assert anonymised(reply) == BotReply(text=REMOVED)
    resolved = ConfirmationResolved(outcome=ConfirmationOutcome.ACCEPTED, token=None)
    assert anonymised(resolved) == resolved  # nothing personal in it
    slot = anonymised(SlotSet(name=SlotName.CUSTOMER_NAME, value="Alice Smith"))
    assert slot == SlotSet(name=SlotName.CUSTOMER_NAME, value=None)
    for event in (reply, slot, anonymised(UserMessage(text="hi, I'm Alice", channel="web", key="k1"))):
        assert parse_event(event.model_dump_json()) == event
    assert len(EVENT_TYPES) == 9  # a new event type needs a rule in anonymised()


@pytest.mark.parametrize("customer_id", ["plain_1001", "50%_off", 'quo"te\\back', "ünï_code"])
def test_sessions_of_customer_matches_the_exact_id(store: SqlSessionStore, customer_id: str) -> None:
    theirs = store.create(channel="web")
    store.append(session_id=theirs, events=[SlotSet(name=SlotName.CUSTOMER_ID, value=customer_id)])
    similar = store.create(channel="web")  # ids a LIKE pattern would also match
    lookalike = customer_id.replace("_", "x").replace("%", "5") + "2"
    store.append(session_id=similar, events=[SlotSet(name=SlotName.CUSTOMER_ID, value=lookalike)])
    named = store.create(channel="web")  # the id in a name slot is not a verification
    store.append(session_id=named, events=[SlotSet(name=SlotName.CUSTOMER_NAME, value=customer_id)])
    assert store.sessions_of_customer(customer_id=customer_id) == [theirs]
    with pytest.raises(InvalidArgumentsError):
        store.sessions_of_customer(customer_id="")


def test_anonymise_and_erase(store: SqlSessionStore) -> None:
    sid = store.create(channel="web")
    store.append(session_id=sid, events=[UserMessage(text="alice@example.com", channel="web")])
    assert store.state(session_id=sid).last_user_message is not None  # cached snapshot
    assert store.anonymise(session_id=sid) == 1
    assert store.anonymise(session_id=sid) == 0
    assert store.state(session_id=sid).last_user_message.text == REMOVED  # type: ignore[union-attr]
    assert store.erase(session_id=sid) is True
    assert store.erase(session_id=sid) is False
    assert not store.exists(session_id=sid)
    with pytest.raises(NotFoundError):
        store.anonymise(session_id=sid)
    store.create(channel="web", session_id=sid)  # the id is free again, with a fresh state
    assert store.state(session_id=sid).turns == 0


def test_idle_sessions(sessions_url: str) -> None:
    clock = FakeClock()
    store = SqlSessionStore(sessions_url, clock=clock)
    try:
        first = store.create(channel="web")
        clock.advance(3600)
        second = store.create(channel="web")
        clock.advance(3600)
        store.append(session_id=first, events=[UserMessage(text="back", channel="web")])
        assert store.idle_sessions(before=clock.at(-1800)) == [second]
        assert store.idle_sessions(before=clock.at(1)) == [second, first]
        assert store.idle_sessions(before=clock.at(1), limit=1) == [second]
        assert store.idle_sessions(before=clock.at() - timedelta(days=1)) == []
        with pytest.raises(InvalidArgumentsError):
            store.idle_sessions(before=clock.at(), limit=0)
    finally:
        store.close()
