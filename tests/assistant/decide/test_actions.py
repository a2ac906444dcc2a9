"""The action registry: every intent has exactly one action, checked at start-up."""

from __future__ import annotations

import pytest

from assistant.decide.actions import ActionRegistry, Handle, HandOff, StartForm, default_actions
from assistant.decide.handlers import talk
from assistant.sessions.slots import ActiveForm, Mode, Slots
from assistant.sessions.state import SessionState
from core.errors import RegistryError, UnknownNameError
from dialogue_rules.forms import default_form_rules
from dialogue_rules.handoff import default_handoff_rules
from dialogue_rules.intents import UNKNOWN_INTENT, IntentMatcher, load_intent_config
from tests.assistant.decide.conftest import Decider, MakeTurn
from tests.shop_fixture import ALICE

FORMS = default_form_rules().forms.names()
TRIGGERS = default_handoff_rules().names()


def _check(registry: ActionRegistry, intents: list[str]) -> None:
    registry.check(intents=intents, forms=FORMS, triggers=TRIGGERS)


def test_the_default_actions_cover_every_intent_of_the_packaged_yaml() -> None:
    intents = load_intent_config().names()
    registry = ActionRegistry(default_actions())
    _check(registry, intents)  # raises on any gap
    assert sorted(registry.names()) == sorted([*intents, UNKNOWN_INTENT])


def test_an_intent_without_an_action_fails_naming_it() -> None:
    intents = [*load_intent_config().names(), "track_parcel"]
    with pytest.raises(RegistryError, match="intents without an action: track_parcel"):
        _check(ActionRegistry(default_actions()), intents)


def test_an_action_for_an_intent_that_does_not_exist_fails() -> None:
    intents = [name for name in load_intent_config().names() if name != "recommend"]
    with pytest.raises(RegistryError, match="actions for intents that do not exist: recommend"):
        _check(ActionRegistry(default_actions()), intents)


def test_a_second_action_for_an_intent_fails_at_registration() -> None:
    with pytest.raises(RegistryError, match="'greet' is already registered"):
        ActionRegistry([*default_actions(), Handle("greet", talk.thanks)])


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        (StartForm("greet", "greeting_form"), "greet: no form 'greeting_form'"),
        (HandOff("greet", "bored"), "greet: no handoff trigger 'bored'"),
    ],
)
def test_forms_and_triggers_must_exist(action: StartForm | HandOff, problem: str) -> None:
    actions = [a for a in default_actions() if a.name != "greet"] + [action]
    with pytest.raises(RegistryError, match=problem):
        _check(ActionRegistry(actions), load_intent_config().names())


def test_a_lookup_of_an_unknown_intent_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match="order_status"):
        ActionRegistry(default_actions()).get("order_stats")


def test_form_of() -> None:
    registry = ActionRegistry(default_actions())
    assert registry.form_of("order_status") == "track_order"
    assert registry.form_of("greet") is None
    assert registry.form_of("no_such_intent") is None


def test_the_interrupt_flag_lives_in_the_intents_yaml(rules_only: IntentMatcher) -> None:
    config = rules_only.config
    assert config.interrupts_form("search_products") and config.interrupts_form("cancel_order")
    assert not config.interrupts_form("affirm")
    assert not config.interrupts_form(UNKNOWN_INTENT)


def test_asking_for_a_person_hands_off_and_drops_the_open_form(decider: Decider, make_turn: MakeTurn) -> None:
    state = SessionState(
        session_id="decide-1",
        slots=Slots(customer_id=ALICE, active_form=ActiveForm(name="cancel_order", requested="order_id")),
    )
    turn = make_turn("can I talk to a real person please", state=state)
    assert turn.intent.intent == "human_handoff"
    draft = decider.router.route(turn)
    assert draft.template == default_handoff_rules().trigger("customer_request").template
    assert turn.state.mode is Mode.AGENT
    assert turn.state.active_form is None


def test_a_start_form_action_opens_its_form(decider: Decider, make_turn: MakeTurn) -> None:
    turn = make_turn("I want to cancel my order")
    draft = decider.router.route(turn)
    assert turn.state.active_form is not None and turn.state.active_form.name == "cancel_order"
    assert draft.template == "auth_ask_knowledge"  # the form verifies the customer first
