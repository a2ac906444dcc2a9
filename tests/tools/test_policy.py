"""The policy layer, tested with small tools defined here so each rule is isolated."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field
from sqlalchemy import func, select

from core.errors import (
    ActionRefusedError,
    AuthenticationRequiredError,
    ConfirmationRequiredError,
    InvalidArgumentsError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
    ToolFailedError,
)
from core.facts import Id, StockCount
from store.models import IdempotencyRecord, Order, Variant
from tests.shop_fixture import ALICE
from tools.arguments import OrderId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult
from tools.policy import ToolExecutor
from tools.registry import ToolRegistry

pytestmark = pytest.mark.databases


class RestockArgs(ArgsModel):
    variant_id: str = Field(description="Variant to restock.")
    quantity: int = Field(ge=1, le=100, description="Units to add.")


class RestockResult(ToolResult):
    variant_id: Id
    stock: StockCount


class Restock(Tool[RestockArgs, RestockResult]):
    name = "restock"
    description = "Adds stock to a variant (a side effect, for policy tests)."
    args_model = RestockArgs
    result_model = RestockResult
    side_effect = True

    def run(self, args: RestockArgs, *, ctx: ToolContext, env: ToolEnv) -> RestockResult:
        variant = env.db.get(Variant, args.variant_id)
        if variant is None:
            raise NotFoundError(f"There is no variant {args.variant_id}")
        variant.stock += args.quantity
        env.db.flush()
        if args.quantity == 99:
            raise RuntimeError("disk on fire")  # after writing: must roll back
        if args.quantity == 98:
            raise ActionRefusedError("98 is refused")  # after writing: must roll back
        return RestockResult(variant_id=variant.id, stock=variant.stock)


class OrderArgs(ArgsModel):
    order_id: OrderId = Field(description="Order to touch.")


class OrderResult(ToolResult):
    order_id: Id


class TouchOrder(Tool[OrderArgs, OrderResult]):
    name = "touch_order"
    description = "Reads an order of the authenticated customer (for policy tests)."
    args_model = OrderArgs
    result_model = OrderResult
    requires_auth = True

    def run(self, args: OrderArgs, *, ctx: ToolContext, env: ToolEnv) -> OrderResult:
        order = env.db.get(Order, args.order_id)
        if order is None:  # the policy layer checks existence first; this must not happen
            raise ToolFailedError("order vanished")
        return OrderResult(order_id=order.id)


@pytest.fixture
def policy(services: Any) -> ToolExecutor:
    return ToolExecutor(
        ToolRegistry([Restock(), TouchOrder()]),
        services.database,
        shop=services.settings.shop,
        secret=b"0123456789abcdef0123456789abcdef",
    )


def stock(database: Any, variant_id: str) -> int:
    with database.session() as s:
        return s.get(Variant, variant_id).stock


def records(database: Any) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(IdempotencyRecord))


def test_side_effect_without_confirmation_is_refused_and_changes_nothing(policy, database, alice):
    with pytest.raises(ConfirmationRequiredError):
        policy.run("restock", {"variant_id": "V-LAMP-BK", "quantity": 2}, ctx=alice)
    assert stock(database, "V-LAMP-BK") == 3


def test_confirmed_side_effect_runs_once_and_replays(policy, database, alice):
    args = {"variant_id": "V-LAMP-BK", "quantity": 2}
    pending = policy.prepare("restock", args, ctx=alice)
    assert "restock" in pending.summary and "V-LAMP-BK" in pending.summary
    first = policy.run("restock", args, ctx=alice.confirmed(pending.token))
    again = policy.run("restock", args, ctx=alice.confirmed(pending.token))
    assert first.result.stock == 5 and not first.replayed
    assert again.replayed and again.result == first.result
    assert stock(database, "V-LAMP-BK") == 5
    assert records(database) == 1


def test_token_is_bound_to_arguments_session_and_customer(policy, alice, bob):
    pending = policy.prepare("restock", {"variant_id": "V-LAMP-BK", "quantity": 2}, ctx=alice)
    with pytest.raises(ConfirmationRequiredError, match="does not match"):
        policy.run("restock", {"variant_id": "V-LAMP-BK", "quantity": 50}, ctx=alice.confirmed(pending.token))
    with pytest.raises(ConfirmationRequiredError, match="does not match"):
        policy.run("restock", {"variant_id": "V-LAMP-BK", "quantity": 2}, ctx=bob.confirmed(pending.token))
    other_session = ToolContext(session_id="another", customer_id=ALICE, confirmation=pending.token)
    with pytest.raises(ConfirmationRequiredError, match="does not match"):
        policy.run("restock", {"variant_id": "V-LAMP-BK", "quantity": 2}, ctx=other_session)
    with pytest.raises(ConfirmationRequiredError, match="malformed"):
        policy.run("restock", {"variant_id": "V-LAMP-BK", "quantity": 2}, ctx=alice.confirmed("junk"))


def test_expired_confirmation_is_refused(services, database, alice):
    short = ToolExecutor(
        ToolRegistry([Restock()]),
        database,
        shop=services.settings.shop,
        secret=b"0123456789abcdef0123456789abcdef",
        confirmation_ttl=-1,
    )
    pending = short.prepare("restock", {"variant_id": "V-LAMP-BK", "quantity": 1}, ctx=alice)
    with pytest.raises(ConfirmationRequiredError, match="expired"):
        short.run("restock", {"variant_id": "V-LAMP-BK", "quantity": 1}, ctx=alice.confirmed(pending.token))
    assert stock(database, "V-LAMP-BK") == 3


@pytest.mark.parametrize(("quantity", "error"), [(99, ToolFailedError), (98, ActionRefusedError)])
def test_failure_after_writing_rolls_everything_back(policy, database, alice, quantity, error):
    args = {"variant_id": "V-LAMP-BK", "quantity": quantity}
    pending = policy.prepare("restock", args, ctx=alice)
    with pytest.raises(error):
        policy.run("restock", args, ctx=alice.confirmed(pending.token))
    assert stock(database, "V-LAMP-BK") == 3
    assert records(database) == 0


def test_bad_arguments_name_each_argument(policy, alice):
    with pytest.raises(InvalidArgumentsError) as info:
        policy.run("restock", {"variant_id": "V-LAMP-BK", "quantity": 0, "extra": 1}, ctx=alice)
    assert {e["argument"] for e in info.value.errors} == {"quantity", "extra"}
    assert "quantity" in info.value.message
    with pytest.raises(InvalidArgumentsError, match="JSON object"):
        policy.run("restock", ["not", "a", "dict"], ctx=alice)  # type: ignore[arg-type]


def test_auth_tool_needs_authenticated_customer(policy, anonymous):
    with pytest.raises(AuthenticationRequiredError, match="email"):
        policy.run("touch_order", {"order_id": "#W0000001"}, ctx=anonymous)


def test_another_customers_order_is_refused(policy, alice, bob):
    assert policy.run("touch_order", {"order_id": "W0000001"}, ctx=alice).result.order_id == "#W0000001"
    with pytest.raises(PermissionDeniedError, match="does not belong"):
        policy.run("touch_order", {"order_id": "#W0000001"}, ctx=bob)
    with pytest.raises(PermissionDeniedError):
        policy.prepare("touch_order", {"order_id": "#W0000001"}, ctx=bob)
    with pytest.raises(NotFoundError):
        policy.run("touch_order", {"order_id": "#W9999999"}, ctx=alice)
    with pytest.raises(InvalidArgumentsError, match="order_id"):
        policy.run("touch_order", {"order_id": "1; DROP TABLE orders"}, ctx=alice)


def test_unknown_tool_lists_valid_names(policy, alice):
    with pytest.raises(NotFoundError, match="restock, touch_order"):
        policy.run("refund_everything", {}, ctx=alice)


def test_secret_must_be_long_enough(services):
    with pytest.raises(ValueError, match="16 bytes"):
        ToolExecutor(ToolRegistry(), services.database, shop=services.settings.shop, secret=b"short")


def test_results_expose_checkable_facts(policy, alice):
    args = {"variant_id": "V-SOCK-M", "quantity": 1}
    pending = policy.prepare("restock", args, ctx=alice)
    outcome = policy.run("restock", args, ctx=alice.confirmed(pending.token))
    facts = {(f.kind.value, f.value) for f in outcome.result.facts()}
    assert facts == {("id", "V-SOCK-M"), ("stock", 31)}
    assert outcome.to_dict()["result"] == {"variant_id": "V-SOCK-M", "stock": 31}


# The typed boundary --------------------------------------------------------------------------
class OtherRestock(Restock):
    """Registered under no name here: asking for it must not run the registered ``restock``."""

    description = "A different tool class that happens to reuse the name (for policy tests)."


def test_a_tool_class_gives_its_own_result_type_and_the_same_outcome_as_its_name(policy, alice):
    by_class = policy.run(TouchOrder, {"order_id": "#W0000001"}, ctx=alice)
    by_name = policy.run("touch_order", {"order_id": "#W0000001"}, ctx=alice)
    assert isinstance(by_class.result, OrderResult)
    assert by_class.result.order_id == "#W0000001"  # typed: no cast needed to read it
    assert by_class == by_name


def test_a_class_other_than_the_registered_one_is_refused(policy, alice):
    with pytest.raises(RegistryError, match="registered as Restock, not OtherRestock"):
        policy.run(OtherRestock, {"variant_id": "V-LAMP-BK", "quantity": 1}, ctx=alice)


def test_a_drafting_executor_reads_but_never_writes(policy, database, alice):
    drafting = policy.drafting()
    assert drafting.run(TouchOrder, {"order_id": "#W0000001"}, ctx=alice).result.order_id == "#W0000001"
    pending = policy.prepare("restock", {"variant_id": "V-LAMP-BK", "quantity": 2}, ctx=alice)
    args = {"variant_id": "V-LAMP-BK", "quantity": 2}
    with pytest.raises(ActionRefusedError, match="does not run in a draft"):
        drafting.run(Restock, args, ctx=alice.confirmed(pending.token))
    assert stock(database, "V-LAMP-BK") == 3
    assert not policy.read_only  # the original executor is unchanged
