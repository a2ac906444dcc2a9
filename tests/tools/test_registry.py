from __future__ import annotations

import pytest
from pydantic import Field

from core.errors import RegistryError, UnknownNameError
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult
from tools.registry import ToolRegistry, default_registry


class EchoArgs(ArgsModel):
    text: str = Field(description="What to echo.")


class EchoResult(ToolResult):
    text: str


class Echo(Tool[EchoArgs, EchoResult]):
    name = "echo"
    description = "Returns its argument unchanged."
    args_model = EchoArgs
    result_model = EchoResult

    def run(self, args: EchoArgs, *, ctx: ToolContext, env: ToolEnv) -> EchoResult:
        return EchoResult(text=args.text)


def test_duplicate_registration_fails_naming_the_first():
    registry = ToolRegistry([Echo()])
    with pytest.raises(RegistryError, match=r"already registered by .*Echo"):
        registry.register(Echo())


def test_failed_lookup_lists_valid_names():
    registry = ToolRegistry([Echo()])
    with pytest.raises(UnknownNameError) as info:
        registry.get("ehco")
    assert "Valid names: echo" in str(info.value)
    assert info.value.context["valid"] == ["echo"]


@pytest.mark.parametrize(
    ("attrs", "problem"),
    [
        ({"name": "Bad Name"}, "must match"),
        ({"description": "short"}, "description"),
        ({"args_model": dict}, "args_model"),
        ({"result_model": EchoArgs}, "result_model"),
        ({"side_effect": "yes"}, "side_effect of tool .echo. must be a bool"),
        ({"writes": 1}, "writes of tool .echo. must be a bool"),
    ],
)
def test_registration_validates_metadata(attrs, problem):
    broken = type("Broken", (Echo,), attrs)
    with pytest.raises(RegistryError, match=problem):
        ToolRegistry([broken()])


def test_arguments_need_descriptions():
    class NoDocArgs(ArgsModel):
        text: str

    broken = type("NoDoc", (Echo,), {"args_model": NoDocArgs})
    with pytest.raises(RegistryError, match=r"argument .text.*needs a description"):
        ToolRegistry([broken()])


def test_run_must_be_implemented():
    class Lazy(Tool[EchoArgs, EchoResult]):
        name = "lazy"
        description = "Never implemented its run method."
        args_model = EchoArgs
        result_model = EchoResult

    with pytest.raises(RegistryError, match="does not implement run"):
        ToolRegistry([Lazy()])


def test_default_registry_has_every_commerce_tool():
    names = set(default_registry().names())
    expected = {
        "get_product",
        "browse_category",
        "catalog_search",
        "similar_items",
        "frequently_bought_together",
        "popular_items",
        "check_stock",
        "check_availability",
        "quote",
        "find_customer_by_email",
        "find_customer_by_name_zip",
        "get_customer_profile",
        "get_order_status",
        "list_orders",
        "cancel_order",
        "return_items",
        "exchange_items",
        "modify_order_items",
        "change_order_payment",
        "change_shipping_address",
        "change_default_address",
        "add_to_cart",
        "remove_from_cart",
        "view_cart",
        "checkout",
        "verify_customer",
        "request_data_copy",
        "request_data_deletion",
    }
    assert expected <= names
    side_effects = {t.name for t in default_registry() if t.side_effect}
    assert side_effects == {
        "cancel_order",
        "return_items",
        "exchange_items",
        "modify_order_items",
        "change_order_payment",
        "change_shipping_address",
        "change_default_address",
        "checkout",
        "request_data_copy",
        "request_data_deletion",
    }
    assert all(t.requires_auth for t in default_registry() if t.side_effect)
    writers = {t.name for t in default_registry() if t.writes}
    assert writers == {"add_to_cart", "remove_from_cart"}, "store writes without a confirmation"
