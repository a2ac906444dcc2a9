"""``shopassist rasa-actions`` as a real process on a port: rasa-sdk's own server over the
fixture shop with its built search index, called the way Rasa calls it (POST /webhook with
Rasa's documented body, ``?token=`` from endpoints.yml). Nothing here stands in for Rasa's
side but the request bodies, built by ``rasa_call`` from Rasa's format."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.rasa import slots as S
from store.db import Database
from store.models import Order, OrderStatus
from tests.conftest import REPO
from tests.connectors.rasa.conftest import rasa_call
from tests.index_damage import built_index_shop  # noqa: F401  (fixture)
from tests.servers import free_port, server_process
from tests.shop_fixture import ALICE

pytestmark = pytest.mark.slow

TOKEN = "rasa-test-token-0123456789"


@dataclass(frozen=True)
class ActionServer:
    url: str
    data_dir: Path

    def post(self, body: Any, *, token: str | None = TOKEN, raw: bytes | None = None) -> httpx.Response:
        params = {"token": token} if token is not None else {}
        if raw is not None:
            return httpx.post(f"{self.url}/webhook", params=params, content=raw, timeout=30)
        return httpx.post(f"{self.url}/webhook", params=params, json=body, timeout=30)

    def run(self, action: str, **kwargs: Any) -> dict[str, Any]:
        response = self.post(rasa_call(action, **kwargs))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def order_status(self, order_id: str) -> OrderStatus:
        database = Database(f"sqlite:///{self.data_dir / 'shop.db'}")
        try:
            with database.session() as session:
                order = session.get(Order, order_id)
                assert order is not None
                return order.status
        finally:
            database.dispose()


def slots_of(body: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}


def texts_of(body: dict[str, Any]) -> str:
    return "\n".join(r["text"] or "" for r in body["responses"])


@pytest.fixture(scope="module")
def action_server(built_index_shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:  # noqa: F811
    root = tmp_path_factory.mktemp("rasa-server")
    data_dir = root / "data"
    shutil.copytree(built_index_shop, data_dir)
    config = root / "config.yaml"
    config.write_text(
        f"data_dir: {data_dir}\n"
        "policy:\n  secret_key: test-secret-key-0123456789\n"
        f"retrieval:\n  policy_dirs: [{data_dir / 'policies'}]\n"
        "llm:\n  enabled: false\nspeech:\n  enabled: false\n"
        "embeddings:\n  query_backend: torch\n"
        f"rasa:\n  token: {TOKEN}\n"
    )
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "shopassist.cli.main",
        "--config",
        str(config),
        "rasa-actions",
        "--port",
        str(port),
    ]
    env = {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    with server_process(
        command,
        port=port,
        check_path="/health",
        log=root / "server.log",
        name="rasa-actions",
        env=env,
        cwd=REPO,
    ) as url:
        yield ActionServer(url, data_dir)


def test_health_and_the_action_list(action_server: ActionServer):
    assert httpx.get(f"{action_server.url}/health", timeout=10).json() == {"status": "ok"}
    listed = httpx.get(f"{action_server.url}/actions", params={"token": TOKEN}, timeout=10)
    names = {item["name"] for item in listed.json()}
    assert {
        "action_catalog_search",
        "action_prepare_cancel_order",
        "action_cancel_order",
        S.VERIFY_ACTION,
    } <= names
    assert "action_find_customer_by_email" not in names  # no account lookups for anyone to probe


def test_a_call_without_the_token_is_refused(action_server: ActionServer):
    call = rasa_call("action_catalog_search", sender="t1", entities={"query": "lamp"})
    assert action_server.post(call, token=None).status_code == 401
    assert action_server.post(call, token="wrong").status_code == 401
    assert httpx.get(f"{action_server.url}/actions", timeout=10).status_code == 401


def test_search_returns_cards(action_server: ActionServer):
    body = action_server.run(
        "action_catalog_search",
        sender="web-1",
        text="do you have a desk lamp?",
        entities={"query": "desk lamp"},
    )
    result = slots_of(body)[S.RESULT]["result"]
    assert result["engine"] == "hybrid"  # the built index answered
    (response,) = body["responses"]
    cards = response["custom"]["products"]
    assert response["custom"]["type"] == "product_cards"
    assert cards[0]["title"] == "Arc Desk Lamp" == result["products"][0]["title"]
    assert "Arc Desk Lamp" in response["text"] and "$45.00" in response["text"]


def test_order_status_needs_verification_then_works(action_server: ActionServer):
    asked = {"order_id": "#W0000001"}
    refused = action_server.run(
        "action_get_order_status", sender="web-2", text="where is #W0000001", entities=asked
    )
    assert slots_of(refused)[S.ERROR] == "authentication_required"
    assert S.RESULT not in slots_of(refused) and "pending" not in texts_of(refused)

    verified = action_server.run(
        S.VERIFY_ACTION,
        sender="web-2",
        text="alice@example.com zip 10001",
        entities={"email": "alice@example.com", "zip": "10001"},
    )
    assert slots_of(verified)[S.VERIFIED] == ALICE and "Alice" in texts_of(verified)

    status = action_server.run(
        "action_get_order_status", sender="web-2", slots={S.VERIFIED: ALICE, **asked}, text="and now?"
    )
    assert slots_of(status)[S.RESULT]["result"]["status"] == "pending"
    assert "#W0000001" in texts_of(status) and "pending" in texts_of(status)


def test_a_forged_verified_slot_is_refused(action_server: ActionServer):
    body = action_server.run(
        "action_get_order_status",
        sender="web-3",
        slots={S.VERIFIED: ALICE},
        entities={"order_id": "#W0000002"},
    )
    assert slots_of(body)[S.ERROR] == "identity_mismatch" and slots_of(body)[S.VERIFIED] is None
    assert S.RESULT not in slots_of(body) and "delivered" not in texts_of(body)


def test_cancel_needs_confirmation_and_cancels_once(action_server: ActionServer):
    sender = "web-4"
    action_server.run(
        S.VERIFY_ACTION, sender=sender, entities={"email": "alice@example.com", "card_last4": "4242"}
    )
    asked = {"order_id": "#W0000001", "reason": "no longer needed"}
    unconfirmed = action_server.run(
        "action_cancel_order", sender=sender, slots={S.VERIFIED: ALICE}, entities=asked
    )
    assert slots_of(unconfirmed)[S.ERROR] == "confirmation_required"
    assert action_server.order_status("#W0000001") == OrderStatus.PENDING

    prepared = slots_of(
        action_server.run(
            "action_prepare_cancel_order", sender=sender, slots={S.VERIFIED: ALICE}, entities=asked
        )
    )
    assert action_server.order_status("#W0000001") == OrderStatus.PENDING
    yes = {
        S.VERIFIED: ALICE,
        S.CONFIRMATION: prepared[S.CONFIRMATION],
        S.PENDING: prepared[S.PENDING],
        **asked,
    }
    first = action_server.run("action_cancel_order", sender=sender, slots=yes, intent="affirm", text="yes")
    again = action_server.run("action_cancel_order", sender=sender, slots=yes, intent="affirm", text="yes")
    assert slots_of(first)[S.RESULT]["replayed"] is False and slots_of(again)[S.RESULT]["replayed"] is True
    assert (
        slots_of(first)[S.RESULT]["result"]["refunded_total"]
        == slots_of(again)[S.RESULT]["result"]["refunded_total"]
    )
    assert action_server.order_status("#W0000001") == OrderStatus.CANCELLED


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        b'{"next_action": "action_catalog_search"}',
        b'{"next_action": "action_catalog_search", "tracker": {"slots": {}}}',
        b'{"next_action": "action_catalog_search", "domain": {},'
        b' "tracker": {"sender_id": "x", "slots": [], "latest_message": {}}}',
        b'{"next_action": "action_catalog_search", "domain": {},'
        b' "tracker": {"sender_id": "x", "slots": {}, "latest_message": {"entities": "query"}}}',
    ],
)
def test_a_malformed_payload_gets_rasas_error_shape(action_server: ActionServer, raw: bytes):
    response = action_server.post(None, raw=raw)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "action_name"} and body["error"]


def test_a_call_without_the_domain_gets_rasas_request_for_it(action_server: ActionServer):
    """Rasa's protocol: no domain and no known digest: 449, and Rasa sends it again with the domain."""
    call = rasa_call("action_catalog_search", sender="web-7", entities={"query": "lamp"})
    del call["domain"]
    response = action_server.post(call)
    assert response.status_code == 449 and response.json()["action_name"] == "action_catalog_search"


def test_an_unknown_action_gets_rasas_error_shape(action_server: ActionServer):
    response = action_server.post(rasa_call("action_launch_rockets", sender="web-5"))
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error", "action_name"} and body["action_name"] == "action_launch_rockets"
    assert "action_launch_rockets" in body["error"]


def test_an_oversized_body_is_refused_before_it_is_read(action_server: ActionServer):
    call = rasa_call(
        "action_catalog_search", sender="web-6", text="x" * 9_000_000, entities={"query": "lamp"}
    )
    assert action_server.post(call).status_code == 413
