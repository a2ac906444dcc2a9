"""The widget on a shop page whose visitor is logged in: the page hands the widget the shop's
signed token (``data-shop-token``, or ``Shopassist.signIn`` later), and the customer asks about
their order in headless Chromium without being asked who they are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page, expect

from tests.connectors.web.browser import ARTIFACTS, say
from tests.connectors.web.conftest import WebShop, shop_token
from tests.servers import serve_in_thread
from tests.shop_fixture import ALICE

TRACKING = "1Z999AA10123456785"  # Alice's order #W0000003


@pytest.fixture
def signed_server(signed_shop: WebShop) -> Iterator[str]:
    """The app on uvicorn, plus a page of the shop's own at /account (the tests set its HTML;
    served by the same server, as a shop's pages would be, so the browser treats it as one site)."""
    pages: dict[str, str] = {}

    def account() -> HTMLResponse:
        return HTMLResponse(pages["account"])

    signed_shop.app.add_api_route("/account", account, include_in_schema=False)
    signed_shop.app.state.test_pages = pages
    with serve_in_thread(signed_shop.app, name="web app", ws="websockets") as url:
        yield url


def shop_page(page: Page, base: str, shop: WebShop, script_attributes: str) -> list[str]:
    """Open the shop's /account page embedding the widget with ``script_attributes``; returns
    the WebSocket URLs the widget opens, as they are opened."""
    shop.app.state.test_pages["account"] = (
        "<!doctype html><html><head><title>My account</title></head><body><h1>My account</h1>"
        f'<script src="/widget.js" {script_attributes} defer></script></body></html>'
    )
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(base + "/account")
    page.get_by_role("button", name="Chat with us").click()
    expect(page.locator(".sa-widget")).to_have_attribute("data-connected", "true", timeout=15_000)
    return sockets


def test_logged_in_customer_asks_about_their_order(
    browser: Browser, signed_server: str, signed_shop: WebShop
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sockets = shop_page(page, signed_server, signed_shop, f'data-shop-token="{shop_token(ALICE)}"')
    assert len(sockets) == 1 and "shop_token=" in sockets[0]
    say(page, "where is my order #W0000003?")
    bot = page.locator('.sa-msg[data-role="bot"]').last
    expect(bot).to_contain_text(TRACKING, timeout=20_000)
    expect(bot).to_contain_text("processed")
    page.screenshot(path=str(ARTIFACTS / "widget-signed-in.png"), full_page=True)
    page.close()


def test_sign_in_after_load_and_a_refused_token(
    browser: Browser, signed_server: str, signed_shop: WebShop
) -> None:
    """An expired token is dropped quietly (the visitor chats on, asked who they are); a fresh
    one given to ``Shopassist.signIn`` reconnects signed in, in the same conversation."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    expired = shop_token(ALICE, expires_in=-300)
    sockets = shop_page(page, signed_server, signed_shop, f'data-shop-token="{expired}"')
    say(page, "where is my order #W0000003?")
    bot = page.locator('.sa-msg[data-role="bot"]')
    expect(bot.last).not_to_contain_text(TRACKING, timeout=20_000)
    expect(bot).to_have_count(1, timeout=20_000)
    assert not page.locator('.sa-msg[data-role="system"]').count(), "no error shown to the visitor"
    assert any("shop token refused" in text for text in warnings), warnings
    page.evaluate(f"window.Shopassist.signIn({shop_token(ALICE)!r})")
    for _ in range(150):  # the widget closes its socket and opens one with the token
        if len(sockets) >= 2:
            break
        page.wait_for_timeout(100)
    assert len(sockets) == 2 and "shop_token=" in sockets[-1], sockets
    expect(page.locator(".sa-widget")).to_have_attribute("data-connected", "true", timeout=15_000)
    say(page, "where is my order #W0000003?")
    expect(bot.last).to_contain_text(TRACKING, timeout=20_000)
    page.close()
