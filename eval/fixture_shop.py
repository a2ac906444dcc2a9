"""A small hand-written shop that tool tests and the dialogue scenarios assert against.

Kept explicit (not generated) so expected values in tests and scenarios come from this file, not from the
code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from sqlalchemy.orm import Session

from store.models import (
    Address,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    PaymentSource,
    PaymentTransaction,
    Product,
    Promotion,
    TransactionKind,
    Variant,
)

ALICE = "alice_smith_1001"
BOB = "bob_jones_2002"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

PRODUCTS = [
    (
        "P-SHOE",
        "Trailblazer Running Shoe",
        "Running Shoes",
        "Stridewell",
        "Lightweight trail running shoe with a grippy outsole and breathable mesh upper.",
        [
            ("V-SHOE-BL-9", {"color": "blue", "size": "9"}, "79.99", 5),
            ("V-SHOE-RD-9", {"color": "red", "size": "9"}, "79.99", 0),
            ("V-SHOE-BL-10", {"color": "blue", "size": "10"}, "84.99", 2),
        ],
    ),
    (
        "P-TEE",
        "Everyday Cotton T-Shirt",
        "T-Shirts",
        "Loomcraft",
        "Soft crew-neck t-shirt in organic cotton.",
        [
            ("V-TEE-BL-M", {"color": "blue", "size": "M"}, "19.99", 40),
            ("V-TEE-BK-L", {"color": "black", "size": "L"}, "19.99", 12),
            ("V-TEE-RD-S", {"color": "red", "size": "S"}, "17.99", 0),
        ],
    ),
    (
        "P-BOTTLE",
        "Insulated Water Bottle 750ml",
        "Outdoor",
        "Hydrapeak",
        "Double-wall stainless steel bottle that keeps drinks cold for 24 hours.",
        [("V-BOT-SL", {"color": "silver"}, "24.50", 100)],
    ),
    (
        "P-SOCK",
        "Merino Running Socks",
        "Accessories",
        "Stridewell",
        "Cushioned merino wool socks for long runs.",
        [("V-SOCK-M", {"size": "M"}, "12.00", 30)],
    ),
    (
        "P-LAMP",
        "Arc Desk Lamp",
        "Home Office",
        "Lumenor",
        "Adjustable LED desk lamp with warm and cool light.",
        [("V-LAMP-BK", {"color": "black"}, "45.00", 3)],
    ),
]


def _order(oid, customer, status, lines, method, days_ago, tracking=None):
    order = Order(
        id=oid,
        customer_id=customer,
        status=status,
        shipping_address={
            "address1": "1 Main St",
            "address2": "",
            "city": "Springfield",
            "state": "NY",
            "country": "USA",
            "zip": "10001",
        },
        created_at=NOW - timedelta(days=days_ago),
    )
    total = D("0")
    for product_id, variant_id, name, options, price in lines:
        order.items.append(
            OrderItem(
                product_id=product_id,
                variant_id=variant_id,
                name=name,
                options=options,
                price=D(price),
                quantity=1,
            )
        )
        total += D(price)
    order.transactions.append(
        PaymentTransaction(kind=TransactionKind.PAYMENT, amount=total, payment_method_id=method)
    )
    if status is OrderStatus.CANCELLED:
        order.transactions.append(
            PaymentTransaction(kind=TransactionKind.REFUND, amount=total, payment_method_id=method)
        )
        order.cancel_reason = "no longer needed"
    if tracking:
        order.fulfillments.append(
            Fulfillment(carrier="UPS", tracking_ids=[tracking], variant_ids=[line[1] for line in lines])
        )
    return order


TEE_BLUE = ("P-TEE", "V-TEE-BL-M", "Everyday Cotton T-Shirt", {"color": "blue", "size": "M"}, "19.99")
TEE_BLACK = ("P-TEE", "V-TEE-BK-L", "Everyday Cotton T-Shirt", {"color": "black", "size": "L"}, "19.99")
BOTTLE = ("P-BOTTLE", "V-BOT-SL", "Insulated Water Bottle 750ml", {"color": "silver"}, "24.50")
SHOE_BLUE_9 = ("P-SHOE", "V-SHOE-BL-9", "Trailblazer Running Shoe", {"color": "blue", "size": "9"}, "79.99")
SHOE_BLUE_10 = (
    "P-SHOE",
    "V-SHOE-BL-10",
    "Trailblazer Running Shoe",
    {"color": "blue", "size": "10"},
    "84.99",
)
SOCK = ("P-SOCK", "V-SOCK-M", "Merino Running Socks", {"size": "M"}, "12.00")
LAMP = ("P-LAMP", "V-LAMP-BK", "Arc Desk Lamp", {"color": "black"}, "45.00")


def build_fixture_shop(session: Session) -> None:
    for pid, title, category, brand, description, variants in PRODUCTS:
        product = Product(
            id=pid, title=title, category=category, brand=brand, description=description, source="fixture"
        )
        for vid, options, price, stock in variants:
            product.variants.append(
                Variant(id=vid, sku=f"SKU-{vid}", options=options, price=D(price), stock=stock)
            )
        session.add(product)

    alice = Customer(id=ALICE, first_name="Alice", last_name="Smith", email="alice@example.com")
    alice.addresses.append(
        Address(
            address1="1 Main St", city="Springfield", state="NY", country="USA", zip="10001", is_default=True
        )
    )
    alice.payment_methods.append(
        PaymentMethod(id="credit_card_1001", source=PaymentSource.CREDIT_CARD, brand="visa", last_four="4242")
    )
    alice.payment_methods.append(
        PaymentMethod(id="gift_card_1001", source=PaymentSource.GIFT_CARD, balance=D("50.00"))
    )
    bob = Customer(id=BOB, first_name="Bob", last_name="Jones", email="bob@example.com")
    bob.addresses.append(
        Address(
            address1="9 Market St",
            city="San Francisco",
            state="CA",
            country="USA",
            zip="94107",
            is_default=True,
        )
    )
    bob.payment_methods.append(PaymentMethod(id="paypal_2002", source=PaymentSource.PAYPAL))
    session.add_all([alice, bob])
    session.flush()

    session.add_all(
        [
            _order("#W0000001", ALICE, OrderStatus.PENDING, [TEE_BLUE, BOTTLE], "credit_card_1001", 2),
            _order(
                "#W0000002",
                ALICE,
                OrderStatus.DELIVERED,
                [SHOE_BLUE_9, SOCK],
                "credit_card_1001",
                30,
                tracking="1Z999AA10123456784",
            ),
            _order(
                "#W0000003",
                ALICE,
                OrderStatus.PROCESSED,
                [LAMP],
                "gift_card_1001",
                5,
                tracking="1Z999AA10123456785",
            ),
            _order("#W0000004", ALICE, OrderStatus.CANCELLED, [TEE_BLACK], "credit_card_1001", 60),
            _order("#W0000005", BOB, OrderStatus.PENDING, [SHOE_BLUE_10], "paypal_2002", 1),
            _order(
                "#W0000006",
                BOB,
                OrderStatus.DELIVERED,
                [TEE_BLACK, SOCK, BOTTLE, SHOE_BLUE_9],
                "paypal_2002",
                20,
                tracking="1Z999AA10123456786",
            ),
        ]
    )
    session.add_all(
        [
            Promotion(
                code="SAVE10",
                description="10% off orders of $50 or more",
                percent_off=D("10"),
                min_subtotal=D("50"),
            ),
            Promotion(code="FIVEOFF", description="$5 off", amount_off=D("5")),
            Promotion(
                code="SHOES15",
                description="15% off running shoes",
                percent_off=D("15"),
                category="Running Shoes",
            ),
            Promotion(
                code="EXPIRED",
                description="An old promotion",
                percent_off=D("50"),
                ends_at=NOW - timedelta(days=365),
            ),
            Promotion(code="INACTIVE", description="Switched off", percent_off=D("50"), active=False),
        ]
    )


def build_fixture_database(url: str) -> None:
    """Migrate the store at ``url``, fill it with the fixture shop and create the conversation
    store's tables beside it (one PostgreSQL database can hold both)."""
    from assistant.sessions.sql_store import SqlSessionStore
    from store.db import Database

    database = Database(url)
    database.migrate()
    with database.transaction() as session:
        build_fixture_shop(session)
    database.dispose()
    SqlSessionStore(url, heartbeat=False).close()
