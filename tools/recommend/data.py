"""What the recommender learns from, read from the store with a few aggregate queries.

Purchases are order lines of orders that were not cancelled, without lines that were returned.
The catalog is read as plain arrays (no ORM objects), so a 100k-product shop loads quickly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.sparse import csr_matrix
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from store.models import Cart, CartItem, CartStatus, Order, OrderItem, OrderStatus, Product, Variant

CONSUMABLE_TAG = "consumable"
DESCRIPTION_CHARS = 300  # of the description in the text that is embedded


@dataclass(frozen=True)
class Purchase:
    customer_id: str
    product_id: str
    order_id: str
    created_at: datetime


@dataclass
class CatalogArrays:
    """Every product as parallel arrays, in ``ids`` order."""

    ids: list[str]
    titles: list[str]
    categories: list[str]
    brands: list[str]
    min_prices: np.ndarray  # float64, NaN without variants
    consumable_tag: np.ndarray  # bool: tagged "consumable" in the catalog
    texts: list[str]  # what content similarity embeds

    def index(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}


def load_catalog(session: Session) -> CatalogArrays:
    prices = (
        select(Variant.product_id, func.min(Variant.price).label("price"))
        .group_by(Variant.product_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Product.id,
            Product.title,
            Product.category,
            Product.brand,
            Product.tags,
            Product.description,
            prices.c.price,
        )
        .outerjoin(prices, prices.c.product_id == Product.id)
        .order_by(Product.id)
    ).all()
    texts = []
    for _pid, title, category, brand, _tags, description, _price in rows:
        parts = [title, category, brand, (description or "")[:DESCRIPTION_CHARS]]
        texts.append(". ".join(p for p in parts if p))
    return CatalogArrays(
        ids=[r[0] for r in rows],
        titles=[r[1] for r in rows],
        categories=[r[2] for r in rows],
        brands=[(r[3] or "").strip() for r in rows],
        min_prices=np.array([float(r[6]) if r[6] is not None else np.nan for r in rows], dtype=np.float64),
        consumable_tag=np.array(
            [CONSUMABLE_TAG in [str(t).lower() for t in (r[4] or [])] for r in rows], dtype=bool
        ),
        texts=texts,
    )


def load_purchases(session: Session) -> list[Purchase]:
    """Every kept purchase, oldest first (one per order line)."""
    query = (
        select(Order.customer_id, OrderItem.product_id, Order.id, Order.created_at)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(
            Order.status != OrderStatus.CANCELLED,
            or_(OrderItem.disposition.is_(None), OrderItem.disposition != "returned"),
        )
        .order_by(Order.created_at, Order.id, OrderItem.id)
    )
    return [Purchase(c, p, o, t) for c, p, o, t in session.execute(query)]


def customer_purchases(session: Session, customer_id: str) -> list[str]:
    """The product ids one customer bought (kept purchases), most recent first, each once."""
    query = (
        select(OrderItem.product_id, func.max(Order.created_at).label("last"))
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            Order.customer_id == customer_id,
            Order.status != OrderStatus.CANCELLED,
            or_(OrderItem.disposition.is_(None), OrderItem.disposition != "returned"),
        )
        .group_by(OrderItem.product_id)
        .order_by(func.max(Order.created_at).desc(), OrderItem.product_id)
    )
    return [pid for pid, _ in session.execute(query)]


def cart_products(session: Session, session_id: str) -> list[str]:
    """The products in this conversation's open cart, most recently added first."""
    query = (
        select(Variant.product_id)
        .join(CartItem, CartItem.variant_id == Variant.id)
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(Cart.session_id == session_id, Cart.status == CartStatus.OPEN)
        .order_by(CartItem.id.desc())
    )
    return list(dict.fromkeys(session.scalars(query)))


@dataclass
class Interactions:
    """Customers x products: how many distinct orders had the product."""

    customers: list[str]
    matrix: csr_matrix  # float32, shape (len(customers), products)
    repeat_rate: np.ndarray  # per product: share of its buyers who bought it in 2+ orders
    buyers: np.ndarray  # per product: distinct customers


def interactions(purchases: list[Purchase], product_index: dict[str, int]) -> Interactions:
    orders: dict[tuple[str, int], set[str]] = defaultdict(set)
    for p in purchases:
        item = product_index.get(p.product_id)
        if item is not None:
            orders[(p.customer_id, item)].add(p.order_id)
    customers = sorted({c for c, _ in orders})
    row_of = {c: i for i, c in enumerate(customers)}
    rows = np.fromiter((row_of[c] for c, _ in orders), dtype=np.int32, count=len(orders))
    cols = np.fromiter((i for _, i in orders), dtype=np.int32, count=len(orders))
    counts = np.fromiter((len(o) for o in orders.values()), dtype=np.float32, count=len(orders))
    n_items = len(product_index)
    matrix = csr_matrix((counts, (rows, cols)), shape=(len(customers), n_items), dtype=np.float32)
    buyers = np.bincount(cols, minlength=n_items).astype(np.float32)
    repeats = np.bincount(cols, weights=(counts >= 2).astype(np.float64), minlength=n_items)
    repeat_rate = np.divide(repeats, buyers, out=np.zeros(n_items), where=buyers > 0).astype(np.float32)
    return Interactions(customers, matrix, repeat_rate, buyers)
