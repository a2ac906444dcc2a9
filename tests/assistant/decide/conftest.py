"""Decisions without the engine: a turn over the fixture shop's store (tools through the real
policy layer), the rules-only intent matcher, and the assistant's real context, flows, actions
and router, wired as ``Assistant.__init__`` wires them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from assistant.decide.actions import ActionEnv
from assistant.decide.context import Context
from assistant.decide.router import Router, build_router
from assistant.decide.turn import Turn
from assistant.reply.templates import default_templates
from assistant.sessions.slots import Slots
from assistant.sessions.state import SessionState
from core.config import DialogueSettings, ShopSettings
from dialogue_rules.entities.extract import extract_all
from dialogue_rules.forms import default_form_rules
from dialogue_rules.guardrails import check_input
from dialogue_rules.handoff import default_handoff_rules
from dialogue_rules.intents import IntentMatcher
from dialogue_rules.search_terms import default_search_terms
from tests.shop_fixture import ALICE
from tools.policy import ToolExecutor

MakeTurn = Callable[..., Turn]
ALICE_STATE = SessionState(session_id="decide-1", slots=Slots(customer_id=ALICE, customer_name="Alice"))
"""A conversation in which the fixture shop's Alice is verified."""


@pytest.fixture(scope="session")
def rules_only() -> IntentMatcher:
    return IntentMatcher(embedder=None)


@pytest.fixture
def ctx() -> Context:
    shop = ShopSettings()
    return Context(
        templates=default_templates(),
        currency=shop.currency,
        forms=default_form_rules(),
        terms=default_search_terms(),
        shop=shop,
    )


@dataclass
class Decider:
    ctx: Context
    env: ActionEnv
    router: Router


@pytest.fixture
def decider(ctx: Context, rules_only: IntentMatcher) -> Decider:
    router = build_router(
        ctx, intents=rules_only.config, handoff=default_handoff_rules(), llm=None, max_failed_turns=2
    )
    return Decider(ctx, router.env, router)


@pytest.fixture
def make_turn(executor: ToolExecutor, rules_only: IntentMatcher) -> MakeTurn:
    """``make_turn(text, state=...)``: one customer message as the engine would prepare it."""

    def make(text: str, state: SessionState | None = None, session_id: str = "decide-1") -> Turn:
        guarded = check_input(text, settings=DialogueSettings())
        return Turn(
            session_id=session_id,
            channel="web",
            state=state or SessionState(session_id=session_id),
            guarded=guarded,
            entities=extract_all(guarded.text),
            intent=rules_only.match_guarded(guarded),
            executor=executor,
        )

    return make
