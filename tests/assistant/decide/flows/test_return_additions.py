"""More items said to a return's confirmation prompt ("I also want to return the shoes") join the
proposed ones; without "also" a new request replaces the prompt as before."""

from __future__ import annotations

from assistant.reply.message import Reply
from eval.dialogue.runner import ScenarioHarness


def _items(reply: Reply) -> list[str]:
    steps = [s for s in reply.steps if s.kind == "confirmation" and "args" in s.detail]
    assert steps, reply.text
    return sorted(steps[-1].detail["args"]["item_ids"])


def test_also_adds_items_to_the_proposed_return(harness: ScenarioHarness) -> None:
    with harness.assistant() as (assistant, _):
        sid = assistant.start_session(channel="web")
        assistant.handle(sid, "return the socks from #W0000002, alice@example.com, zip 10001")
        first = assistant.handle(sid, "to my visa please")
        socks = _items(first)
        assert len(socks) == 1
        both = assistant.handle(sid, "I also want to return the running shoes from that order")
        assert len(_items(both)) == 2 and set(socks) < set(_items(both))
        assert "Socks" in both.text and "Running Shoe" in both.text


def test_a_refund_for_an_order_not_yet_delivered_offers_its_cancellation(harness: ScenarioHarness) -> None:
    with harness.assistant() as (assistant, _):
        sid = assistant.start_session(channel="web")
        offer = assistant.handle(
            sid, "I want a full refund for order #W0000001, alice@example.com, zip 10001"
        )
        assert offer.template == "return_not_delivered"
        assert [b.payload for b in offer.quick_replies] == ["cancel order #W0000001"]
        taken = assistant.handle(sid, "yes please")
        assert taken.template == "ask_cancel_reason"
        confirm = assistant.handle(sid, "no longer needed")
        assert confirm.template == "confirm_action" and "#W0000001" in confirm.text
        said = [
            e.event.text for e in assistant.store.events(session_id=sid) if e.event.type == "user_message"
        ]
        assert "yes please" in said  # the log keeps what the customer said
