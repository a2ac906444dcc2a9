"""SQLAlchemy 2 models of the shop: catalog, customers, orders, carts, promotions.

Money is ``Numeric(12, 2)`` and handled as :class:`~decimal.Decimal` everywhere. Ids are
strings so imported shops keep their own ids (tau-bench's ``#W2611340``, Shopify handles).
The schema is created and upgraded by Alembic migrations (``tools/store/migrations``); a
change here needs a new migration.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time with its offset: SQLite gives datetimes back without one, and every time
    the store keeps is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        Decimal: Numeric(12, 2),
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    EXCHANGED = "exchanged"


class PaymentSource(enum.StrEnum):
    CREDIT_CARD = "credit_card"
    PAYPAL = "paypal"
    GIFT_CARD = "gift_card"


class TransactionKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class CartStatus(enum.StrEnum):
    OPEN = "open"
    CHECKED_OUT = "checked_out"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(120), index=True)
    brand: Mapped[str] = mapped_column(String(120), default="", index=True)
    image_url: Mapped[str | None] = mapped_column(String(500))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Variant.id"
    )


class Variant(Base):
    """One purchasable item of a product: a set of options with its own price and stock."""

    __tablename__ = "variants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str | None] = mapped_column(String(120), unique=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    price: Mapped[Decimal]
    stock: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def available(self) -> bool:
        return self.stock > 0


class CatalogChange(Base):
    """A product whose row or variants were written: one row per written row, added by database
    triggers in the writing transaction (migration 0005); the change feed of :mod:`store.changes`."""

    __tablename__ = "catalog_changes"
    __table_args__ = {"sqlite_autoincrement": True}  # a seq is never reused, even after pruning

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp(), index=True)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id"
    )
    payment_methods: Mapped[list[PaymentMethod]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="PaymentMethod.id"
    )
    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.created_at")

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def default_address(self) -> Address | None:
        for address in self.addresses:
            if address.is_default:
                return address
        return self.addresses[0] if self.addresses else None

    @property
    def zip(self) -> str | None:
        address = self.default_address
        return address.zip if address else None


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    address1: Mapped[str] = mapped_column(String(200))
    address2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(60))
    country: Mapped[str] = mapped_column(String(60))
    zip: Mapped[str] = mapped_column(String(20), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="addresses")

    def as_dict(self) -> dict[str, str]:
        return {
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "zip": self.zip,
        }


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    source: Mapped[PaymentSource] = mapped_column(_enum(PaymentSource))
    brand: Mapped[str | None] = mapped_column(String(40))
    last_four: Mapped[str | None] = mapped_column(String(4))
    balance: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    customer: Mapped[Customer] = relationship(back_populates="payment_methods")

    @property
    def label(self) -> str:
        if self.source is PaymentSource.CREDIT_CARD:
            return f"{(self.brand or 'card').title()} ending {self.last_four or '????'}"
        if self.source is PaymentSource.GIFT_CARD:
            return f"Gift card (balance {self.balance or Decimal('0.00')})"
        return "PayPal"


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), index=True)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cancel_reason: Mapped[str | None] = mapped_column(String(120))
    items_modified_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the items of this (pending) order were modified: that can be done once."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    fulfillments: Mapped[list[Fulfillment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Fulfillment.id"
    )
    transactions: Mapped[list[PaymentTransaction]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="PaymentTransaction.id"
    )

    @property
    def total(self) -> Decimal:
        return sum((item.price * item.quantity for item in self.items), Decimal("0.00"))


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(String(64), index=True)
    variant_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(300))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    price: Mapped[Decimal]
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # Set when the line is returned or exchanged: "returned", or "exchanged:<new variant id>".
    disposition: Mapped[str | None] = mapped_column(String(100))

    order: Mapped[Order] = relationship(back_populates="items")


class Fulfillment(Base):
    __tablename__ = "fulfillments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(60), default="")
    tracking_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    variant_ids: Mapped[list[str]] = mapped_column(JSON, default=list)

    order: Mapped[Order] = relationship(back_populates="fulfillments")


class PaymentTransaction(Base):
    __tablename__ = "payment_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TransactionKind] = mapped_column(_enum(TransactionKind))
    amount: Mapped[Decimal]
    payment_method_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="transactions")


class Cart(Base):
    """A shopping cart, owned by a conversation session and, once known, a customer."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[CartStatus] = mapped_column(_enum(CartStatus), default=CartStatus.OPEN)
    promo_code: Mapped[str | None] = mapped_column(String(40))
    order_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id"
    )

    __table_args__ = (Index("ix_carts_session_status", "session_id", "status"),)


class CartItem(Base):
    __tablename__ = "cart_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    cart: Mapped[Cart] = relationship(back_populates="items")
    variant: Mapped[Variant] = relationship()

    __table_args__ = (UniqueConstraint("cart_id", "variant_id"),)


class Promotion(Base):
    __tablename__ = "promotions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    percent_off: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    amount_off: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    min_subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    category: Mapped[str | None] = mapped_column(String(120))
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class IdempotencyRecord(Base):
    """The stored result of a side-effect tool call, so a repeated identical call replays it."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tool: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupportAgent(Base):
    """A support agent's account for the agent console; the password is stored as an Argon2 hash."""

    __tablename__ = "support_agents"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthFailure(Base):
    """Failed identity checks counted per key, so guessing is bounded across conversations,
    restarts and workers. ``key`` is a keyed hash (``customer:<hmac>``, ``client:<hmac>``,
    ``claim:<hmac>``), never the email, name or address itself."""

    __tablename__ = "auth_failures"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column()


class OneTimeCode(Base):
    """A one-time verification code mailed to a customer's email on file: stored as a hash,
    short-lived, single-use and attempt-limited."""

    __tablename__ = "one_time_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataRequestKind(enum.StrEnum):
    EXPORT = "export"
    FORGET = "forget"


class DataRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DONE = "done"
    REJECTED = "rejected"


class DataRequest(Base):
    """A customer's request for a copy of their data or its deletion, made in chat, queued for
    the operator (``shopassist customers requests``) unless self-service is allowed."""

    __tablename__ = "data_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DataRequestKind] = mapped_column(_enum(DataRequestKind))
    status: Mapped[DataRequestStatus] = mapped_column(
        _enum(DataRequestStatus), default=DataRequestStatus.PENDING
    )
    session_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(64))


class VerifiedSender(Base):
    """A conversation of an outside dialogue system (a Rasa assistant calling our actions) and
    the customer it verified. Kept here, not in that system's slots, so a forged slot proves
    nothing. ``sender_key`` is a keyed hash of the channel and its sender id (which may be a phone
    number); the binding lapses after ``auth.idle_expiry_seconds`` without use."""

    __tablename__ = "verified_senders"

    sender_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
