"""The connector end to end: real python-telegram-bot Application and Bot, real Update JSON, the
real dialogue engine over the fixture shop. Telegram's servers cannot be reached from the test
machines, so the Bot talks to the fake Bot API server in fake_bot_api.py on 127.0.0.1, which
records every call."""

from __future__ import annotations

import sqlalchemy as sa

from assistant.sessions.events import UserMessage
from assistant.sessions.slots import Mode
from connectors.telegram.keyboards import callback_data
from store.models import Cart, CartStatus, Order, Product
from support.desk import SupportDesk
from tests.connectors.telegram.conftest import TelegramShop, callback_update, message_update

CHAT = 5001


def _order_status(shop: TelegramShop, order_id: str) -> str:
    with shop.services.database.session() as session:
        order = session.get(Order, order_id)
        return order.status.value if order is not None else "missing"


def _cart_lines(shop: TelegramShop, chat_id: int) -> dict[str, int]:
    with shop.services.database.session() as session:
        cart = session.scalar(
            sa.select(Cart).where(Cart.session_id == shop.session_of(chat_id), Cart.status == CartStatus.OPEN)
        )
        return {i.variant_id: i.quantity for i in cart.items} if cart is not None else {}


def test_a_search_sends_the_reply_then_product_cards_with_buttons(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    texts = shop.say(CHAT, "I need a desk lamp")
    assert "Arc Desk Lamp" in texts[0]
    cards = [
        c for c in shop.api.of("sendMessage", CHAT) if "inline_keyboard" in c.params.get("reply_markup", {})
    ]
    assert len(cards) == 1
    card = cards[0]
    assert card.params["parse_mode"] == "HTML" and "<b>Arc Desk Lamp</b>" in card.params["text"]
    assert "$45.00" in card.params["text"]
    buttons = [b for row in card.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [
        callback_data(action, "P-LAMP") for action in ("details", "add", "more")
    ]
    # The conversation is the chat's session, on the telegram channel.
    state = shop.assistant.store.state(session_id=shop.session_of(CHAT))
    assert [p.product_id for p in state.last_products] == ["P-LAMP"]
    assert shop.api.of("sendChatAction", CHAT), "the customer sees 'typing' while the turn runs"


def test_a_product_with_a_picture_is_sent_as_a_photo_card(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    with shop.services.database.transaction() as session:
        session.get(Product, "P-LAMP").image_url = "https://shop.example/lamp.jpg"  # type: ignore[union-attr]
    shop.say(CHAT, "tell me about the Arc Desk Lamp")
    photos = shop.api.of("sendPhoto", CHAT)
    assert len(photos) == 1
    assert photos[0].params["photo"] == "https://shop.example/lamp.jpg"
    assert "<b>Arc Desk Lamp</b>" in photos[0].params["caption"]


def test_user_text_with_html_is_escaped_in_the_reply(telegram_shop: TelegramShop) -> None:
    texts = telegram_shop.say(CHAT, "<b>lamp</b> & <script>")
    assert all("<script>" not in t and "<b>lamp" not in t for t in texts)


def test_add_to_cart_button_answers_the_tap_adds_the_item_and_marks_the_card(
    telegram_shop: TelegramShop,
) -> None:
    shop = telegram_shop
    shop.say(CHAT, "desk lamp")
    card = next(
        c
        for c in shop.api.of("sendMessage", CHAT)
        if "reply_markup" in c.params and "inline_keyboard" in c.params["reply_markup"]
    )
    sent_card = {
        "message_id": 77,
        "date": 0,
        "chat": {"id": CHAT, "type": "private"},
        "text": card.params["text"],
    }
    shop.feed(callback_update(CHAT, callback_data("add", "P-LAMP") or "", sent_card))
    assert len(shop.api.of("answerCallbackQuery")) == 1
    assert _cart_lines(shop, CHAT) == {"V-LAMP-BK": 1}
    assert any("Added 1 x Arc Desk Lamp" in t for t in shop.api.texts(CHAT))
    edits = shop.api.of("editMessageReplyMarkup", CHAT)
    assert len(edits) == 1 and int(edits[0].params["message_id"]) == 77
    labels = [b["text"] for row in edits[0].params["reply_markup"]["inline_keyboard"] for b in row]
    assert "✓ In your cart" in labels
    # The tap was recorded as the customer's message about that product.
    events = shop.assistant.store.events(session_id=shop.session_of(CHAT))
    taps = [e.event for e in events if isinstance(e.event, UserMessage) and e.event.product_id]
    assert [t.product_id for t in taps] == ["P-LAMP"]


def test_details_button_on_an_old_card_updates_that_card(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    shop.say(CHAT, "desk lamp")
    shop.say(CHAT, "running socks")  # the lamp card is no longer the last result
    old_card = {"message_id": 12, "date": 0, "chat": {"id": CHAT, "type": "private"}, "text": "Arc Desk Lamp"}
    before = len(shop.api.texts(CHAT))
    shop.feed(callback_update(CHAT, callback_data("details", "P-LAMP") or "", old_card))
    edits = shop.api.of("editMessageText", CHAT)
    assert len(edits) == 1 and int(edits[0].params["message_id"]) == 12
    assert "Arc Desk Lamp by Lumenor costs $45.00" in edits[0].params["text"]
    assert shop.api.texts(CHAT)[before:] == [], "the details replace the card instead of a new message"


def test_more_like_this_shows_similar_products(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    card = {"message_id": 13, "date": 0, "chat": {"id": CHAT, "type": "private"}, "text": "Trailblazer"}
    shop.feed(callback_update(CHAT, callback_data("more", "P-SHOE") or "", card))
    texts = shop.api.texts(CHAT)
    assert any("similar to Trailblazer Running Shoe" in t for t in texts)
    assert any("Merino Running Socks" in t for t in texts[1:]), "similar products arrive as cards"


def test_a_forged_button_is_answered_and_changes_nothing(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    card = {"message_id": 14, "date": 0, "chat": {"id": CHAT, "type": "private"}, "text": "x"}
    shop.feed(callback_update(CHAT, "p1:a:../../etc", card))
    shop.feed(callback_update(CHAT, "something else", card))
    answers = shop.api.of("answerCallbackQuery")
    assert len(answers) == 2
    assert _cart_lines(shop, CHAT) == {}
    assert all("Added" not in t for t in shop.api.texts(CHAT))


def test_cancel_an_order_with_authentication_and_confirmation(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    assert "verify" in shop.say(CHAT, "I want to cancel an order")[0]
    assert "#W0000001" in " ".join(shop.say(CHAT, "alice@example.com, zip 10001"))
    shop.say(CHAT, "#W0000001")
    confirm = shop.say(CHAT, "I ordered it by mistake")
    assert "#W0000001" in " ".join(confirm)
    assert _order_status(shop, "#W0000001") == "pending", "nothing happens before the customer's yes"
    keyboard = shop.api.of("sendMessage", CHAT)[-1].params["reply_markup"]
    labels = [b["text"] for row in keyboard["keyboard"] for b in row]
    yes = next(label for label in labels if label.lower().startswith("yes"))
    done = shop.say(CHAT, yes)  # tapping the reply-keyboard button sends its label
    assert "refund" in " ".join(done).lower()
    assert _order_status(shop, "#W0000001") == "cancelled"


def test_another_customers_order_is_refused(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    shop.say(CHAT, "cancel order #W0000005")
    refused = shop.say(CHAT, "alice@example.com, zip 10001")  # Alice; #W0000005 is Bob's
    assert "can't find order #W0000005 on your account" in refused[0]
    shop.say(CHAT, "no longer needed")
    shop.say(CHAT, "yes")
    assert _order_status(shop, "#W0000005") == "pending"


def test_commands(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    start = shop.say(CHAT, "/start")
    assert "shopping assistant" in start[0]
    keyboard = shop.api.of("sendMessage", CHAT)[-1].params["reply_markup"]
    assert [b["text"] for row in keyboard["keyboard"] for b in row] == [
        "Find a product",
        "Order status",
        "Talk to a person",
    ]
    assert "/human" in shop.say(CHAT, "/help")[0]
    assert "cart is empty" in shop.say(CHAT, "/cart")[0].lower()
    assert "verify" in shop.say(CHAT, "/orders")[0]
    first = shop.session_of(CHAT)
    assert "new conversation" in shop.say(CHAT, "/reset")[0]
    assert shop.session_of(CHAT) != first
    assert shop.assistant.store.exists(session_id=first), "the old conversation is kept"


def test_human_hands_over_and_the_agents_reply_reaches_the_chat(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    shop.say(CHAT, "/human")
    sid = shop.session_of(CHAT)
    assert shop.assistant.store.state(session_id=sid).mode is Mode.AGENT
    desk = SupportDesk(shop.assistant.store)
    desk.take_over(sid, "maria")
    desk.reply(sid, "maria", "Hi, I'm Maria. How can I help with <your> order?")
    shop.run(shop.connector.delivery.poll_once())
    texts = shop.api.texts(CHAT)
    assert "maria from our team has joined the conversation." in texts
    assert "maria: Hi, I'm Maria. How can I help with &lt;your&gt; order?" in texts
    # The customer's next message reaches the console; the bot stays quiet.
    assert shop.say(CHAT, "my parcel is damaged") == []
    last = desk.events(sid)[-1].event
    assert isinstance(last, UserMessage) and (last.text, last.channel) == ("my parcel is damaged", "telegram")
    assert last.key is not None and last.key.startswith("tg:123456:"), "keyed by the bot and update id"
    # Nothing is delivered twice, and the hand-back is announced.
    desk.hand_back(sid, "maria")
    shop.run(shop.connector.delivery.poll_once())
    shop.run(shop.connector.delivery.poll_once())
    texts = shop.api.texts(CHAT)
    assert texts.count("maria: Hi, I'm Maria. How can I help with &lt;your&gt; order?") == 1
    assert texts[-1].startswith("You're chatting with the assistant again")


def test_rate_limits_are_waited_out_and_the_reply_still_arrives(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    shop.api.rate_limit_next("sendMessage", retry_after=1)
    shop.api.fail_next("sendMessage", 502, description="Bad Gateway")
    texts = shop.say(CHAT, "desk lamp")
    sends = shop.api.of("sendMessage", CHAT)
    assert len(sends) >= 4, "two failed attempts, then the reply and its card"
    assert sends[0].params["text"] == sends[1].params["text"] == sends[2].params["text"]
    assert "Arc Desk Lamp" in texts[-2] and "Arc Desk Lamp" in texts[-1]


def test_one_blocked_chat_does_not_stop_the_others(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    shop.api.blocked_chats.add(666)
    shop.feed(message_update(666, "desk lamp"))  # Telegram says 403: logged, not retried
    assert len(shop.api.of("sendMessage", 666)) == 1
    assert "Arc Desk Lamp" in shop.say(CHAT, "desk lamp")[0]


def test_long_replies_are_split_at_telegrams_limit(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    long = "Our policy: " + ("returns are free within thirty days of delivery. " * 150)
    shop.run(shop.connector.sender.text(CHAT, long))
    pieces = shop.api.texts(CHAT)
    assert len(pieces) == 2 and all(len(p) <= 4096 for p in pieces)
    assert " ".join(pieces).split() == long.split()


def test_group_chats_and_non_text_messages(telegram_shop: TelegramShop) -> None:
    shop = telegram_shop
    group = message_update(-100200, "desk lamp")
    group["message"]["chat"] = {"id": -100200, "type": "group", "title": "Friends"}
    shop.feed(group)
    assert shop.api.of("sendMessage", -100200) == [], "the bot answers in private chats only"
    sticker = message_update(CHAT, "x")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "s1",
        "file_unique_id": "s1u",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    shop.feed(sticker)
    assert shop.api.texts(CHAT) == ["I can read text messages only. Please write what you need."]
