"""The fixture shop lives in eval/fixture_shop.py (the dialogue scenarios use it too)."""

from eval.fixture_shop import (  # noqa: F401
    ALICE,
    BOB,
    BOTTLE,
    LAMP,
    NOW,
    PRODUCTS,
    SHOE_BLUE_9,
    SHOE_BLUE_10,
    SOCK,
    TEE_BLACK,
    TEE_BLUE,
    build_fixture_database,
    build_fixture_shop,
)
