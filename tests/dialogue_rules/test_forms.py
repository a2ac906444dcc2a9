"""Form definitions and the small parsers forms use (cancel reasons, addresses, "all items")."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogue_rules.forms import default_form_rules, load_form_rules
from shopassist.errors import ConfigError, UnknownNameError

RULES = default_form_rules()


def test_forms_know_their_intents_and_slots() -> None:
    cancel = RULES.forms.get("cancel_order")
    assert cancel.requires_auth and cancel.slots == ("order_id", "reason")
    assert RULES.form_for_intent("order_status") is RULES.forms.get("track_order")
    assert RULES.form_for_intent("greet") is None
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


def test_an_intent_may_start_only_one_form(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "dialogue_rules" / "forms.yaml").read_text()
    text = text.replace("intents: [list_orders]", "intents: [order_status]")
    path = tmp_path / "forms.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="already starts form 'track_order'"):
        load_form_rules(path)
