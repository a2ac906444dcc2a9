"""The widget embedded on the shop's own site (another origin than Shopassist's server), in
headless Chromium: the browser sends that site's Origin with the WebSocket upgrade, so the chat
works only once the site is in ``web.allowed_origins``; before that the widget says so once and
does not hammer the server with reconnects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page, expect

from connectors.web.app import create_app
from tests.connectors.web.browser import say
from tests.connectors.web.conftest import WebShop
from tests.servers import serve_in_thread


@contextmanager
def _shop_site(shop: WebShop, allowed: list[str] | None) -> Iterator[tuple[str, str]]:
    """Shopassist on one port and the shop's site embedding its widget on another; yields both
    URLs. ``allowed``: ``web.allowed_origins`` (None: the site's own origin)."""
    site = FastAPI()
    page_html: dict[str, str] = {}
    site.add_api_route("/", lambda: HTMLResponse(page_html["html"]), include_in_schema=False)
    with serve_in_thread(site, name="shop site") as site_url:
        settings = shop.services.settings
        web = settings.web.model_copy(update={"allowed_origins": [site_url] if allowed is None else allowed})
        app = create_app(settings.model_copy(update={"web": web}), services=shop.services)
        with serve_in_thread(app, name="web app", ws="websockets") as api_url:
            page_html["html"] = (
                "<!doctype html><html><head><title>Shop</title></head><body><h1>Our shop</h1>"
                f'<script src="{api_url}/widget.js" data-server="{api_url}" defer></script></body></html>'
            )
            yield site_url, api_url


def _open(page: Page, site_url: str) -> list[str]:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(site_url + "/")
    page.get_by_role("button", name="Chat with us").click()
    return sockets


def test_an_embedding_site_not_allowed_is_told_once(browser: Browser, web_shop: WebShop) -> None:
    with _shop_site(web_shop, allowed=[]) as (site_url, _api_url):
        page = browser.new_page()
        sockets = _open(page, site_url)
        expect(page.get_by_text("The chat is not available on this page.")).to_be_visible(timeout=15_000)
        page.wait_for_timeout(2500)  # the widget's first retry would come after 1 s
        assert len(sockets) == 1, sockets
        expect(page.locator(".sa-widget")).to_have_attribute("data-connected", "false")
        page.close()


def test_an_allowed_embedding_site_chats(browser: Browser, web_shop: WebShop) -> None:
    with _shop_site(web_shop, allowed=None) as (site_url, _api_url):
        page = browser.new_page()
        _open(page, site_url)
        expect(page.locator(".sa-widget")).to_have_attribute("data-connected", "true", timeout=15_000)
        say(page, "desk lamp")
        expect(page.locator('.sa-msg[data-role="bot"]').last).to_contain_text("Arc Desk Lamp", timeout=20_000)
        page.close()
