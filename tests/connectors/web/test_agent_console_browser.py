"""The agent console in headless Chromium next to a customer's widget: a person takes over a
conversation, replies, and hands it back; a second agent sees who holds it."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from support.accounts import AgentAccounts
from tests.connectors.web.browser import ARTIFACTS, open_chat, say
from tests.connectors.web.conftest import WebShop

PASSWORD = "a long console password"


def _login(page: Page, base: str, name: str) -> None:
    page.goto(base + "/agent")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("body")).to_have_attribute("data-live", "true", timeout=15_000)


def test_take_over_reply_and_hand_back_in_the_console(
    browser: Browser,
    live_server: str,
    web_shop: WebShop,
) -> None:
    accounts = AgentAccounts(web_shop.services.database)
    accounts.add("sam", PASSWORD, display_name="Sam")
    accounts.add("kim", PASSWORD)
    customer = browser.new_page()
    open_chat(customer, live_server)
    say(customer, "I want to talk to a real person")
    expect(customer.locator('.sa-msg[data-role="bot"]').last).to_contain_text(
        "connecting you", timeout=20_000
    )

    agent = browser.new_page(viewport={"width": 1200, "height": 800})
    _login(agent, live_server, "sam")
    row = agent.locator("#list button").first
    expect(row).to_contain_text("waiting", timeout=15_000)
    row.click()
    expect(agent.locator("#events")).to_contain_text("I want to talk to a real person")
    agent.get_by_role("button", name="Take over").click()
    expect(agent.locator("#notice")).to_have_text("You have this conversation", timeout=15_000)
    agent.get_by_label("Reply to the customer").fill("Hi, Sam here. How can I help?")
    agent.get_by_role("button", name="Send").click()
    expect(customer.locator('.sa-msg[data-role="agent"]').last).to_contain_text(
        "Hi, Sam here.", timeout=20_000
    )
    expect(customer.locator('.sa-msg[data-role="system"]').first).to_contain_text("has joined")
    expect(agent.locator('#events .ev[data-type="agent_message"]')).to_have_count(1, timeout=15_000)

    other = browser.new_page()
    _login(other, live_server, "kim")
    expect(other.locator("#list button").first).to_contain_text("with agent: sam", timeout=15_000)
    other.locator("#list button").first.click()
    expect(other.locator("#notice")).to_have_text("Held by sam", timeout=15_000)
    expect(other.get_by_role("button", name="Take over")).to_be_disabled()
    ARTIFACTS.mkdir(exist_ok=True)
    agent.screenshot(path=str(ARTIFACTS / "agent-console.png"))

    agent.get_by_role("button", name="Hand back to bot").click()
    expect(customer.locator('.sa-msg[data-role="system"]').last).to_contain_text(
        "assistant again", timeout=20_000
    )
    say(customer, "desk lamp")
    expect(customer.locator('.sa-msg[data-role="bot"]').last).to_contain_text("Arc Desk Lamp", timeout=20_000)
    for page in (customer, agent, other):
        page.close()
