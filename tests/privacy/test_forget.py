"""Forgetting a customer: nothing of their name, email, street or card digits remains in any row
of the shop's store or in their conversations, while their orders and totals stay."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.sessions.sql_store import SqlSessionStore
from assistant.sessions.state import fold
from connectors.rasa.identity import SenderIdentities
from core.config import Settings
from core.errors import NotFoundError
from privacy.forget import forget_customer, is_forgotten
from store.db import Database
from store.models import Customer, DataRequest, DataRequestKind, Order, PaymentMethod
from tests.privacy.conftest import (
    ALICE_PERSONAL,
    anonymous_conversation,
    bob_conversation,
    holds,
    sqlite_dump,
    verified_conversation,
)
from tests.shop_fixture import ALICE, BOB


def _order_totals(database: Database) -> dict[str, tuple[str, Decimal, int]]:
    with database.session() as session:
        return {
            order.id: (order.status.value, order.total, len(order.items))
            for order in session.scalars(select(Order))
        }


def test_forget_leaves_no_personal_data_and_keeps_the_books(
    shop: Database, sessions: SqlSessionStore, settings: Settings
) -> None:
    with shop.transaction() as session:
        session.add(
            DataRequest(
                id="0b6c1c52-2c3c-4a3e-9d59-6a2a2f3c4d5e", customer_id=ALICE, kind=DataRequestKind.FORGET
            )
        )
    hers = [verified_conversation(sessions), verified_conversation(sessions, then_reset=True)]
    bobs = bob_conversation(sessions)
    other = anonymous_conversation(sessions, text="is 1 Main St your shop's address?")
    totals_before = _order_totals(shop)
    for needle in ALICE_PERSONAL:  # the test can fail: it is all there before
        assert holds(sqlite_dump(settings.database_url), needle)

    result = forget_customer(shop, sessions, customer_id=ALICE)

    assert not result.already_forgotten
    assert (result.addresses, result.payment_methods, result.orders, result.conversations) == (1, 2, 4, 2)
    assert result.conversation_events > 0
    shop_rows = sqlite_dump(settings.database_url)
    for needle in ALICE_PERSONAL:
        assert not holds(shop_rows, needle), needle
    assert "bob@example.com" in shop_rows and "9 Market St" in shop_rows  # Bob is untouched

    # The books: every order, status, item and total as before, now under the placeholder.
    assert _order_totals(shop) == totals_before
    with shop.session() as session:
        customer = session.get(Customer, result.customer_id)
        assert customer is not None and is_forgotten(customer)
        assert customer.email == f"forgotten-{result.customer_id.removeprefix('forgotten_')}@invalid"
        assert {o.id for o in customer.orders} == {"#W0000001", "#W0000002", "#W0000003", "#W0000004"}
        gift = session.get(PaymentMethod, "gift_card_1001")
        assert gift is not None and gift.balance == Decimal("50.00")
        assert session.scalar(select(DataRequest.customer_id)) == result.customer_id
        assert session.get(Customer, ALICE) is None

    # Her conversations: the same shape (types, sequence), nothing she said or was told.
    for sid in hers:
        events = sessions.events(session_id=sid)
        dumped = "".join(stored.event.model_dump_json() for stored in events)
        for needle in ALICE_PERSONAL:
            assert not holds(dumped, needle), needle
        assert [e.type for e in events][:3] == ["user_message", "slot_set", "slot_set"]
        state = fold(events)  # still a valid conversation
        assert state.slots.customer_id is None and state.slots.customer_name is None
        assert sessions.state(session_id=sid).slots.customer_id is None  # no stale snapshot
    assert sessions.sessions_of_customer(customer_id=ALICE) == []
    sessions_rows = sqlite_dump(settings.sessions_url)
    for needle in ALICE_PERSONAL:
        if needle != "1 Main St":  # the anonymous conversation below asks about that street
            assert not holds(sessions_rows, needle), needle
    # Other conversations are not touched, even one mentioning the same street.
    assert sessions.events(session_id=other)[0].event.text == "is 1 Main St your shop's address?"  # type: ignore[union-attr]
    assert sessions.sessions_of_customer(customer_id=BOB) == [bobs]


def test_no_copy_remains_in_the_database_files(
    shop: Database, sessions: SqlSessionStore, settings: Settings
) -> None:
    """Not only the rows: SQLite's free space and write-ahead log keep no old copy either
    (secure_delete, and a checkpoint after forgetting)."""
    verified_conversation(sessions)
    forget_customer(shop, sessions, customer_id=ALICE)
    files = [p for p in Path(settings.data_dir).iterdir() if p.name.startswith(("shop.db", "sessions.db"))]
    assert {p.name for p in files} >= {"shop.db", "sessions.db"}
    for path in files:
        raw = path.read_bytes()
        for needle in ALICE_PERSONAL:
            assert not holds(raw, needle), (path.name, needle)


def test_forget_is_idempotent(shop: Database, sessions: SqlSessionStore) -> None:
    verified_conversation(sessions)
    first = forget_customer(shop, sessions, customer_id=ALICE)
    again = forget_customer(shop, sessions, customer_id=first.customer_id)
    assert again.already_forgotten and again.customer_id == first.customer_id
    assert (again.addresses, again.orders, again.conversation_events) == (0, 0, 0)
    with pytest.raises(NotFoundError):  # the old id is gone
        forget_customer(shop, sessions, customer_id=ALICE)


def test_two_forgotten_customers_get_different_placeholders(
    shop: Database, sessions: SqlSessionStore
) -> None:
    alice = forget_customer(shop, sessions, customer_id=ALICE)
    bob = forget_customer(shop, sessions, customer_id=BOB)
    assert alice.customer_id != bob.customer_id
    assert ALICE.split("_")[-1] not in alice.customer_id


def test_unknown_customer_changes_nothing(
    shop: Database, sessions: SqlSessionStore, settings: Settings
) -> None:
    before = sqlite_dump(settings.database_url)
    with pytest.raises(NotFoundError):
        forget_customer(shop, sessions, customer_id="nobody_0000")
    assert sqlite_dump(settings.database_url) == before


def test_a_rasa_conversation_verified_as_them_is_unbound(shop: Database, sessions: SqlSessionStore) -> None:
    identities = SenderIdentities(shop, secret=b"0123456789abcdef", idle_seconds=600)
    identities.bind("rasa-alice", ALICE)
    identities.bind("rasa-bob", BOB)
    forget_customer(shop, sessions, customer_id=ALICE)
    assert identities.customer_of("rasa-alice") is None
    bob = identities.customer_of("rasa-bob")
    assert bob is not None and bob.customer_id == BOB
