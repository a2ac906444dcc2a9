"""Option values named in a message, in the catalog's or the customer's spelling."""

from __future__ import annotations

import pytest

from dialogue_rules.option_values import default_option_values

VALUES = default_option_values()


@pytest.mark.parametrize(
    ("text", "value", "named"),
    [
        ("the stainless steel 1.5 liters kettle", "1.5L", True),
        ("1.5L please", "1.5 liters", True),
        ("one that holds 1 liter", "1000ml", True),
        ("a 5-feet tall glass bookshelf", "5 ft", True),
        ("the 31 inch skateboard", "31 inch", True),
        ('the 31" one', "31 inch", True),
        ("a 10-inch pan", "10 inches", True),
        ("USB-C output", "USB-C", True),
        ("size 10 please", "10", True),
        ("the 10 bar one", "10", False),
        ("graphic design", "graphic", True),
        ("no graphics here", "graphic", False),
        ("in full size", "full size", True),
        # "in" is a word too: a measure only against the number or with no word after it
        ("is size 10 in stock?", "10", True),
        ("is size 10 in stock?", "10 inch", False),
        ("the 31in board", "31 inch", True),
        ("a 31 in, graphic", "31 inch", True),
        ("the 2 in 1 tool", "2 inch", False),
    ],
)
def test_values_are_named_in_any_spelling(text: str, value: str, named: bool) -> None:
    assert VALUES.mentions(text, value) is named


def test_no_option_names_its_none_value() -> None:
    assert VALUES.mentions("clicky switches, no backlight", "none", option="backlight")
    assert VALUES.mentions("without backlight is fine", "none", option="backlight")
    assert not VALUES.mentions("with a backlight", "none", option="backlight")


def test_named_lists_each_options_values() -> None:
    options = {"capacity": {"1L", "1.5L", "2L"}, "material": {"glass", "plastic"}, "color": {"white"}}
    assert VALUES.named("capacity 1.5 liters, material glass", options) == {
        "capacity": {"1.5L"},
        "material": {"glass"},
    }


def test_a_value_two_options_share_goes_to_the_option_named_with_it() -> None:
    options = {"frame color": {"black", "brown"}, "lens color": {"black", "green"}}
    assert VALUES.named("the sunglasses in frame color black", options) == {"frame color": {"black"}}
    assert VALUES.named("black ones please", options) == {"frame color": {"black"}, "lens color": {"black"}}


def test_an_options_own_name_does_not_name_its_values() -> None:
    options = {"bagged/bagless": {"bagged", "bagless"}, "type": {"canister", "upright"}}
    assert VALUES.named("type canister, bagged/bagless bagged", options) == {
        "type": {"canister"},
        "bagged/bagless": {"bagged"},
    }


def test_a_value_that_holds_its_options_name_is_still_named() -> None:
    options = {"size": {"full size", "80%", "60%"}, "backlight": {"RGB", "white", "none"}}
    assert VALUES.named("the mechanical keyboard in size full size", options) == {"size": {"full size"}}


def test_an_ambiguous_spelling_must_belong_to_a_unit(tmp_path) -> None:
    from core.errors import ConfigError
    from dialogue_rules.option_values import load_option_values

    bad = tmp_path / "units.yaml"
    bad.write_text("units:\n  ml: {base: ml, factor: 1, spellings: [ml]}\nambiguous: [in]\n")
    with pytest.raises(ConfigError, match="ambiguous spellings that no unit has"):
        load_option_values(bad)


def test_keep_words_keep_an_option_by_its_name_or_its_value() -> None:
    values = default_option_values()
    now = {"switch type": "linear", "backlight": "RGB", "size": "full size"}
    kept = values.kept("clicky switches, same backlight and size", now)
    assert kept == {"backlight": "RGB", "size": "full size"}
    assert values.kept("Google Assistant, still black", {"compatibility": "HomeKit", "color": "black"}) == {
        "color": "black"
    }
    assert values.kept("I want clicky switches instead", now) == {}
    assert values.kept("the same one but in size 10", {"size": "9", "color": "blue"}) == {"size": "9"}


SMART_HOME = {
    "compatibility": {"Google Assistant", "Amazon Alexa", "Apple HomeKit"},
    "color": {"black", "white", "stainless steel"},
    "size": {"full size", "80%", "60%"},
}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("the google one", {"compatibility": {"Google Assistant"}}),
        ("one that works with alexa", {"compatibility": {"Amazon Alexa"}}),
        ("homekit compatible, in steel", {"compatibility": {"Apple HomeKit"}, "color": {"stainless steel"}}),
        ("the 80 percent one", {"size": {"80%"}}),
        ("I'd like a full refund", {}),  # shop talk, not the "full size" value
        ("a white one", {"color": {"white"}}),  # a whole value named: no guessing by words
    ],
)
def test_a_word_only_one_value_has_names_it(text: str, named: dict[str, set[str]]) -> None:
    assert VALUES.named(text, SMART_HOME) == named


def test_a_word_two_values_share_names_neither() -> None:
    options = {"scent": {"fresh citrus", "fresh mint", "woody"}}
    assert VALUES.named("something fresh", options) == {}
    assert VALUES.named("the mint one", options) == {"scent": {"fresh mint"}}
