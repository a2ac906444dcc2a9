from speech.for_ear import for_ear, speak_prices, spell_ids
from speech.phrases import load_phrases

SEARCH = """Here is what I found for "running shoes":
1. **Trailblazer Running Shoe** (Stridewell), $79.99 to $84.99, in stock
2. Merino Running Socks (Stridewell), $12.00, in stock
3. [Arc Desk Lamp](https://shop.example/lamp) (Lumenor), $45.00
4. Insulated Water Bottle 750ml (Hydrapeak), $24.50, in stock
- Everyday Cotton T-Shirt, $1.05"""


def test_lists_are_read_as_speech_with_at_most_three_items() -> None:
    spoken = for_ear(SEARCH, max_items=3)
    assert spoken.text.startswith('Here is what I found for "running shoes": First, Trailblazer Running Shoe')
    assert "Second, Merino Running Socks, Stridewell, 12 dollars, in stock." in spoken.text
    assert "Third, Arc Desk Lamp, Lumenor, 45 dollars." in spoken.text
    assert "Water Bottle" not in spoken.text
    assert spoken.text.endswith("There are 2 more. Say 'more' to hear them.")
    assert spoken.more == [
        "Fourth, Insulated Water Bottle 750 milliliters, Hydrapeak, 24 dollars 50, in stock.",
        "Everyday Cotton T-Shirt, 1 dollar and 5 cents.",
    ]
    for mark in ("*", "#", "http", "(", "1.", "$"):
        assert mark not in spoken.text


def test_prices_ids_and_yes_no_prompts_are_spoken() -> None:
    phrases = load_phrases()
    assert speak_prices("$49.99, 44.49 USD, $1", currency="USD", phrases=phrases) == (
        "49 dollars 99, 44 dollars 49, 1 dollar"
    )
    # one cent is "cent"; a single written decimal is tens of cents; the shop's currency's words
    assert speak_prices("$451.01, $4.5, $2.07", currency="USD", phrases=phrases) == (
        "451 dollars and 1 cent, 4 dollars 50, 2 dollars and 7 cents"
    )
    assert speak_prices("£3.01, £1.02", currency="GBP", phrases=phrases) == (
        "3 pounds and 1 penny, 1 pound and 2 pence"
    )
    assert spell_ids("order #W0000001") == "order W 0 0 0 0 0 0 1"
    spoken = for_ear("Cancel order #W0000001 (2 items, 44.49 USD)? (yes/no)").text
    assert spoken == "Cancel order W 0 0 0 0 0 0 1, 2 items, 44 dollars 49? Please say yes or no."


def test_a_short_reply_is_unchanged_apart_from_punctuation() -> None:
    assert for_ear("Hello! How can I help?").text == "Hello! How can I help?"
    assert for_ear("").text == ""


def test_a_list_flattened_into_a_passage_and_its_source_are_read_as_sentences() -> None:
    passage = (
        "The order must have the status delivered: - If the order is pending (not shipped yet), "
        "cancel it instead. - If it is processed, wait until it arrives. (source: Returns, Return window)"
    )
    assert for_ear(passage).text == (
        "The order must have the status delivered: If the order is pending, not shipped yet, "
        "cancel it instead. If it is processed, wait until it arrives. Source: Returns, Return window."
    )
    # a hyphen inside a sentence stays ("T-Shirt", "in - stock" is no list)
    assert for_ear("A T-Shirt - in stock.").text == "A T-Shirt - in stock."
