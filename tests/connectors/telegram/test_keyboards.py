from assistant.sessions.shown import QuickReply
from connectors.telegram.keyboards import (
    CALLBACK_LIMIT,
    CardTap,
    callback_data,
    card_keyboard,
    parse_callback,
    quick_reply_keyboard,
)
from connectors.telegram.texts import default_texts


def test_card_buttons_round_trip_their_product() -> None:
    keyboard = card_keyboard("P-SHOE", default_texts().buttons)
    assert keyboard is not None
    buttons = [b for row in keyboard.inline_keyboard for b in row]
    assert [b.text for b in buttons] == ["Details", "Add to cart", "More like this"]
    taps = [parse_callback(b.callback_data) for b in buttons]
    assert taps == [CardTap("details", "P-SHOE"), CardTap("add", "P-SHOE"), CardTap("more", "P-SHOE")]


def test_the_add_button_shows_the_product_is_in_the_cart() -> None:
    keyboard = card_keyboard("P-SHOE", default_texts().buttons, in_cart=True)
    assert keyboard is not None
    assert keyboard.inline_keyboard[0][1].text == default_texts().buttons.added


def test_forged_or_foreign_callback_data_is_not_a_tap() -> None:
    for data in (None, "", "p1:x:P-SHOE", "p0:a:P-SHOE", "p1:a:", "p1:a:P\x00", "a" * 65, 42):
        assert parse_callback(data) is None


def test_a_product_id_too_long_for_telegram_gets_no_buttons() -> None:
    long_id = "P" * CALLBACK_LIMIT
    assert callback_data("add", long_id) is None
    assert card_keyboard(long_id, default_texts().buttons) is None


def test_quick_replies_become_a_one_time_reply_keyboard_or_remove_it() -> None:
    keyboard = quick_reply_keyboard(
        (QuickReply(label="Yes"), QuickReply(label="No"), QuickReply(label="Maybe"))
    )
    data = keyboard.to_dict()
    assert [[b["text"] for b in row] for row in data["keyboard"]] == [["Yes", "No"], ["Maybe"]]
    assert data["one_time_keyboard"] is True
    assert quick_reply_keyboard(()).to_dict() == {"remove_keyboard": True}
