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
    ],
)
def test_spelled_ids_emails_and_digits_are_written_out(heard: str, typed: str) -> None:
    assert normalize_transcript(heard) == typed


@pytest.mark.parametrize(
    "text",
    ["I want to look at shoes", "I have one or two questions", "it costs 79.99", "show me the blue one"],
)
def test_ordinary_sentences_are_left_alone(text: str) -> None:
    assert normalize_transcript(text) == text
