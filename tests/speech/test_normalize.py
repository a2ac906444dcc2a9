import pytest

from speech.normalize import normalize_transcript


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
        ("Can you check W as in William 52899984Me?", "Can you check #W5289998 Me?"),
        # seven digits after "order": the W was heard as "number" or not at all
        ("where is my order number 2122330", "where is my order number #W2122330"),
        ("cancel order 3, 1, 9, 4, 8, 7, 5.", "cancel order #W3194875."),
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
    ],
)
def test_ordinary_sentences_are_left_alone(text: str) -> None:
    assert normalize_transcript(text) == text
