"""Every tool Rasa can call has a result message, and each renders from a real result of that
tool on the fixture shop (a template naming a field its result lacks fails here, not in a chat)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.rasa.actions import exposed_tools
from connectors.rasa.messages import CARDS_PAYLOAD, Messages
from tests.shop_fixture import ALICE, BOB
from tools.base import ToolContext
from tools.knowledge import PolicyLookupResult, PolicyPassage
from tools.policy import ToolExecutor
from tools.registry import default_registry

ADDRESS = {"address1": "5 Elm St", "city": "Springfield", "state": "NY", "country": "USA", "zip": "10002"}

# tool -> (customer, arguments, calls made first in the same conversation)
CASES: dict[str, tuple[str | None, dict[str, Any], list[tuple[str, dict[str, Any]]]]] = {
    "add_to_cart": (None, {"variant_id": "V-TEE-BL-M", "quantity": 2}, []),
    "remove_from_cart": (None, {"variant_id": "V-TEE-BL-M"}, [("add_to_cart", {"variant_id": "V-TEE-BL-M"})]),
    "view_cart": (None, {}, [("add_to_cart", {"variant_id": "V-BOT-SL"})]),
    "browse_category": (None, {"category": "T-Shirts"}, []),
    "catalog_search": (None, {"query": "running shoe"}, []),
    "check_availability": (None, {"product_id": "P-SHOE", "options": {"color": "red", "size": "9"}}, []),
    "check_stock": (None, {"variant_id": "V-TEE-BL-M"}, []),
    "get_product": (None, {"product_id": "P-LAMP"}, []),
    "similar_items": (None, {"product_id": "P-SHOE"}, []),
    "frequently_bought_together": (None, {"product_id": "P-TEE"}, []),
    "popular_items": (None, {}, []),
    "recommend_for_customer": (ALICE, {"viewed_product_ids": ["P-SHOE"]}, []),
    "quote": (None, {"items": [{"variant_id": "V-TEE-BL-M", "quantity": 3}]}, []),
    "checkout": (
        ALICE,
        {"payment_method_id": "credit_card_1001"},
        [("add_to_cart", {"variant_id": "V-LAMP-BK"})],
    ),
    "get_customer_profile": (ALICE, {}, []),
    "get_order_status": (ALICE, {"order_id": "#W0000002"}, []),
    "list_orders": (ALICE, {}, []),
    "cancel_order": (ALICE, {"order_id": "#W0000001", "reason": "no longer needed"}, []),
    "change_order_payment": (ALICE, {"order_id": "#W0000001", "payment_method_id": "gift_card_1001"}, []),
    "change_shipping_address": (ALICE, {"order_id": "#W0000001", "address": ADDRESS}, []),
    "change_default_address": (ALICE, {"address": ADDRESS}, []),
    "return_items": (
        ALICE,
        {"order_id": "#W0000002", "item_ids": ["V-SOCK-M"], "payment_method_id": "credit_card_1001"},
        [],
    ),
    "exchange_items": (
        BOB,
        {
            "order_id": "#W0000006",
            "item_ids": ["V-SHOE-BL-9"],
            "new_item_ids": ["V-SHOE-BL-10"],
            "payment_method_id": "paypal_2002",
        },
        [],
    ),
    "modify_order_items": (
        BOB,
        {
            "order_id": "#W0000005",
            "item_ids": ["V-SHOE-BL-10"],
            "new_item_ids": ["V-SHOE-BL-9"],
            "payment_method_id": "paypal_2002",
        },
        [],
    ),
    "request_data_copy": (ALICE, {}, []),
    "request_data_deletion": (ALICE, {}, []),
}


INDEXED = {"policy_lookup"}  # needs the search index: rendered from a built result below


def test_every_tool_rasa_can_call_has_a_message_and_a_case_here():
    messages = Messages(currency="USD")
    names = {tool.name for tool in exposed_tools(default_registry())}
    assert names == set(CASES) | INDEXED
    assert all(messages.has_result(name) for name in names)


@pytest.mark.parametrize("tool", sorted(CASES))
def test_each_result_message_renders_from_a_real_result(tool: str, executor: ToolExecutor):
    customer, args, before = CASES[tool]
    ctx = ToolContext(session_id="rasa-test", customer_id=customer, channel="rasa")
    for name, earlier in before:
        executor.run(name, earlier, ctx=ctx)
    if executor.tool(tool).side_effect:
        ctx = ctx.confirmed(executor.prepare(tool, args, ctx=ctx).token)
    outcome = executor.run(tool, args, ctx=ctx)
    message = Messages(currency="USD").result(tool, outcome.result)
    assert message.text and "{{" not in message.text and "None" not in message.text
    for value in ("order_id", "title"):
        shown = getattr(outcome.result, value, None)
        if isinstance(shown, str):
            assert shown in message.text
    if message.custom is not None:
        assert message.custom["type"] == CARDS_PAYLOAD
        assert all(card["title"] in message.text for card in message.custom["products"])


def test_amounts_are_shown_in_the_shops_currency(executor: ToolExecutor):
    outcome = executor.run("get_product", {"product_id": "P-LAMP"}, ctx=ToolContext())
    assert "€45.00" in Messages(currency="EUR").result("get_product", outcome.result).text


def test_a_policy_answer_cites_its_page():
    passage = PolicyPassage(
        page="Returns", source="returns.md", section="Returns", text="Returns within 30 days.", score=0.9
    )
    text = Messages(currency="USD").result("policy_lookup", PolicyLookupResult(passages=[passage])).text
    assert "Returns within 30 days." in text and "Returns" in text
    empty = Messages(currency="USD").result("policy_lookup", PolicyLookupResult(passages=[])).text
    assert empty and "30 days" not in empty
