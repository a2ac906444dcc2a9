from decimal import Decimal

import pytest

from core.errors import InvalidArgumentsError, NotFoundError
from store.models import Order, OrderItem, OrderStatus, Product, Variant
from tests.shop_fixture import ALICE, BOB, LAMP, SHOE_BLUE_9, TEE_BLACK, TEE_BLUE


def add_product(database, pid, category, brand, price, stock=5, title=None):
    with database.transaction() as s:
        product = Product(id=pid, title=title or f"Product {pid}", category=category, brand=brand)
        product.variants.append(Variant(id=f"V-{pid}", options={}, price=Decimal(price), stock=stock))
        s.add(product)


def add_order(database, oid, customer, status, lines):
    with database.transaction() as s:
        order = Order(id=oid, customer_id=customer, status=status)
        for product_id, variant_id, name, options, price in lines:
            order.items.append(
                OrderItem(
                    product_id=product_id,
                    variant_id=variant_id,
                    name=name,
                    options=options,
                    price=Decimal(price),
                )
            )
        s.add(order)


def ids(result):
    return [r.product.product_id for r in result.recommendations]


def reasons(result):
    return {r.product.product_id: r.reason for r in result.recommendations}


# similar_items ------------------------------------------------------------------------------


def test_similar_items_falls_back_to_same_brand(executor, anonymous):
    # P-SHOE is alone in Running Shoes; P-SOCK is the only other Stridewell product.
    out = executor.run("similar_items", {"product_id": "P-SHOE"}, ctx=anonymous).result
    assert out.based_on.product_id == "P-SHOE"
    assert ids(out) == ["P-SOCK"]
    assert out.recommendations[0].reason == "Same brand (Stridewell)"
    assert out.recommendations[0].product.min_price == Decimal("12.00")


def test_similar_items_ranks_category_by_price_with_brand_bonus(executor, anonymous, database):
    # P-SHOE's lowest price is 79.99.
    add_product(database, "P-RUN-NEAR", "Running Shoes", "Fleetfoot", "82.00")  # 2.01 away
    add_product(database, "P-RUN-SAME", "Running Shoes", "Stridewell", "88.00")  # 8.01 away, same brand
    add_product(database, "P-RUN-FAR", "Running Shoes", "Fleetfoot", "150.00")
    add_product(database, "P-OTHER", "Outdoor", "Fleetfoot", "80.00")  # neither category nor brand
    out = executor.run("similar_items", {"product_id": "P-SHOE"}, ctx=anonymous).result
    assert ids(out) == ["P-RUN-SAME", "P-RUN-NEAR", "P-RUN-FAR", "P-SOCK"]
    assert reasons(out) == {
        "P-RUN-SAME": "Also in Running Shoes from Stridewell, at a similar price",
        "P-RUN-NEAR": "Also in Running Shoes, at a similar price",
        "P-RUN-FAR": "Also in Running Shoes",
        "P-SOCK": "Same brand (Stridewell)",
    }


def test_similar_items_respects_limit_and_never_returns_itself(executor, anonymous, database):
    add_product(database, "P-RUN-NEAR", "Running Shoes", "Fleetfoot", "82.00")
    add_product(database, "P-RUN-FAR", "Running Shoes", "Fleetfoot", "150.00")
    out = executor.run("similar_items", {"product_id": "P-SHOE", "limit": 1}, ctx=anonymous).result
    assert ids(out) == ["P-RUN-NEAR"]
    everything = executor.run("similar_items", {"product_id": "P-SHOE", "limit": 20}, ctx=anonymous).result
    assert "P-SHOE" not in ids(everything)


def test_similar_items_for_a_product_without_variants(executor, anonymous, database):
    with database.transaction() as s:
        s.add(Product(id="P-SOON", title="Coming Soon Shoe", category="Running Shoes", brand="Fleetfoot"))
    out = executor.run("similar_items", {"product_id": "P-SOON"}, ctx=anonymous).result
    # No price to compare with: same category, no "similar price" claim.
    assert reasons(out) == {"P-SHOE": "Also in Running Shoes"}


def test_similar_items_can_be_empty(executor, anonymous):
    # P-LAMP is the only Home Office product and the only Lumenor product.
    out = executor.run("similar_items", {"product_id": "P-LAMP"}, ctx=anonymous).result
    assert out.recommendations == []


def test_similar_items_unknown_product(executor, anonymous):
    with pytest.raises(NotFoundError, match="no product P-NOPE"):
        executor.run("similar_items", {"product_id": "P-NOPE"}, ctx=anonymous)


def test_similar_items_rejects_bad_limit(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        executor.run("similar_items", {"product_id": "P-SHOE", "limit": 0}, ctx=anonymous)
    assert info.value.errors[0]["argument"] == "limit"


# frequently_bought_together ----------------------------------------------------------------


def test_frequently_bought_together_counts_orders(executor, anonymous):
    # P-SHOE is in #W0000002 (with P-SOCK), #W0000005 (alone) and #W0000006 (with P-TEE,
    # P-SOCK, P-BOTTLE). Ties are ordered by title.
    out = executor.run("frequently_bought_together", {"product_id": "P-SHOE"}, ctx=anonymous).result
    assert out.based_on.title == "Trailblazer Running Shoe"
    assert ids(out) == ["P-SOCK", "P-TEE", "P-BOTTLE"]
    assert reasons(out) == {
        "P-SOCK": "Bought together in 2 orders",
        "P-TEE": "Bought together in 1 order",
        "P-BOTTLE": "Bought together in 1 order",
    }


def test_frequently_bought_together_ignores_cancelled_orders(executor, anonymous, database):
    add_order(database, "#W0000090", BOB, OrderStatus.CANCELLED, [SHOE_BLUE_9, LAMP])
    out = executor.run("frequently_bought_together", {"product_id": "P-SHOE"}, ctx=anonymous).result
    assert "P-LAMP" not in ids(out)
    add_order(database, "#W0000091", BOB, OrderStatus.DELIVERED, [SHOE_BLUE_9, LAMP])
    out = executor.run("frequently_bought_together", {"product_id": "P-SHOE"}, ctx=anonymous).result
    assert reasons(out)["P-LAMP"] == "Bought together in 1 order"


def test_frequently_bought_together_counts_an_order_once(executor, anonymous, database):
    # Two lines of P-TEE with the lamp in one order: one order, not two.
    add_order(database, "#W0000092", ALICE, OrderStatus.DELIVERED, [TEE_BLUE, TEE_BLACK, LAMP])
    out = executor.run("frequently_bought_together", {"product_id": "P-TEE"}, ctx=anonymous).result
    assert reasons(out)["P-LAMP"] == "Bought together in 1 order"
    assert "P-TEE" not in ids(out)


def test_frequently_bought_together_limit(executor, anonymous):
    out = executor.run(
        "frequently_bought_together", {"product_id": "P-SHOE", "limit": 1}, ctx=anonymous
    ).result
    assert ids(out) == ["P-SOCK"]


def test_frequently_bought_together_without_history_is_empty(executor, anonymous, database):
    # P-LAMP was only ever ordered alone (#W0000003).
    out = executor.run("frequently_bought_together", {"product_id": "P-LAMP"}, ctx=anonymous).result
    assert out.recommendations == [] and out.based_on.product_id == "P-LAMP"
    add_product(database, "P-NEW", "Outdoor", "Hydrapeak", "9.00")
    fresh = executor.run("frequently_bought_together", {"product_id": "P-NEW"}, ctx=anonymous).result
    assert fresh.recommendations == []


def test_frequently_bought_together_unknown_product(executor, anonymous):
    with pytest.raises(NotFoundError, match="no product P-NOPE"):
        executor.run("frequently_bought_together", {"product_id": "P-NOPE"}, ctx=anonymous)


# popular_items -----------------------------------------------------------------------------


def test_popular_items_ranks_by_non_cancelled_orders(executor, anonymous):
    # Non-cancelled orders: P-SHOE 3 (#2, #5, #6); P-TEE 2 (#1, #6; cancelled #4 excluded);
    # P-BOTTLE 2 (#1, #6); P-SOCK 2 (#2, #6); P-LAMP 1 (#3). Ties by title.
    out = executor.run("popular_items", {}, ctx=anonymous).result
    assert out.category is None
    assert ids(out) == ["P-SHOE", "P-TEE", "P-BOTTLE", "P-SOCK", "P-LAMP"]
    assert reasons(out) == {
        "P-SHOE": "Ordered 3 times",
        "P-TEE": "Ordered 2 times",
        "P-BOTTLE": "Ordered 2 times",
        "P-SOCK": "Ordered 2 times",
        "P-LAMP": "Ordered 1 time",
    }


def test_popular_items_limit(executor, anonymous):
    out = executor.run("popular_items", {"limit": 2}, ctx=anonymous).result
    assert ids(out) == ["P-SHOE", "P-TEE"]


def test_popular_items_in_category_is_case_insensitive(executor, anonymous, database):
    add_product(database, "P-RUN-NEW", "Running Shoes", "Fleetfoot", "90.00")
    out = executor.run("popular_items", {"category": "running SHOES"}, ctx=anonymous).result
    assert out.category == "Running Shoes"
    assert ids(out) == ["P-SHOE", "P-RUN-NEW"]
    assert reasons(out)["P-RUN-NEW"] == "New in Running Shoes"


def test_popular_items_in_stock_only_by_default(executor, anonymous, database):
    add_product(database, "P-SOLD-OUT", "Outdoor", "Hydrapeak", "30.00", stock=0)
    default = executor.run("popular_items", {"category": "Outdoor"}, ctx=anonymous).result
    assert ids(default) == ["P-BOTTLE"]
    everything = executor.run(
        "popular_items", {"category": "Outdoor", "in_stock_only": False}, ctx=anonymous
    ).result
    assert ids(everything) == ["P-BOTTLE", "P-SOLD-OUT"]
    assert everything.recommendations[1].product.in_stock is False


def test_popular_items_unknown_category_lists_valid_ones(executor, anonymous):
    with pytest.raises(NotFoundError) as info:
        executor.run("popular_items", {"category": "Garden"}, ctx=anonymous)
    assert "Garden" in info.value.message
    assert "Running Shoes" in info.value.message and "Home Office" in info.value.message


def test_popular_items_rejects_unknown_argument(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        executor.run("popular_items", {"sort": "price"}, ctx=anonymous)
    assert info.value.errors[0]["argument"] == "sort"
