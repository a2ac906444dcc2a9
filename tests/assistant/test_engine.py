"""The Assistant API end to end: persistence across a killed process, agent mode, bad input,
streaming and turn ordering. Real store, index, session store and models throughout."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.engine import Assistant, StreamText
from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.reply.message import Reply
from assistant.sessions.events import AgentMessage, BotReply, ModeChange, ToolResult, UserMessage
from assistant.sessions.slots import Mode
from core.errors import InvalidArgumentsError
from eval.dialogue.runner import ScenarioHarness
from services import Services
from store.models import Order, OrderStatus

pytestmark = pytest.mark.databases

pytest_plugins = ("tests.assistant.llm.stub_server",)
REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys, time
from core.config import Settings
from services import Services
from assistant.engine import Assistant
settings = Settings(data_dir=sys.argv[1], policy={"secret_key": sys.argv[2]}, llm={"enabled": False})
services = Services.from_settings(settings, with_dialogue=True)
services.index.ensure_ready()
assistant = services.require_assistant()
sid = sys.argv[3]
for text in sys.argv[4:]:
    reply = assistant.handle(sid, text, channel="web")
    print(reply.template, flush=True)
print("idle", flush=True)
time.sleep(600)
"""


@pytest.fixture
def rules(harness: ScenarioHarness, shop_db_url: str | None) -> Iterator[tuple[Assistant, Services]]:
    with harness.assistant(database_url=shop_db_url) as pair:
        yield pair


@pytest.mark.slow
def test_a_killed_process_loses_nothing_and_the_conversation_goes_on(
    harness: ScenarioHarness, shop_db_url: str | None, tmp_path: Path
) -> None:
    data_dir = tmp_path / "shop"
    shutil.copytree(harness.workdir / "template", data_dir)
    secret = "scenario-secret-key-0123456789"
    turns = ["I want to cancel an order", "alice@example.com, zip 10001", "#W0000001"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    if shop_db_url is not None:  # as a shop configures PostgreSQL
        env |= {"SHOPASSIST_STORE__URL": shop_db_url, "SHOPASSIST_SESSIONS__URL": shop_db_url}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), secret, "web-restart-1", *turns],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert child.stdout is not None
    seen = [child.stdout.readline().strip() for _ in range(4)]
    assert seen == ["auth_ask_knowledge", "ask_order_id", "ask_cancel_reason", "idle"]
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)

    settings = harness.settings_for(data_dir, database_url=shop_db_url)
    services = Services.from_settings(settings, with_dialogue=True, embedder=harness.embedder, llm=None)
    try:
        assert services.index is not None
        services.index.ensure_ready()
        assistant = services.require_assistant()
        state = assistant.store.state(session_id="web-restart-1")
        assert state.customer_id == "alice_smith_1001"
        assert state.active_form is not None and state.active_form.requested == "reason"
        confirm = assistant.handle("web-restart-1", "ordered by mistake")
        assert confirm.template == "confirm_action"
        done = assistant.handle("web-restart-1", "yes")
        assert done.template == "cancel_done"
        with services.database.session() as session:
            order = session.get(Order, "#W0000001")
            assert order is not None and order.status is OrderStatus.CANCELLED
        texts = [
            e.event.text
            for e in assistant.store.events(session_id="web-restart-1")
            if isinstance(e.event, UserMessage)
        ]
        assert texts == [*turns, "ordered by mistake", "yes"]
    finally:
        services.close()


def test_agent_mode_keeps_the_bot_silent_and_records_the_message(rules: tuple[Assistant, Services]) -> None:
    assistant, _ = rules
    sid = assistant.start_session(channel="web")
    first = assistant.handle(sid, "I want to talk to a human")
    assert first.mode is Mode.AGENT and first.template == "handoff_started"
    assistant.store.append(session_id=sid, events=[AgentMessage(agent="sam", text="Hi, Sam here.")])
    quiet = assistant.handle(sid, "hi Sam, where is my parcel?")
    assert quiet.silent and quiet.mode is Mode.AGENT
    events = [e.event for e in assistant.store.events(session_id=sid)]
    assert isinstance(events[-1], UserMessage) and events[-1].text == "hi Sam, where is my parcel?"
    assert sum(isinstance(e, BotReply) for e in events) == 1


def test_a_closed_conversation_reopens_when_the_customer_writes(rules: tuple[Assistant, Services]) -> None:
    assistant, _ = rules
    sid = assistant.start_session(channel="web")
    assistant.store.append(
        session_id=sid, events=[ModeChange(mode=Mode.CLOSED, reason="done", by="agent:sam")]
    )
    reply = assistant.handle(sid, "hello")
    assert reply.mode is Mode.BOT and reply.template == "greet"


def test_an_oversized_message_is_refused_and_changes_nothing(rules: tuple[Assistant, Services]) -> None:
    assistant, _ = rules
    sid = assistant.start_session(channel="web")
    limit = assistant.settings.dialogue.max_message_chars
    reply = assistant.handle(sid, "socks " * limit)
    assert reply.template == "too_long" and str(limit) in reply.text.replace(",", "")
    assert assistant.store.events(session_id=sid) == []
    empty = assistant.handle(sid, "   \x00  ")
    assert empty.steps[0].name == "empty"
    assert assistant.store.events(session_id=sid) == []


def test_bad_session_ids_and_channels_are_refused(rules: tuple[Assistant, Services]) -> None:
    assistant, _ = rules
    with pytest.raises(InvalidArgumentsError, match="session id"):
        assistant.handle("../../etc/passwd", "hi")
    with pytest.raises(InvalidArgumentsError, match="channel"):
        assistant.handle(None, "hi", channel="Bad Channel!")


def test_a_card_button_turn_is_about_its_product(rules: tuple[Assistant, Services]) -> None:
    assistant, _ = rules
    sid = assistant.start_session(channel="telegram")
    assistant.handle(sid, "desk lamp")
    asked = assistant.handle(sid, "Add this to my cart", product_id="P-SHOE")  # not the one shown
    assert asked.template == "ask_variant" and "Trailblazer Running Shoe" in asked.text
    # A tap on another product's card leaves the open question and is about that product.
    lamp = assistant.handle(sid, "Add this to my cart", product_id="P-LAMP")
    assert lamp.template == "cart_added" and "Arc Desk Lamp" in lamp.text
    similar = assistant.handle(sid, "Show me more like this", product_id="P-SHOE")
    assert similar.template == "similar_results" and "Trailblazer Running Shoe" in similar.text
    taps = [e.event for e in assistant.store.events(session_id=sid) if isinstance(e.event, UserMessage)]
    assert [t.product_id for t in taps] == [None, "P-SHOE", "P-LAMP", "P-SHOE"]
    missing = assistant.handle(sid, "Tell me more about this one", product_id="P-NOPE")
    assert missing.template != "product_details" and "P-NOPE" not in missing.text
    with pytest.raises(InvalidArgumentsError, match="product_id"):
        assistant.handle(sid, "add it", product_id="x" * 121)


def test_a_new_session_id_from_a_channel_is_created(rules: tuple[Assistant, Services]) -> None:
    assistant, _ = rules
    reply = assistant.handle("tg:12345", "hi")
    assert reply.session_id == "tg:12345" and assistant.store.exists(session_id="tg:12345")


def test_two_messages_of_one_session_are_processed_in_order(rules: tuple[Assistant, Services]) -> None:
    assistant, _ = rules
    sid = assistant.start_session(channel="web")
    texts = ["socks", "water bottle", "desk lamp", "t-shirt"]
    threads = [threading.Thread(target=assistant.handle, args=(sid, text)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    events = [e.event for e in assistant.store.events(session_id=sid)]
    kinds = [type(e).__name__ for e in events if isinstance(e, UserMessage | BotReply)]
    assert kinds == ["UserMessage", "BotReply"] * 4
    assert sorted(e.text for e in events if isinstance(e, UserMessage)) == sorted(texts)


def test_stream_yields_checked_text_then_the_reply(
    harness: ScenarioHarness, shop_db_url: str | None, llm: LlamaCppLLM
) -> None:
    with harness.assistant(database_url=shop_db_url) as (plain, services):
        assistant = Assistant(
            settings=services.settings,
            store=plain.store,
            executor=services.executor,
            matcher=plain.matcher,
            llm=llm,
        )
        sid = assistant.start_session(channel="web")
        assistant.handle(sid, "desk lamp")

        async def collect() -> list[StreamText | Reply]:
            return [item async for item in assistant.stream(sid, "how much is it?")]

        items = asyncio.run(collect())
        reply = items[-1]
        assert isinstance(reply, Reply) and reply.template == "price_answer"
        pieces = [i for i in items[:-1] if isinstance(i, StreamText)]
        assert pieces
        after_reset = pieces[max((n for n, p in enumerate(pieces) if p.reset), default=0) :]
        assert "".join(p.text for p in after_reset).strip() == reply.text
        assert "45.00" in reply.text
        del plain


def test_search_results_carry_store_prices(rules: tuple[Assistant, Services]) -> None:
    """A price changed in the store shows in the next reply (no stale index figure)."""
    assistant, services = rules
    from store.models import Variant

    with services.database.transaction() as session:
        lamp = session.scalar(select(Variant).where(Variant.id == "V-LAMP-BK"))
        assert lamp is not None
        lamp.price = lamp.price + 1  # 46.00
    reply = assistant.handle(None, "arc desk lamp")
    assert reply.products[0].price == 46 and "$46.00" in reply.text


def test_a_handoff_voids_a_pending_confirmation(rules: tuple[Assistant, Services]) -> None:
    """An old "yes" after a person took over and handed back must not run the old action."""
    from support.desk import SupportDesk

    assistant, services = rules
    sid = assistant.start_session(channel="web")
    asked = assistant.handle(
        sid, "cancel order #W0000001 because I ordered by mistake, alice@example.com, zip 10001"
    )
    assert asked.template == "confirm_action"
    assert assistant.handle(sid, "actually, let me talk to a person").mode is Mode.AGENT
    assert assistant.store.state(session_id=sid).pending_confirmation is None
    desk = SupportDesk(assistant.store)
    desk.take_over(sid, "sam")
    desk.hand_back(sid, "sam")
    later = assistant.handle(sid, "yes")
    assert "cancel_order" not in later.tool_calls()
    with services.database.session() as session:
        order = session.get(Order, "#W0000001")
        assert order is not None and order.status is OrderStatus.PENDING


def _cart_quantities(services: Services, sid: str) -> dict[str, int]:
    from store.models import Cart

    with services.database.session() as session:
        carts = session.scalars(select(Cart).where(Cart.session_id == sid)).all()
        return {item.variant_id: item.quantity for cart in carts for item in cart.items}


def test_a_message_delivered_twice_is_answered_once(rules: tuple[Assistant, Services]) -> None:
    """Same message key (a Telegram update, a client's retry): the second time nothing runs and
    the recorded reply comes back, with its cards."""
    assistant, services = rules
    sid = assistant.start_session(channel="telegram")
    found = assistant.handle(sid, "desk lamp", message_key="tg:1")
    again = assistant.handle(sid, "desk lamp", message_key="tg:1")
    assert not found.replayed and again.replayed
    assert again.text == found.text and again.template == found.template
    assert [c.product_id for c in again.products] == [c.product_id for c in found.products]
    assert again.products[0].price == found.products[0].price
    assert again.products[0].in_stock == found.products[0].in_stock
    added = assistant.handle(sid, "Add this to my cart", product_id="P-LAMP", message_key="tg:2")
    assert added.template == "cart_added"
    before = len(assistant.store.events(session_id=sid))
    replay = assistant.handle(sid, "Add this to my cart", product_id="P-LAMP", message_key="tg:2")
    assert replay.replayed and replay.text == added.text
    assert len(assistant.store.events(session_id=sid)) == before, "a replay records nothing"
    assert sum(_cart_quantities(services, sid).values()) == 1, "the cart was changed once"
    # A new key is a new message, even with the same words.
    more = assistant.handle(sid, "Add this to my cart", product_id="P-LAMP", message_key="tg:3")
    assert not more.replayed and sum(_cart_quantities(services, sid).values()) == 2
    keys = [e.event.key for e in assistant.store.events(session_id=sid) if isinstance(e.event, UserMessage)]
    assert keys == ["tg:1", "tg:2", "tg:3"]


def test_an_earlier_message_sent_again_is_still_answered_once(rules: tuple[Assistant, Services]) -> None:
    """A client that lost its connection sends every unanswered message again, in order: each
    key is found in the conversation's recent keyed messages, not only the last one."""
    assistant, services = rules
    sid = assistant.start_session(channel="web")
    added = assistant.handle(sid, "Add this to my cart", product_id="P-LAMP", message_key="web:a")
    cart = assistant.handle(sid, "what's in my cart?", message_key="web:b")
    before = len(assistant.store.events(session_id=sid))
    first_again = assistant.handle(sid, "Add this to my cart", product_id="P-LAMP", message_key="web:a")
    second_again = assistant.handle(sid, "what's in my cart?", message_key="web:b")
    assert first_again.replayed and first_again.text == added.text
    assert second_again.replayed and second_again.text == cart.text
    assert len(assistant.store.events(session_id=sid)) == before, "replays record nothing"
    assert sum(_cart_quantities(services, sid).values()) == 1, "the cart was changed once"


def test_a_turn_that_crashed_before_it_was_recorded_changes_the_cart_once(
    rules: tuple[Assistant, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the cart write but before the turn's events are stored; the
    channel delivers the message again (same key). The turn runs again, and its cart call
    replays the first one's result instead of adding the item a second time."""
    assistant, services = rules
    sid = assistant.start_session(channel="telegram")
    real_append = assistant.store.append

    def crash(**_: object) -> None:
        raise RuntimeError("killed before the turn was recorded")

    monkeypatch.setattr(assistant.store, "append", crash)
    with pytest.raises(RuntimeError, match="killed"):
        assistant.handle(sid, "Add this to my cart", product_id="P-LAMP", message_key="tg:7")
    monkeypatch.setattr(assistant.store, "append", real_append)
    assert assistant.store.events(session_id=sid) == [], "nothing of the turn was recorded"
    assert sum(_cart_quantities(services, sid).values()) == 1, "but the cart was written"
    again = assistant.handle(sid, "Add this to my cart", product_id="P-LAMP", message_key="tg:7")
    assert not again.replayed and again.template == "cart_added"
    assert sum(_cart_quantities(services, sid).values()) == 1, "the write was not repeated"
    results = [e.event for e in assistant.store.events(session_id=sid) if isinstance(e.event, ToolResult)]
    assert [(r.tool, r.replayed) for r in results if r.tool == "add_to_cart"] == [("add_to_cart", True)]
    # Without a key there is nothing to tell a redelivery from a new message.
    assistant.handle(sid, "Add this to my cart", product_id="P-LAMP")
    assert sum(_cart_quantities(services, sid).values()) == 2


def test_a_replay_while_an_agent_has_the_conversation_stays_silent(rules: tuple[Assistant, Services]) -> None:
    from support.desk import SupportDesk

    assistant, _ = rules
    sid = assistant.start_session(channel="telegram")
    assistant.handle(sid, "I want to talk to a person", message_key="tg:10")
    SupportDesk(assistant.store).take_over(sid, "sam")
    first = assistant.handle(sid, "are you there?", message_key="tg:11")
    again = assistant.handle(sid, "are you there?", message_key="tg:11")
    assert first.silent and again.silent and again.replayed and again.mode is Mode.AGENT
    texts = [e.event.text for e in assistant.store.events(session_id=sid) if isinstance(e.event, UserMessage)]
    assert texts.count("are you there?") == 1


@pytest.mark.parametrize("key", ["", "k" * 65, 7])
def test_a_bad_message_key_is_refused(rules: tuple[Assistant, Services], key: object) -> None:
    assistant, _ = rules
    sid = assistant.start_session(channel="web")
    with pytest.raises(InvalidArgumentsError, match="message_key"):
        assistant.handle(sid, "hi", message_key=key)  # type: ignore[arg-type]
    assert assistant.store.events(session_id=sid) == []
