"""Personal recommendations through the whole engine (rules only), with the search index: what a
visitor says they want is searched, and the recommendations come from there."""

from __future__ import annotations

from eval.dialogue.runner import ScenarioHarness
from tests.tools.recommend.conftest import add_history, train_saved


def test_gift_ideas_are_steered_by_what_the_visitor_said(harness: ScenarioHarness) -> None:
    with harness.assistant() as (assistant, services):
        add_history(services.database)  # the index follows the store's writes
        train_saved(services.settings, services.database)
        sid = assistant.start_session(channel="web")
        reply = assistant.handle(sid, "gift ideas for my dad who loves hiking and camping")
        assert reply.template == "personal_results"
        assert 'Picked for you for "loves hiking camping"' in reply.text
        assert "Matches what you asked for: loves hiking camping" in reply.text
        kitchen = ("Chef Knife", "Cast Iron Pan", "Cutting Board", "Whetstone", "Coffee Grinder")
        assert not any(name in reply.text for name in kitchen)
        shown = [p.product_id for p in reply.products]
        assert shown and {"H-TENT", "H-BOOT", "H-STOVE"} & set(shown)
