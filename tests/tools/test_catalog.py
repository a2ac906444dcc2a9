from decimal import Decimal

import pytest

from core.errors import InvalidArgumentsError, NotFoundError


def test_get_product_lists_variants_from_store(executor, anonymous):
    out = executor.run("get_product", {"product_id": "P-SHOE"}, ctx=anonymous)
    result = out.result
    assert result.title == "Trailblazer Running Shoe"
    assert result.min_price == Decimal("79.99") and result.max_price == Decimal("84.99")
    by_id = {v.variant_id: v for v in result.variants}
    assert by_id["V-SHOE-RD-9"].stock == 0 and not by_id["V-SHOE-RD-9"].available
    assert by_id["V-SHOE-BL-10"].price == Decimal("84.99")
    assert set(result.option_values["color"]) == {"blue", "red"}
    assert set(result.option_values["size"]) == {"9", "10"}
    kinds = {f.kind.value for f in result.facts()}
    assert {"price", "stock", "id", "name"} <= kinds


def test_get_product_unknown_id(executor, anonymous):
    with pytest.raises(NotFoundError, match="no product P-NOPE"):
        executor.run("get_product", {"product_id": "P-NOPE"}, ctx=anonymous)


def test_get_product_rejects_unknown_argument(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        executor.run("get_product", {"product_id": "P-SHOE", "price": 1}, ctx=anonymous)
    assert info.value.errors[0]["argument"] == "price"


def test_browse_category_is_case_insensitive_and_filters_stock(executor, anonymous):
    out = executor.run("browse_category", {"category": "t-shirts"}, ctx=anonymous).result
    assert out.category == "T-Shirts"
    assert [p.product_id for p in out.products] == ["P-TEE"]
    assert "Running Shoes" in out.categories


def test_browse_unknown_category_lists_valid_ones(executor, anonymous):
    with pytest.raises(NotFoundError, match="Home Office"):
        executor.run("browse_category", {"category": "Garden"}, ctx=anonymous)


def test_catalog_search_ranks_title_matches_and_applies_filters(executor, anonymous):
    out = executor.run("catalog_search", {"query": "running"}, ctx=anonymous).result
    ids = [p.product_id for p in out.products]
    assert set(ids) == {"P-SHOE", "P-SOCK"}
    cheap = executor.run("catalog_search", {"query": "running", "max_price": 50}, ctx=anonymous).result
    assert [p.product_id for p in cheap.products] == ["P-SOCK"]
    brand = executor.run("catalog_search", {"query": "shoe", "brand": "stridewell"}, ctx=anonymous).result
    assert [p.product_id for p in brand.products] == ["P-SHOE"]


def test_catalog_search_in_stock_only(executor, anonymous):
    out = executor.run("catalog_search", {"query": "lamp", "in_stock_only": True}, ctx=anonymous).result
    assert [p.product_id for p in out.products] == ["P-LAMP"]
    none = executor.run("catalog_search", {"query": "zebra"}, ctx=anonymous).result
    assert none.products == [] and none.total == 0
