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
