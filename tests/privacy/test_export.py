"""A customer's export: profile, orders with items and totals, the conversations they were
verified in (and only those), as JSON."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from assistant.sessions.sql_store import SqlSessionStore
from core.errors import NotFoundError
from privacy.export import export_customer, find_customer_id
from store.db import Database
from tests.privacy.conftest import Clock, anonymous_conversation, bob_conversation, verified_conversation
from tests.shop_fixture import ALICE, BOB


def test_export_has_profile_orders_and_conversations(
    shop: Database, sessions: SqlSessionStore, clock: Clock
) -> None:
    hers = verified_conversation(sessions)
    clock.advance(minutes=5)
    left_again = verified_conversation(sessions, then_reset=True)
    bob_conversation(sessions)
    anonymous_conversation(sessions)

    data = export_customer(shop, sessions, customer_id=ALICE)
    data = json.loads(json.dumps(data))  # JSON-able as it is

    profile = data["customer"]
    assert (profile["first_name"], profile["last_name"], profile["email"]) == (
        "Alice",
        "Smith",
        "alice@example.com",
    )
    assert profile["addresses"][0]["address1"] == "1 Main St"
    cards = {m["id"]: m for m in profile["payment_methods"]}
    assert cards["credit_card_1001"]["last_four"] == "4242"
    assert cards["credit_card_1001"]["label"] == "Visa ending 4242"
    assert cards["gift_card_1001"]["balance"] == "50.00"

    orders = {o["id"]: o for o in data["orders"]}
    assert set(orders) == {"#W0000001", "#W0000002", "#W0000003", "#W0000004"}
    first = orders["#W0000001"]
    assert first["status"] == "pending"
    assert first["items"] and all(item["price"] and item["quantity"] == 1 for item in first["items"])
    assert Decimal(first["total"]) == sum(Decimal(item["price"]) for item in first["items"]) > 0
    assert orders["#W0000002"]["fulfillments"][0]["tracking_ids"] == ["1Z999AA10123456784"]

    conversations = [c["session_id"] for c in data["conversations"]]
    assert conversations == [hers, left_again]  # not Bob's, not the anonymous one
    events = data["conversations"][0]["events"]
    assert events[0]["type"] == "user_message" and "alice@example.com" in events[0]["text"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_export_of_bob_holds_nothing_of_alice(shop: Database, sessions: SqlSessionStore) -> None:
    verified_conversation(sessions)
    text = json.dumps(export_customer(shop, sessions, customer_id=BOB))
    assert "alice@example.com" not in text and "#W0000001" not in text
    assert "bob@example.com" in text


def test_customers_are_found_by_email_in_any_case(shop: Database) -> None:
    assert find_customer_id(shop, " Alice@Example.COM ") == ALICE
    with pytest.raises(NotFoundError, match=r"nobody@example\.com"):
        find_customer_id(shop, "nobody@example.com")


def test_unknown_customer_id_is_refused(shop: Database, sessions: SqlSessionStore) -> None:
    with pytest.raises(NotFoundError):
        export_customer(shop, sessions, customer_id="nobody_0000")
