"""The Rasa actions on a shop they were not written for: the tau retail import (its customers,
orders and catalog read from tau's own files, not from our code)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.rasa import slots as S
from connectors.rasa.actions import ShopActions
from connectors.rasa.identity import SenderIdentities
from connectors.rasa.messages import Messages
from connectors.rasa.verify import Verifier
from core.config import Settings
from identity.lockout import FailureGuard
from services import Services
from store.db import Database
from tests.conftest import require_shared
from tests.connectors.rasa.conftest import call, slots_set, text_of
from tools.importers import ImportOptions, run_import


@pytest.fixture(scope="module")
def tau_dir() -> Path:
    return require_shared("tau_retail")


@pytest.fixture(scope="module")
def tau_actions(tau_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopActions]:
    data_dir = tmp_path_factory.mktemp("tau-rasa")
    database = Database(f"sqlite:///{data_dir / 'shop.db'}")
    database.migrate()
    run_import(database, "tau", tau_dir, options=ImportOptions(default_stock=10))
    database.dispose()
    settings = Settings(data_dir=data_dir, policy={"secret_key": "test-secret-key-0123456789"})
    services = Services.from_settings(settings)
    secret = b"test-secret-key-0123456789"
    identities = SenderIdentities(services.database, secret=secret, idle_seconds=1800)
    messages = Messages(currency=settings.shop.currency)
    guard = FailureGuard(services.database, settings.auth, secret=secret)
    verifier = Verifier(services.executor, identities, messages, level="knowledge", guard=guard)
    yield ShopActions(services.executor, identities, verifier, messages)
    services.close()


def tau_users(tau_dir: Path) -> dict[str, Any]:
    users: dict[str, Any] = json.loads((tau_dir / "users.json").read_text())
    return users


def test_a_tau_customer_verifies_and_reads_their_own_order(tau_actions: ShopActions, tau_dir: Path):
    users = tau_users(tau_dir)
    user_id, user = next((k, u) for k, u in users.items() if u["orders"])
    orders = json.loads((tau_dir / "orders.json").read_text())
    order_id = user["orders"][0]
    facts = {"email": user["email"], "zip": user["address"]["zip"]}
    verified = call(tau_actions, S.VERIFY_ACTION, sender="tau-1", entities=facts)
    assert slots_set(verified)[S.VERIFIED] == user_id
    status = call(
        tau_actions,
        "action_get_order_status",
        sender="tau-1",
        slots={S.VERIFIED: user_id},
        entities={"order_id": order_id},
    )
    result = slots_set(status)[S.RESULT]["result"]
    assert result["order_id"] == order_id and order_id in text_of(status)
    assert result["status"] in orders[order_id]["status"]


def test_another_tau_customers_order_is_refused(tau_actions: ShopActions, tau_dir: Path):
    users = tau_users(tau_dir)
    (first_id, first), (_, second) = [(k, u) for k, u in users.items() if u["orders"]][:2]
    call(
        tau_actions,
        S.VERIFY_ACTION,
        sender="tau-2",
        entities={"email": first["email"], "zip": first["address"]["zip"]},
    )
    refused = call(
        tau_actions,
        "action_get_order_status",
        sender="tau-2",
        slots={S.VERIFIED: first_id},
        entities={"order_id": second["orders"][0]},
    )
    assert slots_set(refused)[S.ERROR] == "permission_denied" and S.RESULT not in slots_set(refused)


def test_searching_the_tau_catalog_gives_its_products_as_cards(tau_actions: ShopActions, tau_dir: Path):
    products = json.loads((tau_dir / "products.json").read_text())
    name = next(iter(products.values()))["name"]
    reply = call(tau_actions, "action_catalog_search", sender="tau-3", entities={"query": name})
    (message,) = reply.messages
    assert message.custom is not None
    assert name in [card["title"] for card in message.custom["products"]]
