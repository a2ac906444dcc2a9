"""Several tasks in one message are cut into each task's own words."""

from __future__ import annotations

from assistant.decide.actions import ActionRegistry, default_actions
from assistant.decide.goals import split_goals
from dialogue_rules.intents import IntentMatcher


def _split(matcher: IntentMatcher, text: str) -> tuple[str, str, list[tuple[str, str]]]:
    """The task said first, its words, and the tasks queued after it."""
    intent = matcher.match(text)
    tasks = split_goals(intent, matcher.config, ActionRegistry(default_actions()), text)
    if not tasks:
        return intent.intent, text, []
    return tasks[0].intent, tasks[0].text, [(g.intent, g.text) for g in tasks[1:]]


def test_each_task_gets_its_own_words(rules_only: IntentMatcher) -> None:
    intent, words, queued = _split(
        rules_only, "I want to cancel order #W0000001 and also return the socks from #W0000002"
    )
    assert intent == "cancel_order" and "#W0000002" not in words and "#W0000001" in words
    assert queued == [("return_items", "return the socks from #W0000002")]


def test_the_task_said_first_goes_first_whatever_ranks_higher(rules_only: IntentMatcher) -> None:
    text = "Return the socks from #W0000002. Then please cancel #W0000001."
    assert rules_only.match(text).intent == "cancel_order"  # ranks higher
    assert _split(rules_only, text) == (
        "return_items",
        "Return the socks from #W0000002",
        [("cancel_order", "please cancel #W0000001")],
    )


def test_one_task_is_left_whole(rules_only: IntentMatcher) -> None:
    text = "please cancel order #W0000001, I ordered it by mistake"
    assert _split(rules_only, text) == ("cancel_order", text, [])


def test_two_tasks_on_one_order_are_split_but_one_request_in_two_sentences_is_not(
    rules_only: IntentMatcher,
) -> None:
    text = (
        "Please change the shipping address of order #W0000001 to 1 Oak Street, Springfield, IL 62704. "
        "And I'd like to pay for order #W0000001 with my gift card."
    )
    intent, words, queued = _split(rules_only, text)
    said = {intent: words, **dict(queued)}
    assert set(said) == {"change_address", "change_payment"}
    assert "gift card" not in said["change_address"] and "Oak Street" not in said["change_payment"]
    whole = "I moved. Can you update the address you have on file for me?"
    assert _split(rules_only, whole)[2] == []


def test_the_same_task_twice_is_two_tasks(rules_only: IntentMatcher) -> None:
    text = "Please cancel my order #W0000001. And I want to cancel order #W0000005. I don't need it anymore."
    intent, words, queued = _split(rules_only, text)
    assert intent == "cancel_order" and words == "Please cancel my order #W0000001"
    assert queued == [("cancel_order", "I want to cancel order #W0000005. I don't need it anymore")]
    # the same words twice without an order of their own are one request
    once = "cancel order #W0000001, I ordered it by mistake, please cancel it"
    assert _split(rules_only, once)[2] == []


def test_a_task_the_whole_message_excludes_is_still_found_in_its_own_words(rules_only: IntentMatcher) -> None:
    # "exchange" in the message vetoes return_items as the message's intent; its own words do not
    text = (
        "I'd like to return the socks from order #W0000002. Also, I want to exchange the lamp from #W0000003."
    )
    intent, words, queued = _split(rules_only, text)
    # the task said first goes first
    assert intent == "return_items" and words == "I'd like to return the socks from order #W0000002"
    assert queued == [("exchange_items", "I want to exchange the lamp from #W0000003")]


def test_a_task_asked_for_again_leaves_the_queue() -> None:
    from assistant.decide.goals import restated
    from assistant.sessions.slots import QueuedGoal

    waiting = (QueuedGoal(intent="return_items", text="return the socks from #W0000002"),)
    assert restated(waiting, "return_items", "No, I meant order #W0000002. Return the socks.") == []
    assert restated(waiting, "cancel_order", "cancel #W0000002") == list(waiting)
    assert restated(waiting, "return_items", "return the lamp from #W0000003") == list(waiting)


def test_one_task_on_a_list_of_orders_is_that_task_on_each(rules_only: IntentMatcher) -> None:
    text = "please cancel #W0000001 and #W0000004 because I no longer need them"
    assert _split(rules_only, text) == (
        "cancel_order",
        "please cancel #W0000001 because I no longer need them",
        [("cancel_order", "please cancel #W0000004 because I no longer need them")],
    )
    three = _split(rules_only, "cancel orders W0000001, W0000004 and W0000005")
    assert [three[1], *(words for _, words in three[2])] == [
        "cancel orders #W0000001",
        "cancel orders #W0000004",
        "cancel orders #W0000005",
    ]


def test_orders_named_apart_stay_with_their_items(rules_only: IntentMatcher) -> None:
    text = "I want to return the lamp from #W0000003 and the socks from #W0000002"
    assert _split(rules_only, text)[2] == []


def test_tasks_are_cut_at_a_sentence_end_before_a_comma(rules_only: IntentMatcher) -> None:
    text = (
        "For order #W0000001, please ship it to 320 Cedar Avenue, Suite 116, San Antonio, TX 78219. "
        "For order #W0000001, I'd like to exchange the t-shirt for the black version."
    )
    intent, words, queued = _split(rules_only, text)
    assert intent == "change_address" and words.endswith("TX 78219") and "Suite 116" in words
    assert queued == [
        ("exchange_items", "For order #W0000001, I'd like to exchange the t-shirt for the black version")
    ]
