"""Verification in the dialogue (issue 18): the account-takeover sequence fails, nothing tells
whether an email has an account, guessing is bounded across conversations, a verified identity
lapses, and a mailed one-time code verifies. Run on the fixture shop with its real store, the
real failure counters and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from assistant.decide.verification import identity_checks
from assistant.engine import Assistant
from core.config import Settings
from eval.dialogue.runner import ScenarioHarness
from identity.lockout import FailureGuard
from identity.mail import SmtpMailer
from identity.otp import OneTimeCodes
from services import Services
from store.models import Order
from tests.identity.conftest import Clock, MailServer, _serve, free_port

SECRET = b"verification-test-secret-0123"
ORDER = "#W0000001"  # Alice's pending order
TAKEOVER = f"change the shipping address of order {ORDER} to 1 Attacker Street, Springfield, IL 62701"


@pytest.fixture
def shop(harness: ScenarioHarness) -> Iterator[Services]:
    with harness.assistant() as (_, services):
        yield services


@pytest.fixture
def clock() -> Clock:
    # Event times come from the real clock, so this one starts at the real now.
    return Clock(datetime.now(UTC))


@pytest.fixture
def mail() -> Iterator[MailServer]:
    yield from _serve(MailServer(port=free_port()))


def build(services: Services, clock: Clock, **auth: Any) -> Assistant:
    """The shop's assistant with ``auth`` settings, its clock, and failures counted in its store."""
    base = services.settings
    settings = Settings(
        data_dir=base.data_dir, policy={"secret_key": "x" * 24}, llm={"enabled": False}, auth=auth
    )
    guard = FailureGuard(services.database, settings.auth, secret=SECRET, clock=clock)
    codes = None
    if settings.auth.smtp.enabled:
        mailer = SmtpMailer(settings.auth.smtp)
        codes = OneTimeCodes(services.database, settings.auth, mailer, secret=SECRET, clock=clock)
    assert services.sessions is not None and services.matcher is not None
    return Assistant(
        settings=settings,
        store=services.sessions,
        executor=services.executor,
        matcher=services.matcher,
        clock=clock,
        identity=identity_checks(settings, guard=guard, codes=codes),
    )


def address_of(services: Services, order_id: str) -> dict[str, Any]:
    with services.database.session() as session:
        order = session.scalar(select(Order).where(Order.id == order_id))
        assert order is not None
        return dict(order.shipping_address)


def test_an_email_alone_no_longer_takes_over_an_order(shop: Services, clock: Clock) -> None:
    assistant = build(shop, clock)
    before = address_of(shop, ORDER)
    sid = assistant.start_session(channel="web")
    replies = [
        assistant.handle(sid, text, client="ip:203.0.113.9")
        for text in (TAKEOVER, "alice@example.com", "yes")
    ]
    assert [r.template for r in replies][:2] == ["auth_ask_knowledge", "auth_more_after_email"]
    assert all(r.template != "confirm_action" for r in replies)
    shown = " ".join(r.text for r in replies)
    assert before["address1"] not in shown and before["zip"] not in shown
    assert address_of(shop, ORDER) == before
    assert assistant.store.state(session_id=sid).customer_id is None


def test_an_unknown_email_gets_the_same_replies_as_a_wrong_second_fact(shop: Services, clock: Clock) -> None:
    assistant = build(shop, clock)

    def replies(email: str, zip_code: str) -> list[str]:
        sid = assistant.start_session(channel="web")
        said = ["where is my order?", email, f"zip {zip_code}"]
        return [assistant.handle(sid, text, client=f"ip:{email}").text for text in said]

    known, unknown = replies("alice@example.com", "99999"), replies("nobody@example.com", "10001")
    assert known == unknown
    assert "verified" not in " ".join(known)


def test_one_persons_name_and_another_persons_email_verify_nobody(shop: Services, clock: Clock) -> None:
    assistant = build(shop, clock)
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "where is my order?")
    reply = assistant.handle(sid, "I'm Bob Jones, zip 94107, my email is alice@example.com")
    assert reply.template == "auth_failed_knowledge"
    assert assistant.store.state(session_id=sid).customer_id is None


def test_two_facts_over_two_messages_verify(shop: Services, clock: Clock) -> None:
    assistant = build(shop, clock)
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "where is my order?")
    assert assistant.handle(sid, "I'm Alice Smith, 10001").template == "auth_more_after_name"
    reply = assistant.handle(sid, "4242")  # the card digits asked for
    assert assistant.store.state(session_id=sid).customer_id == "alice_smith_1001"
    assert reply.template != "auth_failed_knowledge"


def test_guessing_is_locked_out_across_conversations_and_clients(shop: Services, clock: Clock) -> None:
    assistant = build(shop, clock, max_failures=3, lockout_seconds=600)
    for guess in range(3):  # each guess in a new conversation, from a new client address
        sid = assistant.start_session(channel="web")
        assistant.handle(sid, "where is my order?", client=f"ip:198.51.100.{guess}")
        reply = assistant.handle(
            sid, f"alice@example.com, zip 1000{guess + 2}", client=f"ip:198.51.100.{guess}"
        )
    assert reply.template == "auth_locked"

    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "where is my order?", client="ip:192.0.2.50")
    right = assistant.handle(sid, "alice@example.com, zip 10001", client="ip:192.0.2.50")
    assert right.template == "auth_locked"  # even the right facts, while Alice's account is locked
    assert assistant.store.state(session_id=sid).customer_id is None

    clock.advance(seconds=601)
    after = assistant.handle(sid, "alice@example.com, zip 10001", client="ip:192.0.2.50")
    assert after.template != "auth_locked"
    assert assistant.store.state(session_id=sid).customer_id == "alice_smith_1001"


def test_a_client_that_guesses_many_accounts_is_locked_out(shop: Services, clock: Clock) -> None:
    assistant = build(shop, clock, max_failures=3)
    client = "ip:198.51.100.77"
    for n in range(3):
        sid = assistant.start_session(channel="web")
        assistant.handle(sid, "where is my order?", client=client)
        assistant.handle(sid, f"user{n}@example.com, zip 10001", client=client)
    sid = assistant.start_session(channel="web")
    assert assistant.handle(sid, "where is my order?", client=client).template == "auth_locked"


def test_a_verified_identity_lapses_after_the_idle_time(shop: Services, clock: Clock) -> None:
    assistant = build(shop, clock, idle_expiry_seconds=600)
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "where is my order? alice@example.com, zip 10001")
    assert assistant.store.state(session_id=sid).customer_id == "alice_smith_1001"
    # The last event was stamped by the store's real clock, after this clock started (a slow
    # first turn under load would eat into the gap): move past it from the real now.
    clock.now = datetime.now(UTC) + timedelta(seconds=601)
    reply = assistant.handle(sid, f"please cancel order {ORDER}")
    assert reply.template == "auth_ask_knowledge"
    assert assistant.store.state(session_id=sid).customer_id is None


def test_a_mailed_one_time_code_verifies_and_an_unknown_email_looks_the_same(
    shop: Services, clock: Clock, mail: MailServer
) -> None:
    smtp = {"host": "127.0.0.1", "port": mail.port, "starttls": False}
    assistant = build(shop, clock, level="otp", smtp=smtp)

    stranger = assistant.start_session(channel="web")
    assistant.handle(stranger, "where is my order?")
    unknown = assistant.handle(stranger, "nobody@example.com")
    assert mail.received == []

    sid = assistant.start_session(channel="web")
    assert assistant.handle(sid, "where is my order?").template == "auth_ask_otp"
    sent = assistant.handle(sid, "alice@example.com")
    assert sent.text == unknown.text and sent.template == "otp_sent"
    assert [r.rcpt_tos for r in mail.received] == [["alice@example.com"]]
    body = mail.received[0].message.get_payload(decode=True)
    assert isinstance(body, bytes)
    code = next(
        word for word in body.decode().split() if word.strip(".").isdigit() and len(word.strip(".")) == 6
    )
    wrong = "000000" if code.strip(".") != "000000" else "111111"
    assert assistant.handle(sid, wrong).template == "otp_wrong"
    assert assistant.store.state(session_id=sid).customer_id is None
    assistant.handle(sid, code.strip("."))
    assert assistant.store.state(session_id=sid).customer_id == "alice_smith_1001"
    # a code typed in the stranger's conversation (where none was sent) is just wrong
    assert assistant.handle(stranger, code.strip(".")).template == "otp_wrong"


def test_the_shop_token_level_asks_nothing_and_sends_the_customer_to_sign_in(
    shop: Services, clock: Clock
) -> None:
    assistant = build(shop, clock, level="shop_token", shop_token={"secret": "s" * 32})
    sid = assistant.start_session(channel="web")
    reply = assistant.handle(sid, "where is my order? I'm alice@example.com, zip 10001")
    assert reply.template == "auth_sign_in"
    assert assistant.store.state(session_id=sid).customer_id is None


def test_codes_cannot_flood_an_inbox(shop: Services, clock: Clock, mail: MailServer) -> None:
    smtp = {"host": "127.0.0.1", "port": mail.port, "starttls": False}
    assistant = build(shop, clock, level="otp", smtp=smtp, max_failures=3)
    replies = []
    for n in range(5):
        sid = assistant.start_session(channel="web")
        assistant.handle(sid, "where is my order?", client=f"ip:198.51.100.{n}")
        replies.append(assistant.handle(sid, "alice@example.com", client=f"ip:198.51.100.{n}").template)
    assert len(mail.received) == 3
    assert replies == ["otp_sent"] * 3 + ["auth_locked"] * 2


def test_a_mail_server_that_is_down_is_said_and_verifies_nobody(shop: Services, clock: Clock) -> None:
    smtp = {"host": "127.0.0.1", "port": free_port(), "starttls": False, "timeout_seconds": 2}
    assistant = build(shop, clock, level="otp", smtp=smtp)
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "where is my order?")
    assert assistant.handle(sid, "alice@example.com").template == "tool_failed"
    assert assistant.store.state(session_id=sid).customer_id is None


def test_a_code_for_a_name_and_zip_goes_to_the_email_on_file(
    shop: Services, clock: Clock, mail: MailServer
) -> None:
    smtp = {"host": "127.0.0.1", "port": mail.port, "starttls": False}
    assistant = build(shop, clock, level="otp", smtp=smtp)
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "where is my order?")
    assert assistant.handle(sid, "I'm Bob Jones, zip 94107").template == "otp_sent"
    assert [r.rcpt_tos for r in mail.received] == [["bob@example.com"]]


def test_identity_tries_are_bounded_by_the_lockout_not_handed_to_a_person(
    shop: Services, clock: Clock
) -> None:
    assistant = build(shop, clock, level="email_or_name_zip", max_failures=5)
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "please cancel order #W0000001")
    for email in ("alice.s@example.com", "asmith@example.com", "alice1@example.com"):
        assert assistant.handle(sid, email, client="ip:203.0.113.5").template == "auth_failed"
    assert assistant.handle(sid, "alice@example.com", client="ip:203.0.113.5").template != "handoff_offer"
    state = assistant.store.state(session_id=sid)
    assert state.customer_id == "alice_smith_1001" and state.mode.value == "bot"


def test_at_taus_level_one_persons_name_and_zip_with_anothers_email_verify_nobody(
    shop: Services, clock: Clock
) -> None:
    assistant = build(shop, clock, level="email_or_name_zip")
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "where is my order?")
    assert assistant.handle(sid, "I'm Bob Jones, zip 94107, alice@example.com").template == "auth_failed"
    assert assistant.handle(sid, "I'm Alice Smith, alice@example.com").template != "auth_failed"
    assert assistant.store.state(session_id=sid).customer_id == "alice_smith_1001"
