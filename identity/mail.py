"""Outgoing mail, for one-time codes: a small protocol and a standard-library SMTP client.

The protocol is all the code that sends mail depends on, so a deployment can put another
transport behind it; :class:`SmtpMailer` is the one configured by ``auth.smtp``. Every way a
send can fail (server unreachable, TLS or login refused, recipient refused) becomes one
:class:`~core.errors.MailUnavailableError`, because the caller's answer is the same for all:
nothing went out, say so and offer another way. Recipients are logged masked (``j***@example.com``).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from core.config.identity import SmtpSettings
from core.errors import ConfigError, MailUnavailableError
from core.logging import redact_text

log = logging.getLogger(__name__)


def mask_email(address: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``: enough for an operator to tell mails
    apart in a log, not enough to recover the address (or to be caught by log redaction)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


class Mailer(Protocol):
    """Sends one plain-text mail or raises :class:`~core.errors.MailUnavailableError`."""

    def send(self, *, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    """Sends through the SMTP server of ``auth.smtp``, one connection per mail.

    With ``starttls`` (the default) the connection is upgraded before anything else is said,
    and a server that does not offer STARTTLS is an error, not a reason to send in clear.
    ``ssl_context`` replaces the default (system CAs, host name checked), e.g. to trust a
    private CA.
    """

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        if not settings.host:
            raise ConfigError("auth.smtp.host is not set: there is no server to send mail through")
        self._settings = settings
        self._host: str = settings.host
        self._ssl_context = ssl_context

    def message(self, *, to: str, subject: str, body: str) -> EmailMessage:
        """The mail as it goes out (From, To, Subject, Date, Message-ID; UTF-8 plain text)."""
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self._settings.sender.rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(body)
        return message

    def send(self, *, to: str, subject: str, body: str) -> None:
        settings = self._settings
        masked = mask_email(to)
        message = self.message(to=to, subject=subject, body=body)
        try:
            with smtplib.SMTP(self._host, settings.port, timeout=settings.timeout_seconds) as smtp:
                smtp.ehlo()
                if settings.starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                if settings.username:
                    password = settings.password.get_secret_value() if settings.password else ""
                    smtp.login(settings.username, password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error("the mail server refused the login", "login_refused", masked) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error(
                "the mail server does not offer STARTTLS (auth.smtp.starttls is on)", "no_starttls", masked
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise self._error("the mail server refused the recipient", "recipient_refused", masked) from exc
        except ssl.SSLError as exc:
            raise self._error(f"TLS with the mail server failed: {exc.reason}", "tls_failed", masked) from exc
        except smtplib.SMTPException as exc:
            # A server's reply may quote the recipient: it is redacted like a log line.
            reason = redact_text(str(exc))
            raise self._error(f"the mail server refused the mail: {reason}", "refused", masked) from exc
        except OSError as exc:  # refused, unreachable, timed out, name not resolved
            raise self._error(
                f"cannot reach the mail server at {self._host}:{settings.port}: {exc}", "unreachable", masked
            ) from exc
        log.info("mail sent", extra={"recipient": masked, "smtp_host": self._host})

    def _error(self, message: str, reason: str, masked: str) -> MailUnavailableError:
        log.warning("mail not sent", extra={"recipient": masked, "reason": reason, "smtp_host": self._host})
        return MailUnavailableError(message, reason=reason, recipient=masked)
