"""The widget in a real browser: headless Chromium (Debian's, /usr/bin/chromium) driven by
Playwright, against the app served by uvicorn on 127.0.0.1. A shopper opens the demo page,
asks for a product, sees the reply and a product card, adds it to the cart and asks for the
cart. Screenshots are kept in artifacts/ as test artifacts."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.connectors.web.browser import ARTIFACTS, open_chat, say


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
