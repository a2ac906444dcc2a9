"""The unknown intent's action: with a model that fails (its server down), the rules answer as
they do without one, instead of asking the customer to rephrase."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.decide.router import build_router
from assistant.llm.openai_compatible import OpenAICompatibleLLM
from assistant.llm.watch import WatchedLLM
from core.health import ComponentHealth, ComponentState
from dialogue_rules.handoff import default_handoff_rules
from dialogue_rules.intents import IntentMatcher
from tests.assistant.decide.conftest import Decider, MakeTurn
from tests.servers import free_port

#: No intent matches it, but it names things to look for.
UNMATCHED_WITH_PRODUCT_WORDS = "walnut lamp for my desk maybe"


@pytest.fixture
def server_down() -> Iterator[WatchedLLM]:
    llm = WatchedLLM(
        OpenAICompatibleLLM(base_url=f"http://127.0.0.1:{free_port()}/v1", timeout_seconds=2),
        ComponentHealth("llm"),
        first_wait=5,
    )
    yield llm
    llm.close()


def test_a_model_whose_server_is_down_leaves_the_unknown_intent_to_the_rules(
    decider: Decider, make_turn: MakeTurn, rules_only: IntentMatcher, server_down: WatchedLLM
) -> None:
    assert server_down.health.status.state is ComponentState.DEGRADED
    without_model = decider.router.route(make_turn(UNMATCHED_WITH_PRODUCT_WORDS))
    router = build_router(
        decider.ctx,
        intents=rules_only.config,
        handoff=default_handoff_rules(),
        llm=server_down,
        max_failed_turns=2,
    )
    turn = make_turn(UNMATCHED_WITH_PRODUCT_WORDS)
    assert turn.intent.intent == "unknown"
    with_failing_model = router.route(turn)
    assert with_failing_model.template == without_model.template != "clarify"
    assert with_failing_model.text == without_model.text
