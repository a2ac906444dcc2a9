"""OneTimeCodes with a real SMTP server: the code arrives by mail at the address on file, works
once, expires, is void after too many wrong tries or a newer code, and is bound to its session
and customer; the store never holds it in clear."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from core.config.identity import AuthSettings
from core.errors import MailUnavailableError
from identity.mail import SmtpMailer
from identity.otp import OneTimeCodes
from store.db import Database
from store.models import OneTimeCode
from tests.identity.conftest import JANE, JANE_EMAIL, JOHN, JOHN_EMAIL, SECRET, T0, Clock, MailServer

SHOP = "Acme Outfitters"
SESSION = "sess-otp-1"


def otp_settings(server: MailServer, **overrides: object) -> AuthSettings:
    options: dict[str, object] = {"level": "otp", "smtp": server.settings(sender="codes@acme.test")}
    return AuthSettings(**{**options, **overrides})


@pytest.fixture
def codes(store: Database, smtp_server: MailServer, clock: Clock) -> OneTimeCodes:
    settings = otp_settings(smtp_server)
    return OneTimeCodes(store, settings, SmtpMailer(settings.smtp), secret=SECRET, clock=clock)


def mailed_code(server: MailServer, index: int = -1) -> str:
    """The code in the body of a received mail (the last one by default)."""
    payload = server.received[index].message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    found = re.findall(r"\b\d{6,10}\b", payload.decode())
    assert len(found) == 1, found
    return str(found[0])


def issue(codes: OneTimeCodes, server: MailServer, customer: str = JANE, session: str = SESSION) -> str:
    email = JANE_EMAIL if customer == JANE else JOHN_EMAIL
    codes.issue(customer_id=customer, email=email, session_id=session, shop_name=SHOP)
    return mailed_code(server)


def test_the_code_arrives_by_mail_at_the_address_given(
    codes: OneTimeCodes, smtp_server: MailServer, store: Database
) -> None:
    codes.issue(customer_id=JANE, email=JANE_EMAIL, session_id=SESSION, shop_name=SHOP)
    (received,) = smtp_server.received
    assert received.rcpt_tos == [JANE_EMAIL] and received.mail_from == "codes@acme.test"
    assert received.message["Subject"] == f"Your {SHOP} verification code"
    code = mailed_code(smtp_server)
    assert len(code) == 6
    body = received.message.get_payload(decode=True)
    assert isinstance(body, bytes) and "valid for 5 minutes" in body.decode()
    with store.transaction() as session:
        (row,) = session.query(OneTimeCode).all()
        assert (row.customer_id, row.session_id, row.attempts, row.used_at) == (JANE, SESSION, 0, None)
        assert row.expires_at.replace(tzinfo=T0.tzinfo) == T0 + timedelta(seconds=300)
        assert code not in row.code_hash and len(row.code_hash) == 64


def test_digits_and_lifetime_follow_settings(store: Database, smtp_server: MailServer, clock: Clock) -> None:
    settings = otp_settings(smtp_server, otp_digits=8, otp_ttl_seconds=90)
    codes = OneTimeCodes(store, settings, SmtpMailer(settings.smtp), secret=SECRET, clock=clock)
    code = issue(codes, smtp_server)
    assert len(code) == 8
    body = smtp_server.received[0].message.get_payload(decode=True)
    assert isinstance(body, bytes) and "valid for 90 seconds" in body.decode()
    assert codes.check(customer_id=JANE, session_id=SESSION, code=code)


def test_a_code_works_once(codes: OneTimeCodes, smtp_server: MailServer) -> None:
    code = issue(codes, smtp_server)
    assert codes.pending(session_id=SESSION) == JANE
    assert codes.check(customer_id=JANE, session_id=SESSION, code=code) is True
    assert codes.check(customer_id=JANE, session_id=SESSION, code=code) is False
    assert codes.pending(session_id=SESSION) is None


def test_spaces_and_dashes_are_ignored(codes: OneTimeCodes, smtp_server: MailServer) -> None:
    code = issue(codes, smtp_server)
    assert codes.check(customer_id=JANE, session_id=SESSION, code=f" {code[:3]} - {code[3:]} ")


def test_an_expired_code_is_refused(codes: OneTimeCodes, smtp_server: MailServer, clock: Clock) -> None:
    code = issue(codes, smtp_server)
    clock.advance(seconds=299)
    assert codes.pending(session_id=SESSION) == JANE
    clock.advance(seconds=1)
    assert codes.pending(session_id=SESSION) is None
    assert codes.check(customer_id=JANE, session_id=SESSION, code=code) is False


def test_wrong_tries_void_the_code(codes: OneTimeCodes, smtp_server: MailServer) -> None:
    code = issue(codes, smtp_server)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert codes.check(customer_id=JANE, session_id=SESSION, code=wrong) is False
    assert codes.check(customer_id=JANE, session_id=SESSION, code="not a code") is False
    assert codes.check(customer_id=JANE, session_id=SESSION, code=wrong) is False  # the third of 3
    assert codes.pending(session_id=SESSION) is None
    assert codes.check(customer_id=JANE, session_id=SESSION, code=code) is False


def test_the_right_code_on_the_last_try_still_works(codes: OneTimeCodes, smtp_server: MailServer) -> None:
    code = issue(codes, smtp_server)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert not codes.check(customer_id=JANE, session_id=SESSION, code=wrong)
    assert not codes.check(customer_id=JANE, session_id=SESSION, code=wrong)
    assert codes.check(customer_id=JANE, session_id=SESSION, code=code)


def test_a_new_code_voids_the_old_one(codes: OneTimeCodes, smtp_server: MailServer) -> None:
    first = issue(codes, smtp_server)
    second = issue(codes, smtp_server)
    assert len(smtp_server.received) == 2
    if first == second:  # one chance in a million
        pytest.skip("the two random codes happen to be equal")
    assert codes.check(customer_id=JANE, session_id=SESSION, code=first) is False
    assert codes.check(customer_id=JANE, session_id=SESSION, code=second) is True


def test_a_new_code_for_another_customer_voids_the_session_code(
    codes: OneTimeCodes, smtp_server: MailServer
) -> None:
    """At most one live code per session, so pending() names one customer."""
    jane_code = issue(codes, smtp_server, JANE)
    john_code = issue(codes, smtp_server, JOHN)
    assert smtp_server.received[-1].rcpt_tos == [JOHN_EMAIL]
    assert codes.pending(session_id=SESSION) == JOHN
    assert codes.check(customer_id=JANE, session_id=SESSION, code=jane_code) is False
    assert codes.check(customer_id=JOHN, session_id=SESSION, code=john_code) is True


def test_codes_of_other_sessions_stay_live(codes: OneTimeCodes, smtp_server: MailServer) -> None:
    here = issue(codes, smtp_server, JANE, "sess-a")
    there = issue(codes, smtp_server, JANE, "sess-b")
    assert codes.pending(session_id="sess-a") == JANE and codes.pending(session_id="sess-b") == JANE
    assert codes.check(customer_id=JANE, session_id="sess-a", code=here)
    assert codes.check(customer_id=JANE, session_id="sess-b", code=there)


def test_a_code_is_bound_to_its_session_and_customer(codes: OneTimeCodes, smtp_server: MailServer) -> None:
    code = issue(codes, smtp_server)
    assert codes.check(customer_id=JANE, session_id="sess-other", code=code) is False
    assert codes.check(customer_id=JOHN, session_id=SESSION, code=code) is False
    assert codes.pending(session_id="sess-other") is None
    # Neither try was on the live code, so it still has all its tries.
    assert codes.check(customer_id=JANE, session_id=SESSION, code=code) is True


def test_unreachable_mail_server_is_a_clear_error_and_leaves_no_code(
    store: Database, dead_smtp_port: int, smtp_server: MailServer, clock: Clock
) -> None:
    good = otp_settings(smtp_server)
    working = OneTimeCodes(store, good, SmtpMailer(good.smtp), secret=SECRET, clock=clock)
    earlier = issue(working, smtp_server)
    dead = good.smtp.model_copy(update={"port": dead_smtp_port})
    broken = OneTimeCodes(store, good, SmtpMailer(dead), secret=SECRET, clock=clock)
    with pytest.raises(MailUnavailableError, match="cannot reach the mail server") as caught:
        broken.issue(customer_id=JANE, email=JANE_EMAIL, session_id=SESSION, shop_name=SHOP)
    assert caught.value.context["reason"] == "unreachable"
    with store.transaction() as session:
        assert session.query(OneTimeCode).count() == 1  # the unsent code is gone
    assert working.check(customer_id=JANE, session_id=SESSION, code=earlier)  # the earlier one stands


def test_find_code(codes: OneTimeCodes) -> None:
    assert codes.find_code("it's 123456") == "123456"
    assert codes.find_code("Code: 123 456.") == "123456"
    assert codes.find_code("123-456") == "123456"
    assert codes.find_code("1234567") is None
    assert codes.find_code("12345") is None
    assert codes.find_code("order #W4827783") is None
    assert codes.find_code("I did not get it") is None


def test_prune(codes: OneTimeCodes, smtp_server: MailServer, clock: Clock, store: Database) -> None:
    issue(codes, smtp_server)
    clock.advance(hours=2)
    assert codes.prune() == 0
    clock.advance(days=1)
    assert codes.prune() == 1
    with store.transaction() as session:
        assert session.query(OneTimeCode).count() == 0


def test_concurrent_checks_of_one_code_succeed_once(
    shared_url: str, make_databases: Callable[[str], Database], smtp_server: MailServer
) -> None:
    settings = otp_settings(smtp_server, otp_max_attempts=10)
    mailer = SmtpMailer(settings.smtp)
    workers = [OneTimeCodes(make_databases(shared_url), settings, mailer, secret=SECRET) for _ in range(2)]
    code = issue(workers[0], smtp_server)
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def attempt(worker: OneTimeCodes) -> None:
        try:
            start.wait()
            results.append(worker.check(customer_id=JANE, session_id=SESSION, code=code))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(workers[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(results) == [False] * 5 + [True]
