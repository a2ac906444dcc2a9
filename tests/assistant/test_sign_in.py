"""``Assistant.sign_in``: the shop's signed customer token verifies the conversation's customer.
Real store, session store and engine over the fixture shop; tokens made with PyJWT."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from assistant.engine import Assistant
from assistant.sessions.events import SlotSet
from assistant.sessions.slots import SlotName
from core.config.identity import AuthSettings
from core.errors import InvalidArgumentsError, PermissionDeniedError
from eval.dialogue.runner import ScenarioHarness
from identity.shop_token import InvalidShopTokenError, ShopTokensOffError
from tests.shop_fixture import ALICE, BOB

SECRET = "engine-test-shop-secret-0123456789abcdef"


def token(customer: str, *, expires_in: int = 300) -> str:
    return jwt.encode({"sub": customer, "exp": int(time.time()) + expires_in}, SECRET, algorithm="HS256")


Build = Callable[..., Assistant]


@pytest.fixture
def build(harness: ScenarioHarness) -> Iterator[Build]:
    """Assistants over one fresh shop: with shop tokens configured unless ``tokens=False``."""
    with harness.assistant() as (plain, services):

        def make(*, tokens: bool = True, clock: Callable[[], datetime] | None = None) -> Assistant:
            auth = AuthSettings(shop_token={"secret": SECRET}) if tokens else AuthSettings()
            return Assistant(
                settings=services.settings.model_copy(update={"auth": auth}),
                store=plain.store,
                executor=plain.executor,
                matcher=plain.matcher,
                clock=clock,
            )

        yield make


def customer_slots(assistant: Assistant, sid: str) -> list[tuple[str, object]]:
    return [
        (e.event.name.value, e.event.value)
        for e in assistant.store.events(session_id=sid)
        if isinstance(e.event, SlotSet)
    ]


def test_sign_in_records_the_customer_and_the_turn_needs_no_questions(build: Build) -> None:
    assistant = build()
    sid = assistant.sign_in(None, shop_token=token(ALICE))
    assert customer_slots(assistant, sid) == [("customer_id", ALICE), ("customer_name", "Alice")]
    state = assistant.store.state(session_id=sid)
    assert state.customer_id == ALICE and state.authenticated
    reply = assistant.handle(sid, "where is my order #W0000003?", client="ip:192.0.2.1")
    assert reply.template == "order_status" and "1Z999AA10123456785" in reply.text
    # An existing conversation (even one not yet stored) can be signed in by id.
    assert assistant.sign_in("web-shop-1", shop_token=token(BOB)) == "web-shop-1"
    assert assistant.store.state(session_id="web-shop-1").customer_id == BOB


def test_signing_in_again_as_the_same_customer_records_nothing(build: Build) -> None:
    assistant = build()
    sid = assistant.sign_in(None, shop_token=token(ALICE))
    before = len(assistant.store.events(session_id=sid))
    assert assistant.sign_in(sid, shop_token=token(ALICE)) == sid
    assert len(assistant.store.events(session_id=sid)) == before


def test_a_lapsed_identity_is_renewed_by_a_fresh_token(build: Build) -> None:
    """After ``auth.idle_expiry_seconds`` without an event the sign-in is recorded again, so a
    shop token keeps renewing its customer's identity however the idle rule treats the old one."""
    later = datetime.now(UTC) + timedelta(hours=2)
    first = build()
    sid = first.sign_in(None, shop_token=token(ALICE))
    before = len(first.store.events(session_id=sid))
    assert build(clock=lambda: later).sign_in(sid, shop_token=token(ALICE)) == sid
    assert customer_slots(first, sid)[-2:] == [("customer_id", ALICE), ("customer_name", "Alice")]
    assert len(first.store.events(session_id=sid)) == before + 2


def test_another_customer_is_refused(build: Build) -> None:
    assistant = build()
    sid = assistant.sign_in(None, shop_token=token(BOB))
    with pytest.raises(PermissionDeniedError, match="another customer"):
        assistant.sign_in(sid, shop_token=token(ALICE))
    assert assistant.store.state(session_id=sid).customer_id == BOB
    # Verified another way (questions in chat, whichever level), it is just as much Bob's.
    asked = assistant.start_session(channel="web")
    assistant.store.append(session_id=asked, events=[SlotSet(name=SlotName.CUSTOMER_ID, value=BOB)])
    with pytest.raises(PermissionDeniedError):
        assistant.sign_in(asked, shop_token=token(ALICE))


def test_refused_tokens_record_nothing(build: Build) -> None:
    assistant = build()
    sid = assistant.start_session(channel="web")
    cases = {
        "unknown_customer": token("mallory_9999"),
        "expired": token(ALICE, expires_in=-600),
        "signature": jwt.encode({"sub": ALICE, "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256"),
    }
    for reason, bad in cases.items():
        with pytest.raises(InvalidShopTokenError) as caught:
            assistant.sign_in(sid, shop_token=bad)
        assert caught.value.context["reason"] == reason and bad not in caught.value.message
    assert assistant.store.events(session_id=sid) == []
    with pytest.raises(InvalidArgumentsError):
        assistant.sign_in("not a session id!", shop_token=token(ALICE))


def test_without_a_configured_key_sign_in_is_refused(build: Build) -> None:
    assistant = build(tokens=False)
    assert assistant.shop_sign_in.tokens is None
    with pytest.raises(ShopTokensOffError, match=r"auth\.shop_token"):
        assistant.sign_in(None, shop_token=token(ALICE))
