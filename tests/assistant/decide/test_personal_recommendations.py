"""The chat path of personal recommendations: "recommend something for me", "what else might I
like", "gift ideas for my dad" reach recommend_for_customer with the conversation's context."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant.decide.context import Context
from assistant.decide.handlers.catalog import recommend
from assistant.reply.formatting import shown_from
from assistant.sessions.slots import Slots
from assistant.sessions.state import SessionState
from core.config import Settings
from store.db import Database
from store.models import Product
from tests.assistant.decide.conftest import MakeTurn
from tests.tools.recommend.conftest import DANA, add_history, train_saved
from tools.catalog import summarize_product


@pytest.fixture
def trained(settings: Settings, database: Database) -> None:
    add_history(database)
    train_saved(settings, database)


def _calls(turn) -> list[tuple[str, dict]]:
    return [(e.tool, e.args) for e in turn.events if type(e).__name__ == "ToolCall"]


def test_a_verified_customer_asking_for_themselves_gets_reasons_from_their_purchases(
    make_turn: MakeTurn, ctx: Context, trained: None
) -> None:
    state = SessionState(session_id="decide-1", slots=Slots(customer_id=DANA))
    turn = make_turn("recommend something for me", state=state)
    draft = recommend(turn, ctx)
    assert _calls(turn) == [("recommend_for_customer", {"limit": 5})]
    assert draft.template == "personal_results"
    assert draft.text.startswith("Picked for you:")
    assert "Because you bought the Summit Hiking Boots" in draft.text
    assert "Summit Hiking Boots (" not in draft.text  # bought: not recommended again


def test_what_else_uses_the_products_last_shown(
    make_turn: MakeTurn, ctx: Context, database: Database, trained: None
) -> None:
    with database.session() as session:
        tent = session.scalar(
            select(Product).where(Product.id == "H-TENT").options(selectinload(Product.variants))
        )
        shown = shown_from(summarize_product(tent))
    state = SessionState(session_id="decide-2", slots=Slots(last_products=(shown,)))
    turn = make_turn("what else might I like?", state=state)
    draft = recommend(turn, ctx)
    assert _calls(turn) == [("recommend_for_customer", {"limit": 5, "viewed_product_ids": ["H-TENT"]})]
    assert draft.template == "personal_results"
    assert "the Trail Tent 2P you viewed" in draft.text
    assert "Chef Knife" not in draft.text


def test_a_gift_for_someone_passes_what_they_like_and_the_budget(
    make_turn: MakeTurn, ctx: Context, trained: None
) -> None:
    turn = make_turn("gift ideas for my dad who likes hiking, under $100")
    recommend(turn, ctx)
    [(tool, args)] = _calls(turn)
    assert tool == "recommend_for_customer"
    assert args["interests"] == "likes hiking"
    assert Decimal(args["max_price"]) == Decimal("100")


def test_a_plain_question_without_a_model_lists_best_sellers(make_turn: MakeTurn, ctx: Context) -> None:
    turn = make_turn("what do you recommend?")
    draft = recommend(turn, ctx)
    assert [tool for tool, _ in _calls(turn)] == ["recommend_for_customer"]
    assert draft.template == "recommend_results"


def test_a_product_question_still_searches(make_turn: MakeTurn, ctx: Context, trained: None) -> None:
    turn = make_turn("what do you recommend for a beginner runner")
    recommend(turn, ctx)
    assert [tool for tool, _ in _calls(turn)] == ["catalog_search"]
