"""Intent matching (dialogue_rules/intents.py) with the real bundled MiniLM embedder."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from core.config import DialogueSettings
from core.errors import ConfigError
from dialogue_rules.guardrails import check_input
from dialogue_rules.intents import (
    MIN_EXAMPLES,
    UNKNOWN_INTENT,
    IntentMatcher,
    MatchSource,
    load_intent_config,
)
from retrieval.embeddings import SentenceTransformerEmbedder

SOURCE = Path(__file__).resolve().parents[2] / "dialogue_rules" / "intents.yaml"

REQUIRED_INTENTS = {
    "greet",
    "goodbye",
    "thanks",
    "search_products",
    "product_details",
    "check_availability",
    "price_question",
    "count_options",
    "account_info",
    "data_copy",
    "data_deletion",
    "recommend",
    "add_to_cart",
    "view_cart",
    "remove_from_cart",
    "checkout",
    "order_status",
    "list_orders",
    "cancel_order",
    "return_items",
    "exchange_items",
    "change_address",
    "change_payment",
    "change_default_address",
    "authenticate",
    "affirm",
    "deny",
    "ask_policy",
    "human_handoff",
    "complaint",
    "out_of_scope",
}

# Written as customers write: typos, missing apostrophes, indirect phrasings. None of these is
# an example in intents.yaml. Each table was first measured once before the patterns and
# examples were changed in its light (then fixed generally, never by copying a row):
#   LABELLED   95/105 (90.5%) at first measure, used for tuning;
#   HELD_OUT   44/45  (97.8%);
#   HELD_OUT_2 26/40  (65%: harder, indirect phrasings; 7 of the 14 misses were "unknown");
#   HELD_OUT_3 34/40  (85%; 3 of the 6 misses were "unknown", i.e. handed to the LLM step).
LABELLED: list[tuple[str, str]] = [
    ("Hello!", "greet"),
    ("hey hey", "greet"),
    ("Good afternoon, how are you doing?", "greet"),
    ("helo", "greet"),
    ("ok that's everything, bye!", "goodbye"),
    ("Have a great weekend", "goodbye"),
    ("gotta run, see ya", "goodbye"),
    ("thank u", "thanks"),
    ("Thanks a bunch!", "thanks"),
    ("cool, appreciate your help", "thanks"),
    ("yep", "affirm"),
    ("Yes, go ahead and do it", "affirm"),
    ("sure thing", "affirm"),
    ("ok, confirmed", "affirm"),
    ("nope, not that", "deny"),
    ("No, cancel that", "deny"),
    ("nah I'm good", "deny"),
    ("wait, don't", "deny"),
    ("do u have any hiking backpacks", "search_products"),
    ("I'm after a cheap frying pan", "search_products"),
    ("show me red running shoes under $80", "search_products"),
    ("looking for a sleepng bag for winter", "search_products"),
    ("my old headphones broke and I need new ones with noise cancelling", "search_products"),
    ("Got any insulated water bottles?", "search_products"),
    ("I need something to keep my coffee hot on the go", "search_products"),
    ("Tell me about the Hydrapeak bottle", "product_details"),
    ("what's the jacket made from?", "product_details"),
    ("is the second one waterproof", "product_details"),
    ("how big is the 30L backpack", "product_details"),
    ("can you give me more details on that one", "product_details"),
    ("is that in stock", "check_availability"),
    ("do you have the first one in a size 11?", "check_availability"),
    ("does the lamp come in white", "check_availability"),
    ("are the grey socks sold out", "check_availability"),
    ("any chance you'll restock the XL?", "check_availability"),
    ("how much are the Sonique headphones", "price_question"),
    ("How many t-shirt options do you have?", "count_options"),
    ("What's the balance on my gift card?", "account_info"),
    ("which payment methods do I have on file", "account_info"),
    ("could you email me a copy of my personal data", "data_copy"),
    ("please erase all my information", "data_deletion"),
    ("how many colours does the lamp come in", "count_options"),
    ("how many versions of the kettle are available?", "count_options"),
    ("whats the price on the blue one", "price_question"),
    ("is anything on sale right now?", "price_question"),
    ("do I get a discount if I buy ten?", "price_question"),
    ("what would two of them cost me", "price_question"),
    ("what would you suggest for someone who runs marathons", "recommend"),
    ("I need a present for my sister who loves yoga, any ideas?", "recommend"),
    ("which of these is better for camping in the rain", "recommend"),
    ("what socks go with these shoes", "recommend"),
    ("what else might I like?", "recommend"),
    ("so what would I like from your shop", "recommend"),
    ("whats the best coffee maker for a small kitchen", "recommend"),
    ("add the black one to my cart", "add_to_cart"),
    ("I'll take two", "add_to_cart"),
    ("put the tent in my basket", "add_to_cart"),
    ("pls add it", "add_to_cart"),
    ("I'd like to buy the second one", "add_to_cart"),
    ("what's in my basket right now?", "view_cart"),
    ("show cart", "view_cart"),
    ("how much is my total so far", "view_cart"),
    ("take the socks out of my cart", "remove_from_cart"),
    ("remove the second item", "remove_from_cart"),
    ("empty the cart please", "remove_from_cart"),
    ("I'm ready to check out", "checkout"),
    ("lets pay now", "checkout"),
    ("place the order", "checkout"),
    ("go ahead and complete my purchase", "checkout"),
    ("where's my package??", "order_status"),
    ("any update on order #W2611340?", "order_status"),
    ("my parcel hasnt arrived yet", "order_status"),
    ("when will my stuff get here", "order_status"),
    ("Has W4817420 shipped?", "order_status"),
    ("I ordered headphones 10 days ago and still nothing", "order_status"),
    ("show me all my orders", "list_orders"),
    ("what did I order last time?", "list_orders"),
    ("can you list my previous purchases", "list_orders"),
    ("I want to cancel my order", "cancel_order"),
    ("cancel #W6304490 please", "cancel_order"),
    ("can you cancell the order i just made", "cancel_order"),
    ("I don't want my order anymore", "cancel_order"),
    ("I'd like to return the shoes, they're too tight", "return_items"),
    ("how do i get a refund for a broken lamp", "return_items"),
    ("can I send the jacket back", "return_items"),
    ("the mat smells weird and I want my money back", "return_items"),
    ("can I exchange these for a size 9", "exchange_items"),
    ("the shirt is too big, I want a smaller size instead", "exchange_items"),
    ("swap the black backpack for the olive one", "exchange_items"),
    ("I need to update my shipping address", "change_address"),
    ("can you deliver my order to a different address", "change_address"),
    ("I put the wrong address on my order", "change_address"),
    ("i want to pay for order #W2378156 with my paypal instead", "change_payment"),
    ("could u switch the payment method on my order to the gift card", "change_payment"),
    ("please use my credit card for that order instead", "change_payment"),
    ("can I change how i'm paying for the pending order", "change_payment"),
    ("pls update the default address on my account", "change_default_address"),
    ("the address in my profile is old, can you change it", "change_default_address"),
    ("change my saved home address to 4 Birch Lane, Dover, DE 19901", "change_default_address"),
    ("my email is noah.brown7922@example.com", "authenticate"),
    ("I'm Yusuf Rossi, zip code 19122", "authenticate"),
    ("anya.garcia3271@example.com", "authenticate"),
    ("how do I log in to my account", "authenticate"),
    ("what's your return policy?", "ask_policy"),
    ("how long does delivery usually take", "ask_policy"),
    ("do you ship internationally", "ask_policy"),
    ("can I pay with paypal?", "ask_policy"),
    ("is there free shipping over 50 dollars", "ask_policy"),
    ("how many days do I have to return something", "ask_policy"),
    ("let me speak to a real person", "human_handoff"),
    ("I want a human agent", "human_handoff"),
    ("can I talk to somebody from customer service", "human_handoff"),
    ("representative", "human_handoff"),
    ("this is the worst shop ever", "complaint"),
    ("I'm so frustrated, nothing works on this site", "complaint"),
    ("you guys are a total scam", "complaint"),
    ("this is bullshit", "complaint"),
    ("I've been waiting for weeks, this is absolutely unacceptable", "complaint"),
    ("what's 2+2", "out_of_scope"),
    ("can you write my essay for me", "out_of_scope"),
    ("who is the president of france", "out_of_scope"),
]

HELD_OUT: list[tuple[str, str]] = [
    ("hi there!", "greet"),
    ("good morning :)", "greet"),
    ("bye for now", "goodbye"),
    ("thanks so much, you're a star", "thanks"),
    ("yeah that works", "affirm"),
    ("ok do it", "affirm"),
    ("no that's not what I meant", "deny"),
    ("never mind, leave it", "deny"),
    ("do you carry cast iron skillets?", "search_products"),
    ("i need a lightweight tent for backpacking", "search_products"),
    ("show me some cheap earbuds", "search_products"),
    ("what is the Kestrel trail shoe like? tell me about it", "product_details"),
    ("does the backpack have a laptop compartment", "product_details"),
    ("is the smartwatch waterproof?", "product_details"),
    ("do you have these in a 10.5", "check_availability"),
    ("is the navy one available", "check_availability"),
    ("how much does the chef's knife cost", "price_question"),
    ("what's the cost of the 8 inch pan", "price_question"),
    ("can you recommend a good sleeping bag", "recommend"),
    ("what should I get my dad for his birthday", "recommend"),
    ("add two of the grey ones to the basket", "add_to_cart"),
    ("I'll take the cheaper one", "add_to_cart"),
    ("what have I got in my cart", "view_cart"),
    ("remove the lamp from my cart", "remove_from_cart"),
    ("time to checkout", "checkout"),
    ("where is my order W5199551", "order_status"),
    ("has my order been shipped yet?", "order_status"),
    ("tracking number for my last order?", "order_status"),
    ("show me my past orders", "list_orders"),
    ("please cancel order W2611340", "cancel_order"),
    ("i want to return an item from my last order", "return_items"),
    ("can i get a refund on the headphones", "return_items"),
    ("I want to exchange the jacket for a large", "exchange_items"),
    ("please change the delivery address on my order", "change_address"),
    ("my email is ivan.santos@example.com", "authenticate"),
    ("do you offer express shipping", "ask_policy"),
    ("what's your privacy policy", "ask_policy"),
    ("connect me to a live agent", "human_handoff"),
    ("I want to talk to your supervisor", "human_handoff"),
    ("this service is pathetic", "complaint"),
    ("worst experience I've ever had with an online store", "complaint"),
    ("tell me a joke", "out_of_scope"),
    ("what will the weather be like on saturday", "out_of_scope"),
    ("wheres my stuff", "order_status"),
    ("cancle my order pls", "cancel_order"),
]


HELD_OUT_2: list[tuple[str, str]] = [
    ("yo what's up", "greet"),
    ("alright, I'm off. cheers", "goodbye"),
    ("that helped a lot, ty", "thanks"),
    ("sounds perfect, go for it", "affirm"),
    ("nah leave it as it is", "deny"),
    ("my kid needs a bike helmet", "search_products"),
    ("got anything for back pain when sitting all day? like a chair", "search_products"),
    ("what kind of foam is in the midsole", "product_details"),
    ("can the pan go in the oven", "product_details"),
    ("will the 40L one be restocked soon", "check_availability"),
    ("is there any left in sage green", "check_availability"),
    ("whats it going for", "price_question"),
    ("are there any coupon codes", "price_question"),
    ("I can't decide between the two, which would you go for", "recommend"),
    ("im training for my first half marathon, what shoes do you think", "recommend"),
    ("throw the grey socks in my cart too", "add_to_cart"),
    ("gimme the first one", "add_to_cart"),
    ("whats in my bag", "view_cart"),
    ("actually I don't need the lamp anymore, take it off", "remove_from_cart"),
    ("I'm done shopping, let's pay", "checkout"),
    ("is my delivery coming today", "order_status"),
    ("I still haven't got my jacket", "order_status"),
    ("have I ordered from you before?", "list_orders"),
    ("stop the order before it ships", "cancel_order"),
    ("I ordered the wrong thing, please cancel the order", "cancel_order"),
    ("the zipper broke after a week, I want to send it back", "return_items"),
    ("can I get store credit instead of a refund", "return_items"),
    ("can I get the same jacket in a medium instead", "exchange_items"),
    ("I live at a new place now, please update it", "change_address"),
    ("it's ivan.santos@example.com", "authenticate"),
    ("do you deliver on weekends", "ask_policy"),
    ("what happens to my card details after I pay", "ask_policy"),
    ("can a real human look at this", "human_handoff"),
    ("put me through to someone who can actually help", "human_handoff"),
    ("absolutely disgusting service, third time I'm asking", "complaint"),
    ("you lost my package and nobody cares, I'm livid", "complaint"),
    ("how tall is the eiffel tower", "out_of_scope"),
    ("write a short story about a dragon", "out_of_scope"),
    ("wat time is it in tokyo", "out_of_scope"),
    ("recomend me some headphone for the gym", "recommend"),
]

HELD_OUT_3: list[tuple[str, str]] = [
    ("hiii", "greet"),
    ("evening!", "greet"),
    ("ok ttyl", "goodbye"),
    ("many thanks", "thanks"),
    ("yes that one", "affirm"),
    ("definitely, go ahead", "affirm"),
    ("no no no, wrong one", "deny"),
    ("not that, the other", "deny"),
    ("Need a rain jacket for hiking in Scotland", "search_products"),
    ("any yoga mats that aren't too thick?", "search_products"),
    ("do you stock french presses", "search_products"),
    ("how long does the battery last on the smartwatch", "product_details"),
    ("is the chair good for tall people, what's the seat height", "product_details"),
    ("is the green tent available in 3 person", "check_availability"),
    ("when do you get more of the 1000ml bottles", "check_availability"),
    ("what's the cheapest price for the wok", "price_question"),
    ("how much would it be with the quantity discount", "price_question"),
    ("which tent would you recommend for two people", "recommend"),
    ("what goes with a dutch oven", "recommend"),
    ("I'll go with the second one", "add_to_cart"),
    ("add 2 more bottles", "add_to_cart"),
    ("can you show me what I've got in the basket", "view_cart"),
    ("drop the second item from the basket", "remove_from_cart"),
    ("how do I pay for my cart", "checkout"),
    ("my package says delivered but it's not here", "order_status"),
    ("any news on my delivery?", "order_status"),
    ("list all orders I placed this year", "list_orders"),
    ("can my order still be cancelled?", "cancel_order"),
    ("please don't ship it, I want to cancel", "cancel_order"),
    ("the blender I got is faulty, I'd like to return it", "return_items"),
    ("how do returns work for a gift I received", "return_items"),
    ("can I swap the headphones for the white ones", "exchange_items"),
    ("the address on my account is outdated", "change_address"),
    ("Hi I'm Noah Brown, zip 80279", "authenticate"),
    ("what forms of payment do you take", "ask_policy"),
    ("is there a warranty on the coffee machine", "ask_policy"),
    ("I'd like to chat with a person please", "human_handoff"),
    ("this is taking forever, unbelievable. I'm so annoyed", "complaint"),
    ("can you help me with my taxes", "out_of_scope"),
    ("who won the world cup", "out_of_scope"),
]


def _accuracy(matcher: IntentMatcher, rows: Sequence[tuple[str, str]]) -> tuple[float, list[str]]:
    """Accuracy of the rule layer as the turn pipeline runs it: guardrails, then intents."""
    settings = DialogueSettings()
    misses = []
    for text, expected in rows:
        result = matcher.match_guarded(check_input(text, settings=settings))
        if result.intent != expected:
            misses.append(f"{text!r}: expected {expected}, got {result.intent} ({result.confidence:.2f})")
    return 1 - len(misses) / len(rows), misses


ALL_ROWS = LABELLED + HELD_OUT + HELD_OUT_2 + HELD_OUT_3


def test_labelled_table_accuracy(
    matcher: IntentMatcher, record_property: Callable[[str, object], None]
) -> None:
    assert len(ALL_ROWS) >= 80
    assert {intent for _, intent in ALL_ROWS} == REQUIRED_INTENTS
    accuracy, misses = _accuracy(matcher, ALL_ROWS)
    record_property("intent_accuracy", round(accuracy, 4))
    detail = "\n".join(misses)
    assert accuracy >= 0.9, f"accuracy {accuracy:.3f} on {len(ALL_ROWS)} utterances; misses:\n{detail}"


@pytest.mark.parametrize(
    "rows", [HELD_OUT, HELD_OUT_2, HELD_OUT_3], ids=["held_out", "held_out_2", "held_out_3"]
)
def test_each_held_out_table_reaches_ninety_percent(
    rows: list[tuple[str, str]], matcher: IntentMatcher
) -> None:
    accuracy, misses = _accuracy(matcher, rows)
    assert accuracy >= 0.9, "\n".join(misses)


def test_the_rules_alone_decide_most_messages(rules_only: IntentMatcher) -> None:
    """Without an embedder (patterns, sentiment and guardrails only) most rows still resolve."""
    accuracy, _ = _accuracy(rules_only, ALL_ROWS)
    assert accuracy >= 0.75


def test_off_topic_messages_are_out_of_scope_and_refused_ones_unknown(rules_only: IntentMatcher) -> None:
    settings = DialogueSettings(max_message_chars=50)
    weather = rules_only.match_guarded(check_input("will it rain in Paris tomorrow?", settings=settings))
    assert weather.intent == "out_of_scope"
    assert weather.candidates[0].evidence == "guardrails.off_topic.weather"
    too_long = rules_only.match_guarded(check_input("where is my order " * 10, settings=settings))
    assert too_long.is_unknown and too_long.candidates == ()


def test_every_required_intent_has_enough_examples() -> None:
    config = load_intent_config()
    assert set(config.names()) == REQUIRED_INTENTS
    for rule in config.intents:
        assert len(rule.examples) >= MIN_EXAMPLES, rule.name
        assert all(isinstance(p, re.Pattern) for p in (*rule.patterns, *rule.exclude))


def test_pattern_hit_outranks_examples_and_lists_every_candidate(matcher: IntentMatcher) -> None:
    result = matcher.match("yes, add it to my cart")
    assert result.intent == "add_to_cart"
    assert result.source is MatchSource.PATTERN
    assert result.has("affirm")
    assert result.candidates[0].score > result.score_of("affirm") > 0
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)


def test_exclude_patterns_veto_their_intent(rules_only: IntentMatcher) -> None:
    assert rules_only.match("cancel my order").intent == "cancel_order"
    result = rules_only.match("I don't want to cancel my order")
    assert not any(c.intent == "cancel_order" and c.source is MatchSource.PATTERN for c in result.candidates)


def test_strong_negative_sentiment_adds_complaint_below_pattern_hits(matcher: IntentMatcher) -> None:
    refund = matcher.match("I want a refund, these are awful and I hate them")
    assert refund.intent == "return_items"
    assert refund.has("complaint")
    assert refund.sentiment.strong_negative
    plain = matcher.match("this is bullshit")
    assert plain.intent == "complaint"
    assert plain.source is MatchSource.SENTIMENT


def test_gibberish_is_unknown_below_the_threshold(matcher: IntentMatcher) -> None:
    result = matcher.match("purple monkey dishwasher quantum")
    assert result.intent == UNKNOWN_INTENT and result.is_unknown
    assert result.source is MatchSource.NONE
    assert result.confidence < matcher.config.similarity_threshold
    assert result.candidates  # the nearest examples are still reported, for the LLM step and logs


def test_without_an_embedder_only_patterns_decide(rules_only: IntentMatcher) -> None:
    assert rules_only.match("tell me more about the first one").intent == "product_details"
    vague = rules_only.match("hmm something for my brother maybe")
    assert vague.is_unknown and vague.candidates == ()


def test_top_k_limits_the_candidates(matcher: IntentMatcher) -> None:
    assert len(matcher.match("where is my order", top_k=3).candidates) == 3


class _CountingEmbedder:
    """The real embedder, counting calls: examples must be embedded once, at construction."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.document_calls = 0
        self.query_calls = 0

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_documents(
        self, *, texts: Sequence[str], batch_size: int = 64, progress: object = None
    ) -> np.ndarray:
        self.document_calls += 1
        return self.inner.embed_documents(texts=texts, batch_size=batch_size)

    def embed_query(self, *, text: str) -> np.ndarray:
        self.query_calls += 1
        return self.inner.embed_query(text=text)


def test_examples_are_embedded_once(embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    small = tmp_path / "intents.yaml"
    examples = "\n".join(
        f"      - {w} please" for w in ("hello", "hi", "hey", "howdy", "yo", "hiya", "greetings", "morning")
    )
    settings = "settings: {pattern_score: 0.9, similarity_threshold: 0.5}\n"
    small.write_text(f"{settings}intents:\n  greet:\n    examples:\n{examples}\n", encoding="utf-8")
    counting = _CountingEmbedder(embedder)
    matcher = IntentMatcher(embedder=counting, config=load_intent_config(small))
    assert counting.document_calls == 1
    for _ in range(3):
        assert matcher.match("hello there").intent == "greet"
    assert counting.document_calls == 1
    assert counting.query_calls == 3


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = SOURCE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "intents.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_pattern_that_does_not_compile_names_its_intent(tmp_path: Path) -> None:
    path = _broken(tmp_path, "      - '\\b(?:log\\s*in|login", "      - '\\b(?:log\\s*in|(login")
    with pytest.raises(
        ConfigError, match=r"intents\.authenticate\.patterns\[2\]: pattern .* does not compile"
    ):
        load_intent_config(path)


def test_too_few_examples_names_the_intent(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    settings = "settings: {pattern_score: 0.9, similarity_threshold: 0.5}\n"
    path.write_text(f"{settings}intents:\n  greet:\n    examples: [hi, hello]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"intents\.greet\.examples: List should have at least 8 items"):
        load_intent_config(path)


def test_an_unknown_sentiment_intent_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  sentiment_intent: complaint", "  sentiment_intent: grumble")
    with pytest.raises(ConfigError, match="sentiment_intent 'grumble' is not an intent"):
        load_intent_config(path)


def test_invalid_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text("intents: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_intent_config(path)
