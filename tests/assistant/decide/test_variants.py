"""The variant a customer wants instead of theirs, on made-up catalogs (no demo-shop vocabulary)."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.decide.variants import option_values, replacement
from dialogue_rules.option_values import default_option_values

VALUES = default_option_values()


@dataclass(frozen=True)
class V:
    variant_id: str
    options: dict[str, str]
    available: bool = True


KETTLES = [
    V("k1", {"capacity": "1L", "material": "plastic", "stovetop compatibility": "gas"}),
    V("k2", {"capacity": "1.5L", "material": "glass", "stovetop compatibility": "gas"}),
    V("k3", {"capacity": "1.5L", "material": "glass", "stovetop compatibility": "induction"}),
    V("k4", {"capacity": "2L", "material": "stainless steel", "stovetop compatibility": "induction"}),
]


def _keyboard(vid: str, switch: str, light: str, size: str, available: bool = True) -> V:
    return V(vid, {"switch type": switch, "backlight": light, "size": size}, available)


KEYBOARDS = [
    _keyboard("now", "linear", "RGB", "full size"),
    _keyboard("c-rgb-full", "clicky", "RGB", "full size", available=False),
    _keyboard("c-rgb-80", "clicky", "RGB", "80%"),
    _keyboard("c-white-full", "clicky", "white", "full size"),
    _keyboard("c-none-full", "clicky", "none", "full size"),
    _keyboard("t-white-full", "tactile", "white", "full size"),
]
NOW = KEYBOARDS[0]


def _ids(variants: list[V]) -> list[str]:
    return [v.variant_id for v in variants]


def test_a_replacement_keeps_what_is_not_named() -> None:
    found = replacement(VALUES, "I'd like it in 1.5L glass instead", KETTLES, current=KETTLES[0])
    assert _ids(found.picked) == ["k2"]  # stays on gas
    assert found.wanted == {"capacity": ["1.5L"], "material": ["glass"]}


def test_the_same_value_as_now_does_not_narrow_a_change() -> None:
    found = replacement(VALUES, "same 1.5L glass but for induction", KETTLES, current=KETTLES[1])
    assert _ids(found.picked) == ["k3"]


def test_values_the_item_already_has_only_say_which_item() -> None:
    found = replacement(VALUES, "the 1.5 liter glass kettle", KETTLES, current=KETTLES[1])
    assert found.picked == [] and found.wanted == {}


def test_options_asked_to_stay_are_kept_and_a_sold_out_match_is_not_swapped() -> None:
    text = "clicky switches, same backlight and size"
    found = replacement(VALUES, text, KEYBOARDS, current=NOW)
    assert found.wanted == {"switch type": ["clicky"], "backlight": ["RGB"], "size": ["full size"]}
    assert found.picked == [] and found.sold_out  # clicky RGB full size exists, none in stock
    closest = _ids(found.closest(KEYBOARDS, current_id="now"))
    assert "c-rgb-full" not in closest and closest[0] in ("c-rgb-80", "c-white-full", "c-none-full")


def test_a_later_message_adds_to_and_corrects_what_was_asked() -> None:
    first = replacement(VALUES, "clicky switches, same backlight and size", KEYBOARDS, current=NOW)
    then = replacement(VALUES, "ok, no backlight then", KEYBOARDS, current=NOW, wanted=first.wanted)
    assert _ids(then.picked) == ["c-none-full"]
    fixed = replacement(VALUES, "no, I meant white backlight", KEYBOARDS, current=NOW, wanted=then.wanted)
    assert _ids(fixed.picked) == ["c-white-full"]
    tactile = replacement(VALUES, "actually tactile", KEYBOARDS, current=NOW, wanted=fixed.wanted)
    assert _ids(tactile.picked) == ["t-white-full"]


def test_several_fitting_versions_are_all_returned() -> None:
    found = replacement(VALUES, "a clicky one", KEYBOARDS, current=NOW)
    # none keeps both RGB and full size; each in-stock clicky keeps one of them
    assert _ids(found.picked) == ["c-rgb-80", "c-white-full", "c-none-full"]


def test_a_current_value_named_without_keep_words_yields_when_no_version_has_it() -> None:
    # "80%" is this keyboard's? No: it is full size. "RGB" is; no tactile RGB exists at all, so
    # the RGB said alongside (naming the item) is let go.
    found = replacement(VALUES, "my RGB keyboard, but tactile", KEYBOARDS, current=NOW)
    assert _ids(found.picked) == ["t-white-full"]
    kept = replacement(VALUES, "tactile, still RGB", KEYBOARDS, current=NOW)
    assert kept.picked == [] and not kept.sold_out  # asked to keep RGB: no such version


def test_option_values_of_variants() -> None:
    assert option_values(KETTLES)["capacity"] == {"1L", "1.5L", "2L"}


def _glasses(vid: str, frame: str, lens: str, available: bool = True) -> V:
    return V(vid, {"frame color": frame, "lens color": lens}, available)


GLASSES = [
    _glasses("now", "silver", "green"),
    _glasses("black-green", "black", "green"),
    _glasses("silver-black", "silver", "black", available=False),
    _glasses("gold-brown", "gold", "brown"),
]


def test_a_value_two_options_share_is_read_the_way_that_finds_a_version() -> None:
    found = replacement(VALUES, "I'd like black", GLASSES, current=GLASSES[0])
    assert _ids(found.picked) == ["black-green"]  # a black lens is sold out; a black frame is there
    assert found.wanted == {"frame color": ["black"]}
    # with the option's name it is not ambiguous: the black lens, sold out
    lens = replacement(VALUES, "lens color black", GLASSES, current=GLASSES[0])
    assert lens.sold_out and lens.wanted == {"lens color": ["black"]}


def test_an_undecided_shared_value_is_not_remembered() -> None:
    both = [*GLASSES, _glasses("silver-black-2", "silver", "black")]
    found = replacement(VALUES, "black please", both, current=GLASSES[0])
    assert sorted(_ids(found.picked)) == ["black-green", "silver-black-2"]
    assert found.wanted == {}  # asked again rather than guessed; nothing wrong is kept


def test_a_bigger_one_is_a_value_above_the_current_one() -> None:
    bigger = replacement(VALUES, "a bigger one, same material", KETTLES, current=KETTLES[0])
    # 1L plastic gas now: bigger is 1.5L or 2L; "same material" keeps plastic, which nothing
    # bigger has, so no version fits
    assert bigger.wanted == {"capacity": ["1.5L", "2L"], "material": ["plastic"]} and bigger.picked == []
    larger = replacement(VALUES, "I'd like a larger capacity", KETTLES, current=KETTLES[1])
    assert _ids(larger.picked) == ["k4"]  # 2L, the only capacity above 1.5L
    smaller = replacement(VALUES, "something smaller", KETTLES, current=KETTLES[3])
    assert smaller.wanted == {"capacity": ["1.5L", "1L"]}
    # a value said outright wins over the comparison
    named = replacement(VALUES, "a bigger one: 2 liters", KETTLES, current=KETTLES[0])
    assert _ids(named.picked) == ["k4"]


def test_letter_sizes_have_an_order() -> None:
    shirts = [
        V("m", {"size": "M", "color": "blue"}),
        V("l", {"size": "L", "color": "blue"}),
        V("s", {"size": "S", "color": "blue"}),
    ]
    assert _ids(replacement(VALUES, "one size bigger please", shirts, current=shirts[0]).picked) == ["l"]
    assert _ids(replacement(VALUES, "a smaller size", shirts, current=shirts[0]).picked) == ["s"]
