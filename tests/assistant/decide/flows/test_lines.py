"""Which lines of an order a message means, and which of its words are about each line."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.lines import pick_items, segments
from tools.order_results import OrderLine


def _line(variant_id: str, name: str, **options: str) -> OrderLine:
    return OrderLine(variant_id=variant_id, product_id="P", name=name, options=options, price=10, quantity=1)


LINES = [
    _line("V-1", "Trailblazer Running Shoe", color="blue", size="9"),
    _line("V-2", "Merino Running Socks", size="M"),
    _line("V-3", "Everyday Cotton T-Shirt", color="blue", size="M"),
]


def test_pick_items_by_name_all_or_none(ctx: Context) -> None:
    assert pick_items(ctx, "I want to return the socks", LINES, asked=False) == ["V-2"]
    assert pick_items(ctx, "all of them", LINES, asked=False) == ["V-1", "V-2", "V-3"]
    assert pick_items(ctx, "the blue one", LINES, asked=True) == []  # two blue lines: ask which
    assert pick_items(ctx, "that one", LINES[:1], asked=False) == ["V-1"]  # one line, not asked yet
    assert pick_items(ctx, "that one", LINES[:1], asked=True) == []


TWO_LINES = [
    _line("V-M1", "Gaming Mouse", color="black", connectivity="wireless"),
    _line("V-M2", "Gaming Mouse", color="white", connectivity="wired"),
    _line("V-B", "Bookshelf", material="metal", height="4 ft"),
]


def test_several_products_named_in_one_message_are_all_picked(ctx: Context) -> None:
    text = "the gaming mouse in white and the bookshelf"
    assert pick_items(ctx, text, TWO_LINES, asked=True) == ["V-M2", "V-B"]
    # the two mice are not told apart: ask which
    assert pick_items(ctx, "the gaming mouse and the bookshelf", TWO_LINES, asked=True) == []


def test_the_words_about_each_item_are_told_apart(ctx: Context) -> None:
    bike = _line("V-B1", "Bicycle", size="medium")
    purifier = _line("V-P1", "Air Purifier", size="medium", filter="HEPA")
    text = (
        "change the bicycle and the air purifier (room size medium, filter type HEPA) in my order: "
        "I'd like the bicycle in frame size large, color red and the same air purifier again"
    )
    about_bike, about_purifier = segments(ctx, text, [bike, purifier])
    assert "large" in about_bike and "red" in about_bike and "same" not in about_bike
    assert "same air purifier again" in about_purifier and "HEPA" in about_purifier
    assert "red" not in about_purifier


def test_one_variant_on_two_lines_is_picked_once(ctx: Context) -> None:
    twice = [_line("V-W", "Water Bottle", capacity="500ml"), _line("V-W", "Water Bottle", capacity="500ml")]
    assert pick_items(ctx, "the water bottle (capacity 500ml)", [*twice, LINES[0]], asked=True) == ["V-W"]


ORDER = [
    _line("V-H", "Headphones", type="over-ear", color="blue"),
    _line("V-K", "Mechanical Keyboard", **{"switch type": "linear", "backlight": "RGB"}),
    _line("V-T", "Smart Thermostat", compatibility="Apple HomeKit", color="black"),
    _line("V-W", "Smart Watch", color="gold", display="LCD"),
]


def test_items_are_named_by_the_word_no_other_item_has(ctx: Context) -> None:
    assert pick_items(ctx, "the keyboard and the thermostat", ORDER, asked=True) == ["V-K", "V-T"]
    assert pick_items(ctx, "The keyboards.", ORDER, asked=True) == ["V-K"]
    # "smart" is in two names: it names neither, so the question stands
    assert pick_items(ctx, "the smart one", ORDER, asked=True) == []


def test_each_item_gets_the_words_about_it(ctx: Context) -> None:
    keyboard, thermostat = ORDER[1], ORDER[2]
    text = (
        "For the keyboard I want clicky switches, same backlight. "
        "For the thermostat I want one that works with Google Assistant, still black."
    )
    about_keyboard, about_thermostat = segments(ctx, text, [keyboard, thermostat])
    assert "clicky" in about_keyboard and "Google" not in about_keyboard
    assert "Google Assistant" in about_thermostat and "clicky" not in about_thermostat
    # an item the message does not name gets none of it, when another is named
    assert segments(ctx, "the thermostat: google assistant", [keyboard, thermostat])[0] == ""
    assert segments(ctx, "clicky", [keyboard, thermostat]) == ["clicky", "clicky"]


def test_two_lines_of_one_product_are_told_apart_by_the_words_at_each_mention(ctx: Context) -> None:
    buds = [
        _line("V-E4", "Wireless Earbuds", color="black", **{"battery life": "4 hours"}),
        _line("V-E6", "Wireless Earbuds", color="black", **{"battery life": "6 hours"}),
        _line("V-C", "Digital Camera", resolution="30MP"),
    ]
    text = (
        "the wireless earbuds (color black, battery life 6 hours) and the wireless earbuds "
        "(color black, battery life 4 hours) and the digital camera"
    )
    assert pick_items(ctx, text, buds, asked=True) == ["V-E4", "V-E6", "V-C"]
    assert pick_items(ctx, "the wireless earbuds in black", buds, asked=True) == []  # not told apart


def test_a_product_name_that_is_another_items_option_value_is_that_value(ctx: Context) -> None:
    backpack = _line("V-BP", "Backpack", color="grey", compartment="hydration")
    laptop = _line("V-L", "Laptop", ram="16GB")
    values = {"Backpack": {"grey", "green", "hydration", "laptop"}, "Laptop": {"16GB", "32GB"}}
    text = "the backpack in green, laptop and the laptop in 32GB"
    about_backpack, about_laptop = segments(ctx, text, [backpack, laptop], values)
    assert "green, laptop" in about_backpack and "32GB" not in about_backpack
    assert "32GB" in about_laptop and "green" not in about_laptop


def test_a_wish_after_the_item_does_not_pick_its_twin(ctx: Context) -> None:
    white_80 = {"switch type": "clicky", "backlight": "white", "size": "80%"}
    rgb_60 = {"switch type": "clicky", "backlight": "RGB", "size": "60%"}
    keyboards = [
        _line("V-K1", "Mechanical Keyboard", **white_80),
        _line("V-K2", "Mechanical Keyboard", **rgb_60),
    ]
    text = (
        "exchange the mechanical keyboard (switch type clicky, backlight RGB, size 60%): "
        "I'd like the keyboard in switch type linear, size 80% instead"
    )
    assert pick_items(ctx, text, keyboards, asked=False) == ["V-K2"]


def test_all_of_them_except_the_ones_named(ctx: Context) -> None:
    assert pick_items(ctx, "all of them except the socks", LINES, asked=True) == ["V-1", "V-3"]
    assert pick_items(ctx, "everything but not the shoe or the t-shirt", LINES, asked=True) == ["V-2"]


def test_the_wishes_after_two_twin_items_go_one_to_each(ctx: Context) -> None:
    black = _line("V-A", "Smart Watch", color="black", band="silicone", display="LCD")
    silver = _line("V-B", "Smart Watch", color="silver", band="metal", display="AMOLED")
    text = (
        "change the smart watch (color black, band silicone, display LCD) and the smart watch (color "
        "silver, band metal, display AMOLED) in my order: I'd like the same smart watch again and the "
        "watch in gold, leather, LCD instead"
    )
    about_black, about_silver = segments(ctx, text, [black, silver])
    assert "same smart watch again" in about_black and "gold" not in about_black
    assert "gold" in about_silver and "same" not in about_silver
