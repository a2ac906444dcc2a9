"""SmtpMailer against a real SMTP server (aiosmtpd): plain, STARTTLS with login, and the ways a
send fails, each one clear error; the recipient is never logged in clear."""

from __future__ import annotations

import logging
import ssl

import pytest

from core.config.identity import SmtpSettings
from core.errors import ConfigError, MailUnavailableError
from identity.mail import SmtpMailer, mask_email
from tests.identity.conftest import JANE_EMAIL, SMTP_PASSWORD, SMTP_USER, MailServer, TlsMailServer


def test_mask_email() -> None:
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email(" J@x.org ") == "J***@x.org"
    assert mask_email("not an address") == "***"
    assert mask_email("@example.com") == "***"


def test_sends_a_plain_text_mail(smtp_server: MailServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="identity.mail")
    mailer = SmtpMailer(smtp_server.settings(sender="shop@example.net"))
    mailer.send(to=JANE_EMAIL, subject="Hello Jane", body="Your code is 123456.\nBye — the shop\n")
    (received,) = smtp_server.received
    assert received.rcpt_tos == [JANE_EMAIL]
    assert received.mail_from == "shop@example.net"
    message = received.message
    assert message["To"] == JANE_EMAIL and message["Subject"] == "Hello Jane"
    assert message["Message-ID"].endswith("@example.net>") and message["Date"]
    assert message.get_content_type() == "text/plain"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert (
        payload.decode(message.get_content_charset() or "utf-8").replace("\r\n", "\n")
        == "Your code is 123456.\nBye — the shop\n"
    )
    assert "j***@example.com" in str(vars(caplog.records[-1]))
    assert all(JANE_EMAIL not in f"{r.getMessage()} {vars(r)}" for r in caplog.records)


def test_starttls_and_login(tls_smtp_server: TlsMailServer) -> None:
    settings = tls_smtp_server.settings(starttls=True, username=SMTP_USER, password=SMTP_PASSWORD)
    SmtpMailer(settings, ssl_context=tls_smtp_server.client_context).send(
        to=JANE_EMAIL, subject="s", body="over TLS"
    )
    assert tls_smtp_server.logins == [SMTP_USER]
    assert [r.rcpt_tos for r in tls_smtp_server.received] == [[JANE_EMAIL]]


def test_wrong_password_is_a_clear_error(tls_smtp_server: TlsMailServer) -> None:
    settings = tls_smtp_server.settings(starttls=True, username=SMTP_USER, password="wrong")
    with pytest.raises(MailUnavailableError, match="refused the login") as caught:
        SmtpMailer(settings, ssl_context=tls_smtp_server.client_context).send(
            to=JANE_EMAIL, subject="s", body="b"
        )
    assert caught.value.context == {"reason": "login_refused", "recipient": "j***@example.com"}
    assert not tls_smtp_server.received


def test_untrusted_certificate_is_refused(tls_smtp_server: TlsMailServer) -> None:
    """The default context checks the server's certificate: a self-signed one is not accepted."""
    settings = tls_smtp_server.settings(starttls=True, username=SMTP_USER, password=SMTP_PASSWORD)
    with pytest.raises(MailUnavailableError, match="TLS") as caught:
        SmtpMailer(settings).send(to=JANE_EMAIL, subject="s", body="b")
    assert caught.value.context["reason"] == "tls_failed"
    assert isinstance(caught.value.__cause__, ssl.SSLError)
    assert not tls_smtp_server.received


def test_no_starttls_offered_is_not_a_reason_to_send_in_clear(smtp_server: MailServer) -> None:
    with pytest.raises(MailUnavailableError, match="STARTTLS") as caught:
        SmtpMailer(smtp_server.settings(starttls=True)).send(to=JANE_EMAIL, subject="s", body="b")
    assert caught.value.context["reason"] == "no_starttls"
    assert not smtp_server.received


def test_unreachable_server_is_a_clear_error(dead_smtp_port: int, caplog: pytest.LogCaptureFixture) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=dead_smtp_port, starttls=False, timeout_seconds=5)
    with pytest.raises(
        MailUnavailableError, match=f"cannot reach the mail server at 127.0.0.1:{dead_smtp_port}"
    ) as caught:
        SmtpMailer(settings).send(to=JANE_EMAIL, subject="s", body="b")
    error = caught.value
    assert error.code == "mail_unavailable" and error.http_status == 503
    assert error.context == {"reason": "unreachable", "recipient": "j***@example.com"}
    assert JANE_EMAIL not in str(error.to_dict())
    assert all(JANE_EMAIL not in f"{r.getMessage()} {vars(r)}" for r in caplog.records)


def test_no_host_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"auth\.smtp\.host"):
        SmtpMailer(SmtpSettings())
