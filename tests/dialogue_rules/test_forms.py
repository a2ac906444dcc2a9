"""Form definitions and the small parsers forms use (cancel reasons, addresses, "all items")."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError, UnknownNameError
from dialogue_rules.forms import default_form_rules, load_form_rules

RULES = default_form_rules()


def test_forms_know_their_slots() -> None:
    cancel = RULES.forms.get("cancel_order")
    assert cancel.requires_auth and cancel.slots == ("order_id", "reason")
    assert not RULES.forms.get("add_to_cart").requires_auth
    with pytest.raises(UnknownNameError, match="cancel_order"):
        RULES.forms.get("cancle_order")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I don't need it anymore", "no longer needed"),
        ("changed my mind", "no longer needed"),
        ("Ordered by mistake", "ordered by mistake"),
        ("I bought the wrong size", "ordered by mistake"),
        ("hmm", None),
    ],
)
def test_cancel_reasons(text: str, reason: str | None) -> None:
    assert RULES.cancel_reason(text) == reason


def test_addresses_are_parsed_into_the_tool_shape() -> None:
    parsed = RULES.address("please send it to 77 Pine Ave, Apt 4, Austin, TX 73301")
    assert parsed == {
        "address1": "77 Pine Ave",
        "address2": "Apt 4",
        "city": "Austin",
        "state": "TX",
        "zip": "73301",
        "country": "USA",
    }
    assert (
        RULES.address("order #W0000002 to 5 Elm Road, Boston, MA 02118, thanks")["address1"] == "5 Elm Road"
    )
    assert RULES.address("somewhere nice") is None


def test_abort_and_all_items() -> None:
    assert RULES.is_abort("never mind") and RULES.is_abort("forget it, thanks")
    assert not RULES.is_abort("I don't mind waiting")
    assert RULES.means_all_items("all of them") and not RULES.means_all_items("the socks")


def test_a_form_file_with_an_intent_list_is_refused(tmp_path: Path) -> None:
    """Which intent starts which form is the action registry's, not forms.yaml's."""
    text = (Path(__file__).resolve().parents[2] / "dialogue_rules" / "forms.yaml").read_text()
    text = text.replace("  list_orders:\n", "  list_orders:\n    intents: [list_orders]\n")
    path = tmp_path / "forms.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"forms\.list_orders\.intents"):
        load_form_rules(path)


@pytest.mark.parametrize(
    ("text", "replacement"),
    [
        ("the same mechanical keyboard again", True),
        ("a new one, the same one please", True),
        ("I'd like a replacement, the same model", True),
        ("same size but purple", False),
        ("keep the same color", False),
    ],
)
def test_a_replacement_is_the_same_item_again(text: str, replacement: bool) -> None:
    assert RULES.means_replacement(text) is replacement


def test_price_words_pick_the_cheapest_or_the_priciest() -> None:
    rules = default_form_rules()
    assert rules.price_rank("the cheapest one in stock please") == -1
    assert rules.price_rank("give me the most expensive version") == 1
    assert rules.price_rank("a blue one") == 0


def test_an_order_described_by_its_last_digits_or_as_the_newest() -> None:
    rules = default_form_rules()
    assert rules.order_suffix("the order number ends in 66") == "66"
    assert rules.order_suffix("my order from last week") is None
    assert rules.means_latest_order("cancel my most recent order")
    assert rules.means_latest_order("the one I just placed")
    assert not rules.means_latest_order("cancel order #W0000001")


def test_a_second_choice_is_split_from_the_first() -> None:
    rules = default_form_rules()
    first, second = rules.second_choice("clicky and RGB; if there is no such one, no backlight is fine")
    assert first.startswith("clicky and RGB") and second == "no backlight is fine"
    assert rules.second_choice("the white one, otherwise the black one")[1] == "the black one"
    assert rules.second_choice("a red one please") == ("a red one please", None)


def test_at_all_is_not_all_of_them() -> None:
    rules = default_form_rules()
    assert rules.means_all_items("return all of them") and rules.means_all_items("both please")
    assert not rules.means_all_items("it doesn't work at all")
    assert not rules.means_all_items("it breaks all the time")
