"""The widget in a real browser: headless Chromium (Debian's, /usr/bin/chromium) driven by
Playwright, against the app served by uvicorn on 127.0.0.1. A shopper opens the demo page,
asks for a product, sees the reply and a product card, adds it to the cart and asks for the
cart. Screenshots are kept in artifacts/ as test artifacts."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, WebSocketRoute, expect

from assistant.sessions.events import UserMessage
from tests.connectors.web.browser import ARTIFACTS, open_chat, say
from tests.connectors.web.conftest import WebShop


def test_shop_by_chat_in_a_browser(browser: Browser, live_server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_chat(page, live_server)
    say(page, "desk lamp")
    bot = page.locator('.sa-msg[data-role="bot"]').last
    expect(bot).to_contain_text("Arc Desk Lamp", timeout=20_000)
    card = page.locator('.sa-card[data-product-id="P-LAMP"]')
    expect(card).to_be_visible()
    expect(card).to_contain_text("$45.00")
    card.get_by_role("button", name=re.compile("Add Arc Desk Lamp to cart")).click()
    expect(page.locator('.sa-msg[data-role="bot"]').last).to_contain_text(
        "Added 1 x Arc Desk Lamp", timeout=20_000
    )
    say(page, "what's in my cart?")
    cart = page.locator('.sa-msg[data-role="bot"]').last
    expect(cart).to_contain_text("Your cart:", timeout=20_000)
    expect(cart).to_contain_text("Arc Desk Lamp")
    expect(cart).to_contain_text("Total: $45.00")
    page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"), full_page=True)
    page.close()


def test_widget_on_a_narrow_phone_viewport(browser: Browser, live_server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 375, "height": 740})
    open_chat(page, live_server)
    panel = page.get_by_role("dialog", name="Demo shop assistant")
    box = panel.bounding_box()
    assert box is not None and box["width"] <= 375 and box["x"] >= 0
    say(page, "hi")
    expect(page.locator('.sa-msg[data-role="bot"]').last).to_contain_text(
        "What can I do for you?", timeout=20_000
    )
    chips = page.locator(".sa-chip")
    expect(chips.first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "widget-mobile-open.png"))
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Chat with us")).to_be_focused()
    page.screenshot(path=str(ARTIFACTS / "widget-mobile.png"))
    page.close()


@pytest.mark.parametrize("cut_at", ["token", "reply"])
def test_a_reply_lost_with_the_connection_arrives_once(
    browser: Browser, live_server: str, web_shop: WebShop, cut_at: str
) -> None:
    """The first socket drops mid-turn (at the first streamed token) or just as the reply comes:
    Playwright cuts it between the page and the real server. The widget reconnects, gets the
    reply from the event log and sends the unanswered message again; the server answers that
    id once, in the same conversation, so nothing is lost or doubled."""
    connections: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        connections.append(ws.url)
        server = ws.connect_to_server()
        if len(connections) > 1:
            return  # later connections: plain forwarding both ways

        def from_server(message: str | bytes) -> None:
            kind = json.loads(message)["type"]
            if kind == cut_at:
                ws.close()  # the rest of the turn is lost with the connection
            elif kind not in ("token", "reply"):  # what the page shows can only come from the replay
                ws.send(message)

        server.on_message(from_server)

    page = browser.new_page()
    page.route_web_socket(re.compile(r".*/ws/chat$"), route)
    open_chat(page, live_server)
    say(page, "desk lamp")
    bot = page.locator('.sa-msg[data-role="bot"]')
    expect(bot.last).to_contain_text("Arc Desk Lamp", timeout=30_000)
    page.wait_for_function("() => sessionStorage.getItem('shopassist.pending') === '[]'", timeout=20_000)
    assert len(connections) >= 2, "the widget reconnected"
    expect(bot).to_have_count(1)
    expect(page.locator('.sa-card[data-product-id="P-LAMP"]')).to_have_count(1)
    expect(page.locator('.sa-msg[data-role="user"]')).to_have_count(1)
    token = page.evaluate("() => sessionStorage.getItem('shopassist.token')")
    store = web_shop.services.sessions
    assert store is not None and isinstance(token, str)
    sessions = store.list_sessions(channel="web")
    messages = [
        (summary.session_id, e.event)
        for summary in sessions
        for e in store.events(session_id=summary.session_id)
        if isinstance(e.event, UserMessage)
    ]
    assert [(sid, m.text) for sid, m in messages] == [(token.rsplit(".", 2)[0], "desk lamp")], (
        "the message sent twice ran once, in the widget's conversation"
    )
    key = messages[0][1].key
    assert key is not None and key.startswith("web:")
    page.close()
