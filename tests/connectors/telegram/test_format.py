from decimal import Decimal

import pytest

from assistant.sessions.shown import ProductCard
from connectors.telegram.format import TEXT_LIMIT, card_html, escape, split_text


def test_shop_and_customer_text_is_escaped_for_html_mode() -> None:
    assert escape('<b>Tom & Jerry</b> "x"') == '&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; "x"'
    card = ProductCard(
        product_id="P1", title="Mugs <3 & more", brand="A&B", price=Decimal("5"), in_stock=False
    )
    html = card_html(card, currency="USD")
    assert html.splitlines() == ["<b>Mugs &lt;3 &amp; more</b>", "A&amp;B", "$5.00 · out of stock"]


def test_a_price_range_is_shown_as_a_range() -> None:
    card = ProductCard(product_id="P1", title="Shoe", price=Decimal("79.99"), max_price=Decimal("84.99"))
    assert "$79.99 to $84.99 · in stock" in card_html(card, currency="USD")


def test_long_text_is_split_under_the_limit_at_paragraphs_then_lines_then_words() -> None:
    paragraph = ("word " * 300).strip()
    text = "\n\n".join([paragraph] * 6)  # about 9,000 characters
    pieces = split_text(text)
    assert len(pieces) == 3
    assert all(len(escape(p)) <= TEXT_LIMIT for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())  # nothing lost
    assert all(p.endswith("word") for p in pieces)  # no word cut


def test_entities_are_never_cut_and_the_escaped_piece_fits() -> None:
    text = "&" * 5000  # each becomes &amp; (5 characters)
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(len(escape(p)) <= TEXT_LIMIT for p in pieces)


def test_a_single_overlong_word_is_cut_hard() -> None:
    pieces = split_text("x" * 9000, limit=4096)
    assert [len(p) for p in pieces] == [4096, 4096, 808]


def test_short_text_is_one_piece_and_limits_are_checked() -> None:
    assert split_text("  hello  ") == ["hello"]
    assert split_text("") == []
    with pytest.raises(ValueError):
        split_text("x", limit=2)
