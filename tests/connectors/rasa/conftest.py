"""Rasa's webhook calls as Rasa sends them, and the actions over the fixture shop.

``rasa_call`` builds the body Rasa POSTs to an action server's ``/webhook`` (Rasa's documented
format: ``next_action``, ``sender_id``, the ``tracker`` with its slots, ``latest_message`` and
events, the ``domain``, the ``version``). The domain is the one ``shopassist rasa-export``
writes, as Rasa would send it back after training on it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker

from connectors.rasa import slots as S
from connectors.rasa.actions import ShopActions
from connectors.rasa.identity import SenderIdentities
from connectors.rasa.messages import ActionReply, Messages
from connectors.rasa.project import domain
from connectors.rasa.verify import Verifier
from identity.lockout import FailureGuard
from services import Services
from tools.registry import default_registry

RASA_VERSION = "3.21.1"


def rasa_call(
    action: str,
    *,
    sender: str,
    slots: dict[str, Any] | None = None,
    entities: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "nlu_fallback",
    metadata: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """The JSON body of Rasa's POST /webhook for running ``action`` after a user message."""
    now = time.time()
    found = []
    for name, value in (entities or {}).items():
        for one in value if isinstance(value, list) else [value]:
            start = text.find(str(one)) if text else -1
            found.append(
                {
                    "entity": name,
                    "start": max(start, 0),
                    "end": max(start, 0) + len(str(one)),
                    "value": one,
                    "extractor": "RegexEntityExtractor",
                }
            )
    parse_data = {
        "intent": {"name": intent, "confidence": 0.97},
        "entities": found,
        "text": text,
        "message_id": message_id or uuid.uuid4().hex,
        "metadata": metadata or {},
        "intent_ranking": [{"name": intent, "confidence": 0.97}],
    }
    events = [
        {"event": "action", "timestamp": now - 5, "name": "action_session_start", "confidence": 1.0},
        {"event": "session_started", "timestamp": now - 5},
        {"event": "action", "timestamp": now - 5, "name": "action_listen", "confidence": 1.0},
        {
            "event": "user",
            "timestamp": now,
            "text": text,
            "parse_data": parse_data,
            "input_channel": "rest",
            "message_id": parse_data["message_id"],
            "metadata": metadata or {},
        },
    ]
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": dict(slots or {}),
            "latest_message": parse_data,
            "latest_event_time": now,
            "followup_action": None,
            "paused": False,
            "events": events,
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": domain(default_registry()),
        "version": RASA_VERSION,
    }


def tracker_of(call: dict[str, Any]) -> Tracker:
    return Tracker.from_dict(call["tracker"])


def slots_set(reply: ActionReply) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in reply.events if e["event"] == "slot"}


def text_of(reply: ActionReply) -> str:
    return "\n".join(m.text for m in reply.messages)


def call(actions: ShopActions, action: str, **kwargs: Any) -> ActionReply:
    """Run one action the way the server does, from a webhook body."""
    tracker = tracker_of(rasa_call(action, **kwargs))
    if action == S.VERIFY_ACTION:
        return actions.handle_verify(tracker)
    if action == "action_discard_confirmation":
        return actions.handle_discard(tracker)
    prepare = action.startswith("action_prepare_")
    tool = actions.executor.tool(action.removeprefix("action_prepare_" if prepare else "action_"))
    return actions.handle_prepare(tool, tracker) if prepare else actions.handle_tool(tool, tracker)


@pytest.fixture
def shop_actions(services: Services) -> Iterator[ShopActions]:
    """The actions over the fixture shop (``auth.level: knowledge``), in this process."""
    settings = services.settings
    secret = b"test-secret-key-0123456789"
    identities = SenderIdentities(
        services.database, secret=secret, idle_seconds=settings.auth.idle_expiry_seconds
    )
    messages = Messages(currency=settings.shop.currency)
    verifier = Verifier(
        services.executor,
        identities,
        messages,
        level="knowledge",
        guard=FailureGuard(services.database, settings.auth, secret=secret),
    )
    yield ShopActions(services.executor, identities, verifier, messages)
