"""The Rasa actions in this process, over the fixture shop (SQLite and PostgreSQL): arguments from
the tracker, verification bound server-side, confirmation, idempotency, refusals. The wire
(rasa-sdk's server, real webhook bodies) is tested in test_server.py."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from connectors.rasa import slots as S
from connectors.rasa.actions import ShopActions
from connectors.rasa.identity import SenderIdentities
from connectors.rasa.verify import Verifier
from core.config import ShopTokenSettings
from core.errors import ConfigError
from identity.shop_token import ShopTokens
from store.db import Database
from store.models import CartItem, Order, OrderStatus, PaymentTransaction, VerifiedSender
from tests.connectors.rasa.conftest import call, slots_set, text_of
from tests.shop_fixture import ALICE, BOB, TEE_BLUE

pytestmark = pytest.mark.databases

ALICE_FACTS = {"email": "alice@example.com", "zip": "10001"}


def verify(actions: ShopActions, sender: str, facts: dict[str, str] = ALICE_FACTS) -> dict[str, Any]:
    reply = call(actions, S.VERIFY_ACTION, sender=sender, entities=facts)
    return slots_set(reply)


def order_status(database: Database, order_id: str) -> OrderStatus:
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order.status


def test_search_gives_text_cards_and_the_result_slot(shop_actions: ShopActions):
    reply = call(shop_actions, "action_catalog_search", sender="s1", entities={"query": "running shoe"})
    result = slots_set(reply)[S.RESULT]
    titles = [p["title"] for p in result["result"]["products"]]
    assert titles and "Trailblazer Running Shoe" in titles
    (message,) = reply.messages
    assert message.custom is not None and message.custom["type"] == "product_cards"
    assert [card["title"] for card in message.custom["products"]] == titles
    assert all(title in message.text for title in titles)
    assert slots_set(reply)[S.ERROR] is None


def test_an_entity_wins_over_a_stale_slot_and_lists_take_every_entity(shop_actions: ShopActions):
    reply = call(
        shop_actions,
        "action_catalog_search",
        sender="s1",
        slots={"query": "desk lamp"},
        entities={"query": "water bottle"},
    )
    assert slots_set(reply)[S.RESULT]["args"]["query"] == "water bottle"


def test_a_missing_argument_is_asked_for_and_nothing_runs(shop_actions: ShopActions):
    reply = call(shop_actions, "action_get_product", sender="s1")
    slots = slots_set(reply)
    assert slots[S.MISSING] == ["product_id"] and slots[S.ERROR] == "missing_arguments"
    assert S.RESULT not in slots
    assert "product" in text_of(reply).lower()


def test_order_status_without_verification_is_refused(shop_actions: ShopActions):
    reply = call(shop_actions, "action_get_order_status", sender="s1", entities={"order_id": "#W0000001"})
    slots = slots_set(reply)
    assert slots[S.ERROR] == "authentication_required" and S.RESULT not in slots
    assert "verify your identity" in text_of(reply)
    assert "#W0000001" not in text_of(reply)


def test_verification_binds_the_customer_and_clears_the_secret_facts(shop_actions: ShopActions, database):
    slots = verify(shop_actions, "s1", {**ALICE_FACTS, "card_last4": "4242"})
    assert slots[S.VERIFIED] == ALICE
    assert slots["zip"] is None and slots["card_last4"] is None
    reply = call(
        shop_actions,
        "action_get_order_status",
        sender="s1",
        slots={S.VERIFIED: ALICE},
        entities={"order_id": "W0000001"},
    )
    result = slots_set(reply)[S.RESULT]["result"]
    assert result["order_id"] == "#W0000001" and result["status"] == "pending"
    assert "#W0000001" in text_of(reply) and "pending" in text_of(reply)
    assert slots_set(reply)["order_id"] == "#W0000001"  # the normalized id fills its slot
    with database.session() as session:
        stored = session.scalars(select(VerifiedSender)).one()
        assert stored.customer_id == ALICE and "s1" not in stored.sender_key


def test_wrong_facts_and_unknown_emails_get_the_same_reply(shop_actions: ShopActions):
    wrong_zip = call(
        shop_actions, S.VERIFY_ACTION, sender="s1", entities={"email": "alice@example.com", "zip": "99999"}
    )
    unknown = call(
        shop_actions, S.VERIFY_ACTION, sender="s2", entities={"email": "nobody@example.com", "zip": "10001"}
    )
    assert text_of(wrong_zip) == text_of(unknown)
    assert slots_set(wrong_zip)[S.VERIFIED] is None and slots_set(wrong_zip)[S.ERROR] == "not_verified"
    refused = call(shop_actions, "action_get_order_status", sender="s1", entities={"order_id": "#W0000001"})
    assert slots_set(refused)[S.ERROR] == "authentication_required"


def test_one_fact_is_not_enough_and_is_not_counted_as_a_failure(shop_actions: ShopActions, database):
    reply = call(shop_actions, S.VERIFY_ACTION, sender="s1", entities={"email": "alice@example.com"})
    assert slots_set(reply)[S.MISSING] == ["zip", "card_last4"]
    assert shop_actions.identities.customer_of("s1") is None


def test_guessing_is_locked_out_per_sender(shop_actions: ShopActions):
    limit = shop_actions.verifier.guard._settings.max_failures  # type: ignore[union-attr]
    for attempt in range(limit):
        call(
            shop_actions,
            S.VERIFY_ACTION,
            sender="guesser",
            entities={"email": f"x{attempt}@example.com", "zip": "10001"},
        )
    locked = call(shop_actions, S.VERIFY_ACTION, sender="guesser", entities=ALICE_FACTS)
    assert slots_set(locked)[S.ERROR] == "locked" and slots_set(locked)[S.VERIFIED] is None
    assert shop_actions.identities.customer_of("guesser") is None


def test_a_forged_verified_slot_is_refused(shop_actions: ShopActions):
    reply = call(
        shop_actions,
        "action_get_order_status",
        sender="forger",
        slots={S.VERIFIED: ALICE},
        entities={"order_id": "#W0000001"},
    )
    slots = slots_set(reply)
    assert slots[S.ERROR] == "identity_mismatch" and slots[S.VERIFIED] is None
    assert S.RESULT not in slots and "#W0000001" not in text_of(reply)


def test_a_slot_naming_another_customer_than_the_binding_is_refused(shop_actions: ShopActions):
    verify(shop_actions, "bob-chat", {"email": "bob@example.com", "zip": "94107"})
    reply = call(
        shop_actions,
        "action_get_order_status",
        sender="bob-chat",
        slots={S.VERIFIED: ALICE},
        entities={"order_id": "#W0000001"},
    )
    assert slots_set(reply)[S.ERROR] == "identity_mismatch" and S.RESULT not in slots_set(reply)


def test_another_customers_order_is_refused(shop_actions: ShopActions):
    verify(shop_actions, "s1")
    reply = call(
        shop_actions,
        "action_get_order_status",
        sender="s1",
        slots={S.VERIFIED: ALICE},
        entities={"order_id": "#W0000005"},
    )
    assert slots_set(reply)[S.ERROR] == "permission_denied" and S.RESULT not in slots_set(reply)
    assert "shoe" not in text_of(reply).lower()


def test_cancel_needs_the_confirmation_step_and_runs_once(shop_actions: ShopActions, database):
    verify(shop_actions, "s1")
    asked = {"order_id": "#W0000001", "reason": "no longer needed"}
    unconfirmed = call(
        shop_actions, "action_cancel_order", sender="s1", slots={S.VERIFIED: ALICE}, entities=asked
    )
    assert slots_set(unconfirmed)[S.ERROR] == "confirmation_required"
    assert order_status(database, "#W0000001") == OrderStatus.PENDING

    prepared = call(
        shop_actions, "action_prepare_cancel_order", sender="s1", slots={S.VERIFIED: ALICE}, entities=asked
    )
    pending = slots_set(prepared)
    assert pending[S.PENDING] == "action_cancel_order" and pending[S.CONFIRMATION]
    assert "#W0000001" in text_of(prepared) and [b["payload"] for b in prepared.messages[0].buttons] == [
        "/affirm",
        "/deny",
    ]
    assert order_status(database, "#W0000001") == OrderStatus.PENDING  # preparing writes nothing

    confirmed_slots = {
        S.VERIFIED: ALICE,
        S.PENDING: pending[S.PENDING],
        S.CONFIRMATION: pending[S.CONFIRMATION],
        **asked,
    }
    first = call(shop_actions, "action_cancel_order", sender="s1", slots=confirmed_slots)
    again = call(shop_actions, "action_cancel_order", sender="s1", slots=confirmed_slots)
    assert slots_set(first)[S.RESULT]["result"]["status"] == "cancelled"
    assert slots_set(first)[S.RESULT]["replayed"] is False and slots_set(again)[S.RESULT]["replayed"] is True
    assert slots_set(first)[S.CONFIRMATION] is None and slots_set(first)[S.PENDING] is None
    assert order_status(database, "#W0000001") == OrderStatus.CANCELLED
    with database.session() as session:
        refunds = session.scalar(
            select(func.count())
            .select_from(PaymentTransaction)
            .where(PaymentTransaction.order_id == "#W0000001", PaymentTransaction.kind == "refund")
        )
    assert refunds == 1


def test_a_confirmation_holds_only_for_its_own_call_and_sender(shop_actions: ShopActions, database):
    verify(shop_actions, "s1")
    verify(shop_actions, "s2")
    asked = {"order_id": "#W0000001", "reason": "no longer needed"}
    prepared = slots_set(
        call(
            shop_actions,
            "action_prepare_cancel_order",
            sender="s1",
            slots={S.VERIFIED: ALICE},
            entities=asked,
        )
    )
    token = {S.PENDING: "action_cancel_order", S.CONFIRMATION: prepared[S.CONFIRMATION], S.VERIFIED: ALICE}
    other_reason = call(
        shop_actions,
        "action_cancel_order",
        sender="s1",
        slots={**token, **asked, "reason": "ordered by mistake"},
    )
    other_sender = call(shop_actions, "action_cancel_order", sender="s2", slots={**token, **asked})
    other_action = call(
        shop_actions,
        "action_cancel_order",
        sender="s1",
        slots={**token, S.PENDING: "action_return_items", **asked},
    )
    for reply in (other_reason, other_sender, other_action):
        assert slots_set(reply)[S.ERROR] == "confirmation_required"
    assert order_status(database, "#W0000001") == OrderStatus.PENDING


def test_no_drops_the_pending_confirmation(shop_actions: ShopActions):
    reply = call(
        shop_actions,
        "action_discard_confirmation",
        sender="s1",
        slots={S.CONFIRMATION: "x", S.PENDING: "action_cancel_order"},
    )
    slots = slots_set(reply)
    assert slots[S.CONFIRMATION] is None and slots[S.PENDING] is None


def test_a_cart_write_redelivered_for_the_same_message_is_not_repeated(shop_actions: ShopActions, database):
    variant = TEE_BLUE[1]
    for _ in range(2):
        reply = call(
            shop_actions,
            "action_add_to_cart",
            sender="s1",
            entities={"variant_id": variant},
            message_id="m-1",
        )
        assert slots_set(reply)[S.ERROR] is None
    call(shop_actions, "action_add_to_cart", sender="s1", entities={"variant_id": variant}, message_id="m-2")
    with database.session() as session:
        quantity = session.scalar(select(func.sum(CartItem.quantity)).where(CartItem.variant_id == variant))
    assert quantity == 2


def test_bad_arguments_are_named_apart_from_failures(shop_actions: ShopActions):
    reply = call(
        shop_actions, "action_catalog_search", sender="s1", entities={"query": "lamp"}, slots={"limit": 500}
    )
    slots = slots_set(reply)
    assert slots[S.ERROR] == "invalid_arguments" and slots[S.MISSING] == ["limit"]
    assert "limit" in text_of(reply)


def test_a_binding_lapses_after_the_idle_time(database):
    clock = [datetime(2026, 12, 5, 12, 0, tzinfo=UTC)]
    identities = SenderIdentities(
        database, secret=b"0123456789abcdef", idle_seconds=600, clock=lambda: clock[0]
    )
    identities.bind("s1", BOB)
    clock[0] += timedelta(seconds=599)
    assert identities.customer_of("s1") is not None  # and this use starts the idle time again
    clock[0] += timedelta(seconds=599)
    binding = identities.customer_of("s1")
    assert binding is not None and binding.customer_id == BOB
    clock[0] += timedelta(seconds=601)
    assert identities.customer_of("s1") is None
    identities.bind("s2", BOB)
    clock[0] += timedelta(seconds=601)
    assert identities.prune() == 1


def test_the_shops_signed_token_verifies_at_level_shop_token(shop_actions: ShopActions):
    secret = "shop-and-assistant-share-this-secret-0123456789"
    tokens = ShopTokens(ShopTokenSettings(secret=secret))
    verifier = Verifier(
        shop_actions.executor,
        shop_actions.identities,
        shop_actions.messages,
        level="shop_token",
        guard=None,
        shop_tokens=tokens,
    )
    actions = ShopActions(shop_actions.executor, shop_actions.identities, verifier, shop_actions.messages)
    good = jwt.encode({"sub": BOB, "exp": int(time.time()) + 300}, secret, algorithm="HS256")
    forged = jwt.encode(
        {"sub": ALICE, "exp": int(time.time()) + 300}, "another-secret-0123456789abcdef", algorithm="HS256"
    )
    refused = call(actions, S.VERIFY_ACTION, sender="web-1", metadata={"shop_token": forged})
    assert slots_set(refused)[S.VERIFIED] is None and actions.identities.customer_of("web-1") is None
    assert "sign in" in text_of(refused)
    verified = call(actions, S.VERIFY_ACTION, sender="web-1", metadata={"shop_token": good})
    assert slots_set(verified)[S.VERIFIED] == BOB
    # facts are not asked for at this level: an account action without verification asks to sign in
    asked = call(actions, "action_list_orders", sender="web-2")
    assert "sign in" in text_of(asked) and slots_set(asked)[S.ERROR] == "authentication_required"


def test_levels_the_action_server_does_not_offer_fail_at_start(shop_actions: ShopActions):
    with pytest.raises(ConfigError, match=r"auth\.level"):
        Verifier(
            shop_actions.executor, shop_actions.identities, shop_actions.messages, level="otp", guard=None
        )
