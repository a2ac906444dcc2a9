import pytest

from speech.normalize import (
    WHOLE_ORDER_ID,
    digits_read_out,
    normalize_transcript,
    order_id_digits,
    read_out_as,
    with_order_id,
)


@pytest.mark.parametrize(
    ("heard", "typed"),
    [
        ("order W two six one one zero zero five", "order #W2611005"),
        ("what is the status of order W, 0, 0, 0, 0, 0, 0, 5", "what is the status of order #W0000005"),
        ("where is my order double U, 0, 0, 0, 0, 0, 0, 2?", "where is my order #W0000002?"),
        ("Order number W-0000001", "Order number #W0000001"),
        ("W double zero triple zero one two", "#W0000012"),
        ("order #W0000002", "order #W0000002"),
        ("john dot smith at example dot com", "john.smith@example.com"),
        ("My email is Alice at example.com.", "My email is alice@example.com."),
        ("it's j-o-h-n underscore doe at mail dot example dot org", "it's john_doe@mail.example.org"),
        ("My zip code is 1-0-0-0-1.", "My zip code is 10001."),
        ("The zip code is 10,001.", "The zip code is 10001."),
        ("my zip is nine four one oh seven", "my zip is 94107"),
        # "W as in William" with the letter and "as" misheard, before the digits
        ("Can you check down the US in William 9093786 for me?", "Can you check down the #W9093786 for me?"),
        ("Can you check W-pass in William 491 1862 for me?", "Can you check #W4911862 for me?"),
        ("check, double, you as in William, 2684656", "check, #W2684656"),
        ("Can you check W has been William, 2, 6, 8, 4, 6, 5, 6, me.", "Can you check #W2684656, me."),
        # "double four" heard as "double for" inside an id
        ("I want to cancel order W. Double for 02685.", "I want to cancel order #W4402685."),
        ("W as in Whiskey, two, three, four, five, six, seven, eight", "#W2345678"),
        # "W" said as "double u" and heard with a comma or as "you"
        ("Where is my order, double, U 7975432", "Where is my order, #W7975432"),
        ("order double you 1 2 3 4 5 6 7", "order #W1234567"),
        # a digit glued to the next word ("four me" for "for me"), longer than an id
        ("Can you check W as in William 52899984Me?", "Can you check #W5289998 for Me?"),
        # ... glued to "me" after six: "for me" written as one word, so the id is short a digit
        ("Can you check W.S. in William 5289984Me?", "Can you check #W528998 for Me?"),
        # "for me" heard as an eighth digit 4; after seven, a 4 may be the id's own
        ("Can you check W. As in William 39099604 me?", "Can you check #W3909960 for me?"),
        ("Can you check, W 7104974, me?", "Can you check, #W7104974, me?"),
        # seven digits after "order": the W was heard as "number" or not at all
        ("where is my order number 2122330", "where is my order number #W2122330"),
        ("cancel order 3, 1, 9, 4, 8, 7, 5.", "cancel order #W3194875."),
        ("I want to cancel order, double, for 02685.", "I want to cancel order #W4402685."),
        # an id's digits glued to the word after them
        ("Can you check W 5289998me?", "Can you check #W5289998 me?"),
        # "double"/"triple" heard as a word that sounds like them before an id's digit
        ("I want to cancel order, tunnel 0, tunnel 6, 1, 3, 1.", "I want to cancel order #W0066131."),
        ("cancel order, Tumble, U2, 3, Tumble Six, Triple Seven.", "cancel order, #W2366777."),
        # a W spelling word right before an id's digits, "as in" heard as anything
        (
            "Can you check that you have been William 9093786 for me?",
            "Can you check that you have been #W9093786 for me?",
        ),
        (
            "that all you have been William, Seven, One, Zero, Four, Nine, Seven, Four",
            "that all you have been #W7104974",
        ),
    ],
)
def test_spelled_ids_emails_and_digits_are_written_out(heard: str, typed: str) -> None:
    assert normalize_transcript(heard) == typed


@pytest.mark.parametrize(
    "text",
    [
        "I want to look at shoes",
        "I have one or two questions",
        "it costs 79.99",
        "show me the blue one",
        # a name after "in", then a number, is not a spelled letter
        "the case is in Boston 5 days",
        "send it to us in Boston 5 days",
        "My name is William and I live at 12 Main St",
        "my order is 1234567",
        "order 12345678",
        "is it 10am or the 2nd floor",
        "a double for 2 people",
        "William 2 bags please",
        # a word that sounds like "double" before a digit, but no id read out
        "my order total 5 items",
        "a table for 2 at 7",
    ],
)
def test_ordinary_sentences_are_left_alone(text: str) -> None:
    assert normalize_transcript(text) == text


def test_an_ids_digits_are_counted_as_heard_not_as_written():
    assert order_id_digits("Where is my order W5000200291?") == ["5000200291"]
    assert order_id_digits("W as in William, 3, 9, 9, 6, 0") == ["39960"]
    assert order_id_digits("order number 2122330 and #W1234567") == ["1234567", "2122330"]
    assert order_id_digits("Do you have 2 backpacks?") == []


@pytest.mark.parametrize(
    ("heard", "replaced"),
    [
        ("Where is my order W, 5, 5, 6, 0 1 8 1?", "Where is my order #W1234567?"),
        ("Can you check W.S. in William 491862 for me?", "Can you check #W1234567 for me?"),
        ("Where is my order, Tm560181", "Where is my order, Tm #W1234567"),
        ("I want to cancel order, tunnel 0, tunnel 6131.", "I want to cancel order, #W1234567."),
        # the id's "W" heard with no digit after it: the digits go after it, not a second W
        ("I want to cancel order W.", "I want to cancel order #W1234567."),
        ("cancel my order please", "cancel my order please #W1234567"),
    ],
)
def test_an_id_heard_another_way_replaces_the_one_read_out(heard: str, replaced: str) -> None:
    assert normalize_transcript(with_order_id(heard, "1234567")) == replaced


def test_digits_are_read_out_one_by_one_as_words():
    assert digits_read_out("5209") == "five, two, zero, nine"
    assert normalize_transcript(f"order W {digits_read_out('0066131')}") == "order #W0066131"


def test_an_ids_digits_are_read_out_in_place_with_the_words_around_them_as_heard():
    heard = "Can you check W. As in William 7104974 for me?"
    assert read_out_as(heard, "1049744") == (
        "Can you check W. As in William one, zero, four, nine, seven, four, four for me?"
    )
    assert read_out_as("Where is my order W5560181?", "5560181") == (
        "Where is my order W five, five, six, zero, one, eight, one?"
    )
    # "double" starts the digits read out; with no digit at all they go after the id's W
    assert read_out_as("Cancel order, double, one, nine, 3", "1993") == "Cancel order, one, nine, nine, three"
    assert read_out_as("Cancel order W.", "12") == "Cancel order W one, two."
    # the id is the longest run: a lone "one" or "Oh" elsewhere stays as heard
    assert read_out_as("Oh, the blue one, order W 5560181.", "5560187") == (
        "Oh, the blue one, order W five, five, six, zero, one, eight, seven."
    )


def test_digits_are_read_out_grouped_with_double_and_triple():
    assert digits_read_out("5559", grouped=True) == "triple five, nine"
    assert digits_read_out("1993518", grouped=True) == "one, double nine, three, five, one, eight"
    assert digits_read_out("00001", grouped=True) == "double zero, double zero, one"  # four: two pairs
    assert digits_read_out("99999", grouped=True) == "triple nine, double nine"
    assert digits_read_out("5559") == "five, five, five, nine"


def test_a_four_heard_for_the_for_of_for_me_is_not_replaced_with_the_ids_digit():
    heard = "Can you check W as in William 26846564 me?"
    assert (
        read_out_as(heard, "2684656")
        == "Can you check W as in William two, six, eight, four, six, five, six for me?"
    )
    assert read_out_as("Check W, 2, 6, 8, four me", "2684656", grouped=True).endswith("five, six for me")
    # a 4 before another word is the id's own
    assert read_out_as("Check W 2684654 please", "2684654").endswith("five, four please")


def test_an_ids_digits_are_found_as_many_as_heard_and_a_whole_one_is_written_once():
    assert order_id_digits("order W5560181") == ["5560181"]
    assert order_id_digits("order number 2122330") == ["2122330"]
    assert order_id_digits("W as in William, 3, 9, 0, 9, 9, 6, 0") == ["3909960"]
    assert order_id_digits("order W556018") == ["556018"]  # too few, and too many, as heard
    assert order_id_digits("order W55600201811") == ["55600201811"]
    assert order_id_digits("Where is my order?") == []
    assert WHOLE_ORDER_ID.search("order #W0066131.") and not WHOLE_ORDER_ID.search("order #W006613")
    assert not WHOLE_ORDER_ID.search("#W00661311")
