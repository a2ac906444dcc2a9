"""The socket event models, the origin rule and the per-address socket count, without a server."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from connectors.web.socket_events import (
    AGENT_EVENTS,
    CHAT_EVENTS,
    MAX_SEQ,
    SPEECH_EVENTS,
    AgentOpen,
    ChatHello,
    ChatMessage,
    ClientEvent,
    Refusal,
    SpeechStart,
    read_event,
)
from connectors.web.socket_guard import SocketSlots, origin_allowed


def _read(event: object, events: Mapping[str, type[ClientEvent]] = CHAT_EVENTS) -> ClientEvent | Refusal:
    return read_event(json.dumps(event), events, max_chars=10_000)


def test_sequence_numbers_are_bounded_to_what_the_store_holds() -> None:
    assert _read({"type": "hello", "last_seq": MAX_SEQ}) == ChatHello(last_seq=MAX_SEQ)
    assert _read({"type": "hello"}) == ChatHello()
    for bad in (MAX_SEQ + 1, -1, True, "3", 2.0, None):
        refused = _read({"type": "hello", "last_seq": bad})
        assert isinstance(refused, Refusal) and refused.code == "invalid_event", bad
        assert refused.message.startswith("Invalid 'hello' event: last_seq:")
    opened = _read({"type": "open", "session_id": "s-1", "after_seq": 7}, AGENT_EVENTS)
    assert opened == AgentOpen(session_id="s-1", after_seq=7)
    refused = _read({"type": "open", "session_id": "s-1", "after_seq": 2**63}, AGENT_EVENTS)
    assert isinstance(refused, Refusal) and "after_seq" in refused.message


def test_a_refused_message_still_names_the_message_it_answers() -> None:
    refused = _read({"type": "message", "text": "   ", "message_id": "m-1"})
    assert isinstance(refused, Refusal) and refused.code == "invalid_message"
    assert refused.context == {"in_reply_to": "m-1"} and "text" in refused.message
    unreadable = _read({"type": "message", "text": "hi", "message_id": "no spaces"})
    assert isinstance(unreadable, Refusal) and unreadable.context == {}
    assert "message_id" in unreadable.message
    card = _read({"type": "message", "text": "add it", "action": {"product_id": 42}})
    assert isinstance(card, Refusal) and "action.product_id" in card.message
    fine = _read(
        {"type": "message", "text": "add it", "action": {"kind": "add", "product_id": "P-1"}, "x": 1}
    )
    assert isinstance(fine, ChatMessage) and fine.action is not None and fine.action.product_id == "P-1"


def test_frames_that_are_no_event() -> None:
    assert read_event("{not json", CHAT_EVENTS, max_chars=100) == Refusal(
        "malformed_json", "Events must be JSON objects"
    )
    huge_number = read_event('{"type": 1' + "0" * 5000 + "}", CHAT_EVENTS, max_chars=10_000)
    assert isinstance(huge_number, Refusal) and huge_number.code == "malformed_json"
    too_long = read_event("x" * 101, CHAT_EVENTS, max_chars=100)
    assert isinstance(too_long, Refusal) and too_long.code == "message_too_long"
    unknown = _read({"type": "sudo" * 50})
    assert isinstance(unknown, Refusal) and unknown.code == "unknown_event" and len(unknown.message) < 120
    assert _read({"type": "start", "format": "pcm_s16le", "sample_rate": 8000}, SPEECH_EVENTS) == SpeechStart(
        format="pcm_s16le", sample_rate=8000
    )
    assert isinstance(_read({"type": "start", "sample_rate": "fast"}, SPEECH_EVENTS), Refusal)


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "expected"),
    [
        (None, "shop.test:8000", [], True),  # not a browser
        ("http://shop.test:8000", "shop.test:8000", [], True),  # the server's own page
        ("https://shop.test", "shop.test", [], True),  # behind a TLS proxy passing Host on
        ("https://shop.test:443", "shop.test", [], True),
        ("http://evil.test", "shop.test:8000", [], False),
        ("http://shop.test:8001", "shop.test:8000", [], False),
        ("null", "shop.test:8000", [], False),
        ("https://www.shop.test", "api.shop.test", ["https://www.shop.test"], True),
        ("http://www.shop.test", "api.shop.test", ["https://www.shop.test"], False),
        ("https://anything.test", "api.shop.test", ["*"], True),
    ],
)
def test_origin_rule(origin: str | None, host: str, allowed: list[str], expected: bool) -> None:
    headers = {"host": host} if origin is None else {"host": host, "origin": origin}
    assert origin_allowed(headers, allowed) is expected


def test_socket_slots_count_per_address() -> None:
    slots = SocketSlots(2)
    assert slots.take("a") and slots.take("a") and not slots.take("a")
    assert slots.take("b") and slots.held("a") == 2
    slots.give_back("a")
    assert slots.take("a") and slots.held("a") == 2
    unlimited = SocketSlots(0)
    assert all(unlimited.take("a") for _ in range(1000))
