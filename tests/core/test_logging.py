from __future__ import annotations

import io
import json
import logging

from core.config import LoggingSettings
from core.logging import configure_logging, redact_text


def test_redacts_emails_and_street_addresses():
    text = "Customer noah.brown7922@example.com ships to 986 Sunset Drive, Suite 259 today"
    cleaned = redact_text(text)
    assert "noah.brown7922" not in cleaned and "example.com" not in cleaned
    assert "986 Sunset Drive" not in cleaned and "Suite 259" not in cleaned
    assert cleaned.startswith("Customer [email] ships to [address]")


def test_json_log_lines_are_redacted_including_extra_fields():
    stream = io.StringIO()
    configure_logging(LoggingSettings(level="INFO", json_format=True), stream=stream)
    try:
        logging.getLogger("shopassist.test").info(
            "login by %s",
            "alice@example.com",
            extra={
                "email": "alice@example.com",
                "shipping_address": {"address1": "1 Main St"},
                "order": "#W1",
            },
        )
    finally:
        configure_logging(LoggingSettings(level="WARNING", json_format=False))
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "login by [email]"
    assert line["email"] == "[redacted]" and line["shipping_address"] == "[redacted]"
    assert line["order"] == "#W1" and line["level"] == "INFO"
    assert "alice" not in stream.getvalue()


def test_a_bot_token_in_a_bot_api_url_is_masked_in_httpx_lines():
    """python-telegram-bot puts the bot token in the path of every Bot API URL it requests."""
    import httpx

    stream = io.StringIO()
    configure_logging(LoggingSettings(level="INFO", json_format=True), stream=stream)
    try:
        url = httpx.URL("http://127.0.0.1:8081/bot123456:AAE-secret_part/getMe")
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "POST", url, "HTTP/1.1", 401, "")
    finally:
        configure_logging(LoggingSettings(level="WARNING", json_format=False))
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert "/bot123456:***/getMe" in line["message"]
    assert "AAE-secret_part" not in stream.getvalue()
