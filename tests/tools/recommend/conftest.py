"""A hand-made order history on top of the fixture shop: hikers and cooks.

Twelve hikers buy outdoor gear (and energy bars again and again: a consumable), twelve cooks
buy kitchen gear. The sleeping bag sells well but is out of stock. Dana (a new customer) bought the
hiking boots and energy bars; Erin bought only the chef's knife. The model is trained on it with the real
library (no embedder: the collaborative part and the catalog's categories and brands).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.config import Settings
from store.db import Database
from store.models import Customer, Order, OrderItem, OrderStatus, Product, Variant
from tools.base import ToolContext
from tools.recommend.data import load_catalog, load_purchases
from tools.recommend.model import MODEL_DIR, RecommenderModel
from tools.recommend.training import train

# id, title, category, brand, price, stock
OUTDOOR = [
    ("H-BOOT", "Summit Hiking Boots", "Hiking Boots", "Ridgeway", "120.00", 5),
    ("H-TENT", "Trail Tent 2P", "Tents", "Ridgeway", "199.00", 5),
    ("H-PACK", "Alpine Backpack 40L", "Backpacks", "Ridgeway", "89.00", 5),
    ("H-POLE", "Carbon Trekking Poles", "Hiking Gear", "Crag", "59.00", 5),
    ("H-STOVE", "Compact Camp Stove", "Camping", "Crag", "45.00", 5),
    ("H-BAG", "Down Sleeping Bag", "Sleeping Bags", "Crag", "150.00", 0),
]
KITCHEN = [
    ("K-KNIFE", "Chef Knife 8in", "Kitchen Knives", "Forge", "75.00", 5),
    ("K-PAN", "Cast Iron Pan", "Cookware", "Forge", "49.00", 5),
    ("K-BOARD", "Walnut Cutting Board", "Kitchen Tools", "Oakhouse", "39.00", 5),
    ("K-SHARP", "Whetstone Sharpener", "Kitchen Tools", "Forge", "29.00", 5),
    ("K-GRIND", "Burr Coffee Grinder", "Coffee", "Oakhouse", "99.00", 5),
]
BARS = ("C-BARS", "Trail Energy Bars 12-pack", "Snacks", "Crag", "18.00", 50)
# The apparel product has sizes: used by the size/budget preferences test.
JACKET = ("H-JACKET", "Ridgeline Rain Jacket", "Jackets", "Ridgeway", "130.00", 5)
JACKET_SIZES = {"S": ("110.00", 3), "M": ("79.00", 4), "L": ("130.00", 0)}

DANA = "dana_hill_3003"
ERIN = "erin_cook_4004"
HIKERS = [f"hiker_{n:02d}" for n in range(12)]
COOKS = [f"cook_{n:02d}" for n in range(12)]


def _product(spec: tuple[str, str, str, str, str, int]) -> Product:
    pid, title, category, brand, price, stock = spec
    product = Product(id=pid, title=title, category=category, brand=brand, description=title)
    product.variants.append(Variant(id=f"V-{pid}", options={}, price=Decimal(price), stock=stock))
    return product


def _order(oid: str, customer: str, products: list[str], prices: dict[str, str]) -> Order:
    order = Order(id=oid, customer_id=customer, status=OrderStatus.DELIVERED)
    for pid in products:
        order.items.append(
            OrderItem(product_id=pid, variant_id=f"V-{pid}", name=pid, options={}, price=Decimal(prices[pid]))
        )
    return order


def add_history(database: Database) -> None:
    prices = {spec[0]: spec[4] for spec in [*OUTDOOR, *KITCHEN, BARS, JACKET]}
    outdoor = [spec[0] for spec in OUTDOOR]
    kitchen = [spec[0] for spec in KITCHEN]
    number = 9_000_000
    with database.transaction() as session:
        for spec in [*OUTDOOR, *KITCHEN, BARS]:
            session.add(_product(spec))
        jacket = Product(id=JACKET[0], title=JACKET[1], category=JACKET[2], brand=JACKET[3])
        for size, (price, stock) in JACKET_SIZES.items():
            jacket.variants.append(
                Variant(id=f"V-{JACKET[0]}-{size}", options={"size": size}, price=Decimal(price), stock=stock)
            )
        session.add(jacket)
        for customer in [*HIKERS, *COOKS, DANA, ERIN]:
            session.add(
                Customer(id=customer, first_name="T", last_name=customer, email=f"{customer}@example.com")
            )
        session.flush()
        for n, customer in enumerate(HIKERS):
            # Each hiker: four outdoor products (rotating), the bars in two orders, a jacket for some.
            mine = [outdoor[(n + i) % len(outdoor)] for i in range(4)]
            for basket in ([*mine[:2], "C-BARS"], [*mine[2:], "C-BARS"]):
                number += 1
                session.add(_order(f"#W{number}", customer, basket, prices))
            if n % 3 == 0:
                number += 1
                session.add(_order(f"#W{number}", customer, ["H-JACKET"], prices | {"H-JACKET": "79.00"}))
        for n, customer in enumerate(COOKS):
            mine = [kitchen[(n + i) % len(kitchen)] for i in range(4)]
            for basket in (mine[:2], mine[2:]):
                number += 1
                session.add(_order(f"#W{number}", customer, basket, prices))
        number += 1
        session.add(_order(f"#W{number}", DANA, ["H-BOOT", "C-BARS"], prices))
        number += 1
        session.add(_order(f"#W{number}", ERIN, ["K-KNIFE"], prices))


def train_saved(settings: Settings, database: Database) -> RecommenderModel:
    with database.session() as session:
        model = train(load_catalog(session), load_purchases(session))
    model.save(settings.data_dir / MODEL_DIR)
    return model


@pytest.fixture
def dana() -> ToolContext:
    return ToolContext(session_id="sess-dana", customer_id=DANA)


@pytest.fixture
def erin() -> ToolContext:
    return ToolContext(session_id="sess-erin", customer_id=ERIN)


@pytest.fixture
def trained(settings: Settings, database: Database) -> RecommenderModel:
    """The hikers-and-cooks history added and a model trained on it, saved where tools find it."""
    add_history(database)
    return train_saved(settings, database)
