"""What the order tools return: orders, their lines, shipments and payments, and the outcome of
each order action. Fields marked as facts (:mod:`core.facts`) are what a reply may state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from core.facts import Amount, Fact, FactKind, Id, Name, Price, Status
from core.money import Money
from tools.base import ToolResult

OptionalId = Annotated[str | None, Fact(FactKind.ID)]
OptionalAmount = Annotated[Money | None, Fact(FactKind.AMOUNT)]


class OrderLine(ToolResult):
    variant_id: Id
    product_id: Id
    name: Name
    options: dict[str, str]
    price: Price
    quantity: int
    disposition: str | None = None


class Shipment(ToolResult):
    carrier: str
    tracking_id: OptionalId
    item_ids: list[str]


class PaymentRecord(ToolResult):
    kind: str = Field(description="payment or refund")
    amount: Amount
    payment_method_id: Id
    payment_method: str
    created_at: datetime | None = None


class OrderDetails(ToolResult):
    order_id: Id
    status: Status
    created_at: datetime
    items: list[OrderLine]
    item_count: int
    total: Amount
    paid: Amount
    shipping_address: dict[str, str]
    tracking: list[Shipment]
    transactions: list[PaymentRecord]
    cancel_reason: str | None = None


class OrderSummary(ToolResult):
    order_id: Id
    status: Status
    total: Amount
    item_count: int
    created: date


class OrderList(ToolResult):
    orders: list[OrderSummary]
    total: int = Field(description="How many orders matched before the limit.")


class CancelResult(ToolResult):
    order_id: Id
    status: Status
    cancel_reason: str
    refunded_total: Amount
    refunds: list[PaymentRecord]
    restocked_items: int


class ReturnResult(ToolResult):
    order_id: Id
    status: Status
    returned: list[OrderLine]
    refund_amount: Amount
    refund: PaymentRecord | None
    payment_method_id: Id
    gift_card_balance: OptionalAmount = None


class ExchangedItem(ToolResult):
    item_id: Id
    new_item_id: Id
    name: Name
    new_options: dict[str, str]
    quantity: int
    old_price: Price
    new_price: Price


class ExchangeResult(ToolResult):
    order_id: Id
    status: Status
    exchanges: list[ExchangedItem]
    price_difference: Amount = Field(description="New items minus old items; negative means a refund.")
    charged: Amount
    refunded: Amount
    transaction: PaymentRecord | None
    payment_method_id: Id
    gift_card_balance: OptionalAmount = None


class AddressChangeResult(ToolResult):
    order_id: Id
    status: Status
    shipping_address: dict[str, str]


class ItemsChangeResult(ToolResult):
    """A pending order's items changed to other variants of the same products (once per order)."""

    order_id: Id
    status: Status
    changes: list[ExchangedItem]
    price_difference: Amount = Field(description="New items minus old items; negative means a refund.")
    charged: Amount
    refunded: Amount
    transaction: PaymentRecord | None
    payment_method_id: Id
    gift_card_balance: OptionalAmount = None


class PaymentChangeResult(ToolResult):
    """A pending order now paid with another method; what the old one paid is refunded."""

    order_id: Id
    status: Status
    payment_method_id: Id
    payment_method: str
    previous_payment_method_id: Id
    amount: Amount
    refunds: list[PaymentRecord]
