"""A verified customer's data requests in chat (issue 18): asked, verified, confirmed, then
queued for the operator; a deletion approved at once only with self-service deletion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from assistant.engine import Assistant
from eval.dialogue.runner import ScenarioHarness
from services import Services
from store.models import DataRequest, DataRequestKind, DataRequestStatus


@pytest.fixture
def pair(harness: ScenarioHarness) -> Iterator[tuple[Assistant, Services]]:
    with harness.assistant() as built:
        yield built


def requests(services: Services) -> list[tuple[str, DataRequestKind, DataRequestStatus]]:
    with services.database.session() as session:
        return [(r.customer_id, r.kind, r.status) for r in session.scalars(select(DataRequest))]


@pytest.mark.parametrize(
    ("ask", "kind", "done"),
    [
        ("please send me a copy of all my personal data", DataRequestKind.EXPORT, "data_copy_done"),
        ("I want you to delete my personal data", DataRequestKind.FORGET, "data_deletion_queued"),
    ],
)
def test_a_data_request_is_verified_confirmed_and_queued(
    pair: tuple[Assistant, Services], ask: str, kind: DataRequestKind, done: str
) -> None:
    assistant, services = pair
    sid = assistant.start_session(channel="web")
    assert assistant.handle(sid, ask).template == "auth_ask_knowledge"
    assert requests(services) == []
    assert assistant.handle(sid, "alice@example.com, zip 10001").template == "confirm_action"
    assert requests(services) == []  # nothing before the yes
    assert assistant.handle(sid, "yes").template == done
    assert requests(services) == [("alice_smith_1001", kind, DataRequestStatus.PENDING)]


def test_a_declined_deletion_queues_nothing(pair: tuple[Assistant, Services]) -> None:
    assistant, services = pair
    sid = assistant.start_session(channel="web")
    assistant.handle(sid, "delete my data please, alice@example.com, zip 10001")
    assert assistant.handle(sid, "no").template == "confirm_declined"
    assert requests(services) == []
