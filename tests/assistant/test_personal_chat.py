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


def test_an_earlier_search_still_steers_what_else_is_recommended(harness: ScenarioHarness) -> None:
    """The conversation remembers every list it showed, not only the last one: a visitor who
    looked at kitchen knives, then at energy bars, gets more kitchen gear in "what else might I
    like" than a visitor who only looked at the bars."""
    kitchen = {"K-KNIFE", "K-PAN", "K-BOARD", "K-SHARP", "K-GRIND"}
    with harness.assistant() as (assistant, services):
        add_history(services.database)
        train_saved(services.settings, services.database)

        def recommended(*said: str) -> set[str]:
            sid = assistant.start_session(channel="web")
            for text in said:
                assistant.handle(sid, text)
            state = assistant.store.state(session_id=sid)
            assert "C-BARS" in state.shown_products
            reply = assistant.handle(sid, "what else might I like?")
            assert reply.template == "personal_results"
            return {p.product_id for p in reply.products}

        after_both = recommended("do you have kitchen knives?", "show me energy bars")
        after_bars = recommended("show me energy bars")
    assert len(after_both & kitchen) > len(after_bars & kitchen)
