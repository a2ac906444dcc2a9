"""Answers by position ("the second one", "option 2", "2") to a question asked with buttons are
read as a tap on that button; after a product list they still mean the product."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.engine import Assistant
from eval.dialogue.runner import ScenarioHarness


@pytest.fixture
def assistant(harness: ScenarioHarness) -> Iterator[Assistant]:
    with harness.assistant() as (built, _):
        yield built


def _asked_which_order(assistant: Assistant) -> tuple[str, list[str]]:
    sid = assistant.start_session(channel="web")
    asked = assistant.handle(sid, "where is my order? alice@example.com, zip 10001")
    assert asked.template == "ask_order_id"
    return sid, [b.payload or b.label for b in asked.quick_replies]


@pytest.mark.parametrize(
    ("answer", "index"), [("the second one", 1), ("option 2", 1), ("3", 2), ("the last one", -1)]
)
def test_a_position_picks_that_button(assistant: Assistant, answer: str, index: int) -> None:
    sid, buttons = _asked_which_order(assistant)
    assert len(buttons) >= 3
    reply = assistant.handle(sid, answer)
    assert reply.template == "order_status"
    assert buttons[index] in reply.text


def test_a_position_past_the_buttons_picks_nothing(assistant: Assistant) -> None:
    sid, buttons = _asked_which_order(assistant)
    reply = assistant.handle(sid, str(len(buttons) + 5))
    assert reply.template != "order_status"


def test_a_message_with_more_than_a_position_is_read_as_it_is(assistant: Assistant) -> None:
    sid, buttons = _asked_which_order(assistant)
    reply = assistant.handle(sid, f"the second one, no wait, {buttons[0]}")
    assert reply.template == "order_status" and buttons[0] in reply.text


def test_after_a_product_list_a_position_means_the_product(harness: ScenarioHarness) -> None:
    with harness.assistant() as (assistant, _services):
        sid = assistant.start_session(channel="web")
        shown = assistant.handle(sid, "show me shoes")
        assert len(shown.products) >= 2
        reply = assistant.handle(sid, "tell me about the second one")
        assert shown.products[1].title in reply.text
