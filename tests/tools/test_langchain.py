from __future__ import annotations

import json

from langchain_core.tools import StructuredTool

from tests.shop_fixture import ALICE
from tools.base import ToolContext
from tools.langchain import as_langchain_tools


def test_every_tool_is_a_structured_tool_with_its_schema(executor, anonymous):
    tools = {t.name: t for t in as_langchain_tools(executor, anonymous)}
    assert set(tools) == set(executor.registry.names())
    assert all(isinstance(t, StructuredTool) for t in tools.values())
    assert tools["get_product"].args_schema is executor.registry.get("get_product").args_model
    assert "confirmation" in tools["checkout"].description


def test_invoke_runs_through_the_policy_layer(executor, anonymous):
    tools = {t.name: t for t in as_langchain_tools(executor, anonymous)}
    result = json.loads(tools["get_product"].invoke({"product_id": "P-LAMP"}))
    assert result["title"] == "Arc Desk Lamp" and result["max_price"] == 45.0
    refused = tools["get_order_status"].invoke({"order_id": "#W0000001"})
    assert refused.startswith("authentication_required")


def test_context_provider_sees_later_authentication(executor):
    current = {"ctx": ToolContext(session_id="lc")}
    tools = {t.name: t for t in as_langchain_tools(executor, lambda: current["ctx"])}
    current["ctx"] = ToolContext(session_id="lc", customer_id=ALICE)
    status = json.loads(tools["get_order_status"].invoke({"order_id": "#W0000001"}))
    assert status["order_id"] == "#W0000001" and status["status"] == "pending"
    cancel = tools["cancel_order"].invoke({"order_id": "#W0000001", "reason": "no longer needed"})
    assert cancel.startswith("confirmation_required")
