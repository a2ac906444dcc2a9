"""Account flows: the default address is read from the customer's words and confirmed exactly."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.account import ChangeDefaultAddressFlow
from assistant.sessions.slots import Slots
from assistant.sessions.state import SessionState
from tests.assistant.decide.conftest import MakeTurn
from tests.shop_fixture import ALICE

ALICE_STATE = SessionState(session_id="account-1", slots=Slots(customer_id=ALICE, customer_name="Alice"))


def test_the_new_default_address_is_read_from_the_request(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("please make 77 Pine Ave, Apt 4, Austin, TX 73301 my default address", state=ALICE_STATE)
    filled = ChangeDefaultAddressFlow().fill(turn, ctx, {}, None)
    assert filled.problem is None
    assert filled.values["address"] == {
        "address1": "77 Pine Ave",
        "address2": "Apt 4",
        "city": "Austin",
        "state": "TX",
        "zip": "73301",
        "country": "USA",
    }


def test_an_answer_that_is_not_an_address_is_asked_again(ctx: Context, make_turn: MakeTurn) -> None:
    flow = ChangeDefaultAddressFlow()
    first = flow.fill(make_turn("update my default address", state=ALICE_STATE), ctx, {}, None)
    assert first.values == {} and first.problem is None  # not asked yet: the form asks
    again = flow.fill(make_turn("somewhere in Texas", state=ALICE_STATE), ctx, {}, "address")
    assert again.problem is not None and again.problem.template == "ask_default_address"
    assert again.problem.failed and again.values == {}


def test_acting_asks_to_confirm_the_old_and_new_address(ctx: Context, make_turn: MakeTurn) -> None:
    address = {
        "address1": "77 Pine Ave",
        "address2": "",
        "city": "Austin",
        "state": "TX",
        "zip": "73301",
        "country": "USA",
    }
    draft = ChangeDefaultAddressFlow().act(make_turn("yes", state=ALICE_STATE), ctx, {"address": address})
    assert draft.template == "confirm_action"
    assert "1 Main St" not in draft.text and "1 M*** St" in draft.text  # on file: masked
    assert "77 Pine Ave, Austin, TX 73301" in draft.text  # just typed: as typed
