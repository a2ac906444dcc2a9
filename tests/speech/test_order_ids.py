"""An order id's readings gathered (speech/order_ids.py); the choice among them is tested
through the second hearing in tests/speech/test_rehear.py."""

from __future__ import annotations

from speech.digits import HeardDigits
from speech.order_ids import readings_of
from speech.recognizer import Transcript


def _heard(*parts: list[tuple[str, float]]) -> HeardDigits:
    readings = tuple(tuple(Transcript(text=t, avg_logprob=lp, tokens=1) for t, lp in part) for part in parts)
    likeliest = " ".join(part[0].text for part in readings)
    return HeardDigits("".join(ch for ch in likeliest if ch.isdigit()), readings, 0.0)


def test_the_likeliest_digits_come_first_then_the_choices_that_make_an_id():
    found = _heard(
        [("2", -0.1)],
        [("7", -0.1)],
        [("6", -0.1)],
        [("0", -0.1)],
        [("1", -0.1)],
        [("8", -0.1)],
        [("5", -1.2), ("9", -2.1)],
    )
    assert readings_of(found) == ["2760185", "2760189"]


def test_a_part_read_as_nothing_first_by_its_mean_is_read_by_its_whole_likelihood():
    # beam search ranks "" (one token at -3.3) above "7" (two at -1.15 each): the whole says "7"
    empty = [("", -3.3), ("7", -1.15)]
    found = HeardDigits(
        "104974",
        (
            tuple(Transcript(text=t, avg_logprob=lp, tokens=1 if not t else 2) for t, lp in empty),
            *((Transcript(text=d, avg_logprob=-0.1, tokens=2),) for d in "104974"),
        ),
        0.0,
    )
    assert readings_of(found)[0] == "7104974"


def test_too_many_digits_give_their_first_and_last_an_ids_count():
    # "eight, for me" read "8 4" with no other reading: eight digits
    found = _heard(*([(d, -0.1)] for d in "528999"), [("8 4", -1.2)])
    assert readings_of(found) == ["5289998", "2899984"]
    # a reading of the last part as one digit gives the same as the first seven
    found = _heard(*([(d, -0.1)] for d in "528999"), [("8 4", -1.2), ("8", -1.7)])
    assert readings_of(found) == ["5289998", "2899984"]
    assert readings_of(_heard([("5", -0.1)])) == []
