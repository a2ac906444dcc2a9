"""A product named in a message that shows nothing yet: found by how much of its title is said."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.named_products import named_products, said_title, without_title
from tests.assistant.decide.conftest import MakeTurn


def test_the_title_said_whole_is_the_product(ctx: Context, make_turn: MakeTurn) -> None:
    found = named_products(make_turn("How much is the red Everyday Cotton T-Shirt in size S?"), ctx)
    assert [p.product_id for p in found.products] == ["P-TEE"]
    assert "how" not in found.query.lower().split() and "much" not in found.query.lower().split()


def test_part_of_a_title_said_is_not_enough(ctx: Context, make_turn: MakeTurn) -> None:
    # "running" is in two titles, and not half of either
    assert named_products(make_turn("what do running things cost?"), ctx).products == []


def test_words_of_two_titles_said_equally_return_both(ctx: Context, make_turn: MakeTurn) -> None:
    # two of three title words each: "running shoe" and "running socks"
    found = named_products(make_turn("how much is it, the running shoe or the socks?"), ctx)
    assert sorted(p.product_id for p in found.products) == ["P-SHOE", "P-SOCK"]


def test_the_title_with_the_most_words_said_wins(ctx: Context, make_turn: MakeTurn) -> None:
    found = named_products(make_turn("is the merino Trailblazer Running Shoe in stock"), ctx)
    assert [p.product_id for p in found.products] == ["P-SHOE"]


def test_said_title_counts_words_in_the_catalogs_canonical_form(ctx: Context) -> None:
    assert said_title(ctx, "the insulated water bottle, 750 milliliters", "Insulated Water Bottle 750ml") == (
        4,
        1.0,
    )
    said, share = said_title(ctx, "a water bottle", "Insulated Water Bottle 750ml")
    assert said == 2 and share == 0.5


def test_without_title_leaves_the_option_words(ctx: Context) -> None:
    rest = without_title(ctx, "the Everyday Cotton T-Shirt in red, size S", "Everyday Cotton T-Shirt")
    assert rest.split() == ["the", "in", "red", "size", "s"]


def test_a_number_outside_the_said_title_is_kept_for_the_options(ctx: Context) -> None:
    rest = without_title(ctx, "the Ridgeline 3-Season Tent in 3-person", "Northpeak Ridgeline 3-Season Tent")
    assert rest.split() == ["the", "in", "3", "person"]
