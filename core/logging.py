"""Logging set-up: JSON lines (or plain text) with customer emails and addresses redacted.

Redaction runs on every record that passes through the handler installed here: the message,
its arguments and any ``extra`` fields. It is a safety net; code should still avoid logging
customer data in the first place.

uvicorn's access lines (``uvicorn.access``) and its WebSocket lines (``uvicorn.error``: "WebSocket
/ws/chat?token=... [accepted]") carry the request's full path with its query string, where a
session token, a shop's sign-in token or an email may sit; httpx logs the full URL of every
request made (a Telegram Bot API URL carries the bot token in its path).
:class:`DropQueryStrings` cuts the query (and the token's secret) off those records before any handler
sees them, on those loggers (whatever handler they end up in) and on the handler installed here.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core.config import LoggingSettings

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
STREET = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][A-Za-z0-9.'-]*\s+){1,4}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    r"Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Broadway)\b\.?"
    r"(?:,?\s+(?:Apt|Suite|Unit|#)\s*[\w-]+)?",
)
SENSITIVE_KEYS = {"email", "address", "address1", "address2", "shipping_address", "street", "zip"}
REDACTED = "[redacted]"
REQUEST_ID: ContextVar[str | None] = ContextVar("shopassist_request_id", default=None)
"""The id of the HTTP request being served (set by the web app), added to every log line."""

_RESERVED = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "httpx")
"""Loggers whose records carry full URLs: uvicorn's for requests served, httpx's for requests made."""
_QUERY = re.compile(r"(/[^\s\"?]*)\?[^\s\"]*")
_BOT_TOKEN = re.compile(r"(/(?:file/)?bot\d+:)[A-Za-z0-9_-]+")
"""The secret half of a Telegram bot token in a Bot API URL (``/bot<id>:<secret>/getMe``)."""


def drop_query_strings(text: str) -> str:
    """``text`` with the query string of every URL path in it removed ("/chat?token=x" -> "/chat")
    and the secret of a Bot API URL's token masked ("/bot123:secret/getMe" -> "/bot123:***/getMe")."""
    return _BOT_TOKEN.sub(r"\1***", _QUERY.sub(r"\1", text))


class DropQueryStrings(logging.Filter):
    """Removes query strings from the records of :data:`URL_LOGGERS` (the arguments keep their
    number and types, so uvicorn's own access formatter still works)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(("uvicorn", "httpx")):
            return True
        if isinstance(record.msg, str):
            record.msg = drop_query_strings(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        return True


def _clean(value: object) -> object:
    """A log argument without query strings (a URL object, such as httpx's, becomes its text)."""
    if isinstance(value, str):
        return drop_query_strings(value)
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value)
    cleaned = drop_query_strings(text)
    return cleaned if cleaned != text else value


def redact_text(text: str) -> str:
    return STREET.sub("[address]", EMAIL.sub("[email]", text))


def redact(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Rewrites a record in place so no handler sees customer emails or street addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = redact_text(record.getMessage())
        except Exception:  # a broken format string must not break logging
            record.msg = redact_text(str(record.msg))
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _RESERVED:
                setattr(record, key, redact(value, key))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


def configure_logging(settings: LoggingSettings, *, stream: Any = None) -> None:
    """Install one redacting handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_shopassist", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._shopassist = True  # type: ignore[attr-defined]
    handler.addFilter(DropQueryStrings())  # before redaction, which flattens the arguments
    handler.addFilter(RedactingFilter())
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropQueryStrings) for f in logger.filters):
            logger.addFilter(DropQueryStrings())
    if settings.json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(settings.level)
