"""Fixtures of the rule layer: the real bundled MiniLM embedder and one intent matcher per session."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.config import DialogueSettings
from dialogue_rules.entities.extract import build_extractors
from dialogue_rules.entities.extractors import EntityExtractor
from dialogue_rules.entities.values import LastProduct
from dialogue_rules.intents import IntentMatcher
from dialogue_rules.registry import RuleRegistry
from retrieval.embeddings import SentenceTransformerEmbedder


@pytest.fixture(scope="session")
def matcher(embedder: SentenceTransformerEmbedder) -> IntentMatcher:
    return IntentMatcher(embedder=embedder)


@pytest.fixture(scope="session")
def rules_only() -> IntentMatcher:
    return IntentMatcher(embedder=None)


@pytest.fixture(scope="session")
def extractors() -> RuleRegistry[EntityExtractor]:
    return build_extractors()


@pytest.fixture
def dialogue_settings() -> DialogueSettings:
    return DialogueSettings(max_message_chars=200)


@pytest.fixture
def shown() -> list[LastProduct]:
    """Three products as a search result showed them (ids and options from the demo catalog)."""
    return [
        LastProduct(
            product_id="1000000001",
            title="Northrun Apex Lightweight Running Shoe",
            min_price=Decimal("89.00"),
            max_price=Decimal("99.00"),
            options={"color": ("black", "blue"), "size": ("9", "9.5", "10")},
            brand="Northrun",
        ),
        LastProduct(
            product_id="1000000002",
            title="Hydrapeak Summit Insulated Water Bottle",
            min_price=Decimal("24.00"),
            max_price=Decimal("30.00"),
            options={"capacity": ("500ml", "750ml", "1000ml"), "color": ("sage", "ocean blue")},
            brand="Hydrapeak",
        ),
        LastProduct(
            product_id="1000000003",
            title="Northpeak Ridgeline Waterproof Rain Shell",
            min_price=Decimal("149.00"),
            max_price=Decimal("149.00"),
            options={"color": ("navy", "rust"), "size": ("S", "M", "L")},
            brand="Northpeak",
        ),
    ]
