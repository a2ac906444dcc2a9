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
