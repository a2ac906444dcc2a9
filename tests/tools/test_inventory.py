from decimal import Decimal

import pytest

from core.errors import InvalidArgumentsError, NotFoundError
from store.models import Product, Variant

pytestmark = pytest.mark.databases


def availability(executor, ctx, product_id, options=None):
    args = {"product_id": product_id} if options is None else {"product_id": product_id, "options": options}
    return executor.run("check_availability", args, ctx=ctx).result


def variant_ids(variants):
    return [v.variant_id for v in variants]


# check_stock -------------------------------------------------------------------------------


def test_check_stock_in_stock_variant(executor, anonymous):
    out = executor.run("check_stock", {"variant_id": "V-SHOE-BL-10"}, ctx=anonymous).result
    assert out.product_id == "P-SHOE" and out.title == "Trailblazer Running Shoe"
    assert out.options == {"color": "blue", "size": "10"}
    assert out.stock == 2 and out.available is True
    assert out.price == Decimal("84.99")
    assert out.sku == "SKU-V-SHOE-BL-10"
    kinds = {f.kind.value for f in out.facts()}
    assert {"stock", "price", "id", "name"} <= kinds


def test_check_stock_sold_out_variant(executor, anonymous):
    out = executor.run("check_stock", {"variant_id": "V-TEE-RD-S"}, ctx=anonymous).result
    assert out.stock == 0 and out.available is False
    assert out.options == {"color": "red", "size": "S"}


def test_check_stock_unknown_variant(executor, anonymous):
    with pytest.raises(NotFoundError, match="no variant V-NOPE"):
        executor.run("check_stock", {"variant_id": "V-NOPE"}, ctx=anonymous)


def test_check_stock_requires_variant_id(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        executor.run("check_stock", {"variant_id": ""}, ctx=anonymous)
    assert info.value.errors[0]["argument"] == "variant_id"


# check_availability ------------------------------------------------------------------------


def test_availability_exact_match_in_stock(executor, anonymous):
    out = availability(executor, anonymous, "P-SHOE", {"color": "blue", "size": "9"})
    assert out.available is True
    assert variant_ids(out.matches) == ["V-SHOE-BL-9"]
    assert out.matches[0].stock == 5
    assert out.alternatives == []
    assert out.requested == {"color": "blue", "size": "9"}


def test_availability_names_and_values_are_case_insensitive(executor, anonymous):
    out = availability(executor, anonymous, "P-TEE", {" Size ": "m", "COLOR": "Blue"})
    assert out.available is True
    assert variant_ids(out.matches) == ["V-TEE-BL-M"]
    assert out.requested == {"size": "M", "color": "blue"}


def test_availability_partial_options_match_several_variants(executor, anonymous):
    out = availability(executor, anonymous, "P-SHOE", {"color": "BLUE"})
    assert out.available is True
    assert sorted(variant_ids(out.matches)) == ["V-SHOE-BL-10", "V-SHOE-BL-9"]
    assert {v.variant_id: v.stock for v in out.matches} == {"V-SHOE-BL-9": 5, "V-SHOE-BL-10": 2}


def test_availability_without_options_lists_every_variant(executor, anonymous):
    out = availability(executor, anonymous, "P-TEE")
    assert out.available is True
    assert sorted(variant_ids(out.matches)) == ["V-TEE-BK-L", "V-TEE-BL-M", "V-TEE-RD-S"]
    assert set(out.option_values["size"]) == {"M", "L", "S"}


def test_availability_sold_out_match_offers_closest_alternatives(executor, anonymous):
    # Red size 9 exists with stock 0; blue 9 shares the size, blue 10 shares nothing.
    out = availability(executor, anonymous, "P-SHOE", {"color": "red", "size": "9"})
    assert out.available is False
    assert variant_ids(out.matches) == ["V-SHOE-RD-9"] and out.matches[0].stock == 0
    assert variant_ids(out.alternatives) == ["V-SHOE-BL-9", "V-SHOE-BL-10"]
    assert out.alternatives[0].matching_options == ["size"]
    assert out.alternatives[1].matching_options == []
    assert all(a.stock > 0 for a in out.alternatives)


def test_availability_unknown_value_is_a_no_with_alternatives(executor, anonymous):
    out = availability(executor, anonymous, "P-TEE", {"color": "green", "size": "L"})
    assert out.available is False and out.matches == []
    assert variant_ids(out.alternatives) == ["V-TEE-BK-L", "V-TEE-BL-M"]
    assert out.alternatives[0].matching_options == ["size"]
    assert set(out.option_values["color"]) == {"blue", "black", "red"}


def test_availability_caps_alternatives_at_five(executor, anonymous, database):
    with database.transaction() as s:
        product = Product(id="P-CAP", title="Cap", category="Accessories", brand="Loomcraft")
        for index in range(7):
            product.variants.append(
                Variant(
                    id=f"V-CAP-{index}",
                    options={"color": f"c{index}"},
                    price=Decimal("9.00"),
                    stock=index + 1,
                )
            )
        s.add(product)
    out = availability(executor, anonymous, "P-CAP", {"color": "gold"})
    assert out.available is False
    # Equal matching, so the best-stocked first.
    assert variant_ids(out.alternatives) == ["V-CAP-6", "V-CAP-5", "V-CAP-4", "V-CAP-3", "V-CAP-2"]


def test_availability_unknown_option_name_is_a_bad_argument(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        availability(executor, anonymous, "P-TEE", {"material": "wool"})
    error = info.value
    assert error.errors[0]["argument"] == "options.material"
    assert "color" in error.message and "size" in error.message and "material" in error.message


def test_availability_unknown_product(executor, anonymous):
    with pytest.raises(NotFoundError, match="no product P-NOPE"):
        availability(executor, anonymous, "P-NOPE", {"color": "blue"})


def test_availability_options_must_be_strings(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        availability(executor, anonymous, "P-SHOE", {"color": ["blue", "red"]})
    assert info.value.errors[0]["argument"].startswith("options")
