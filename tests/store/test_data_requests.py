"""The data request queue: what waits for the operator, what self-service approves at once,
decisions and their errors."""

from __future__ import annotations

import pytest

from core.config.identity import PrivacySettings
from core.errors import ActionRefusedError, InvalidArgumentsError, NotFoundError
from store.data_requests import (
    SELF_SERVICE,
    approve,
    get_request,
    list_requests,
    mark_done,
    queue_request,
    reject,
)
from store.db import Database
from store.models import DataRequestKind, DataRequestStatus
from tests.shop_fixture import ALICE, BOB

pytestmark = pytest.mark.databases

OPERATOR_ONLY = PrivacySettings()
SELF_SERVICE_ON = PrivacySettings(self_service_deletion=True)


def test_requests_wait_for_the_operator_by_default(database: Database) -> None:
    forget = queue_request(
        database, customer_id=ALICE, kind="forget", privacy=OPERATOR_ONLY, session_id="s-1"
    )
    export = queue_request(database, customer_id=BOB, kind=DataRequestKind.EXPORT, privacy=OPERATOR_ONLY)
    assert forget.status is export.status is DataRequestStatus.PENDING
    assert forget.session_id == "s-1" and forget.decided_at is None
    assert [r.id for r in list_requests(database)] == [forget.id, export.id]


def test_self_service_approves_deletion_but_never_export(database: Database) -> None:
    forget = queue_request(database, customer_id=ALICE, kind="forget", privacy=SELF_SERVICE_ON)
    export = queue_request(database, customer_id=ALICE, kind="export", privacy=SELF_SERVICE_ON)
    assert forget.status is DataRequestStatus.APPROVED and forget.decided_by == SELF_SERVICE
    assert export.status is DataRequestStatus.PENDING


def test_asking_twice_gives_the_open_request(database: Database) -> None:
    first = queue_request(database, customer_id=ALICE, kind="export", privacy=OPERATOR_ONLY)
    again = queue_request(database, customer_id=ALICE, kind="export", privacy=OPERATOR_ONLY)
    assert again.id == first.id and len(list_requests(database)) == 1
    reject(database, first.id, by="ops")
    third = queue_request(database, customer_id=ALICE, kind="export", privacy=OPERATOR_ONLY)
    assert third.id != first.id  # a closed request does not block a new one


def test_approve_reject_and_listing(database: Database) -> None:
    a = queue_request(database, customer_id=ALICE, kind="forget", privacy=OPERATOR_ONLY)
    b = queue_request(database, customer_id=BOB, kind="export", privacy=OPERATOR_ONLY)
    approved = approve(database, a.id, by="ops")
    assert approved.status is DataRequestStatus.APPROVED and approved.decided_by == "ops"
    assert approved.decided_at is not None
    rejected = reject(database, b.id, by="ops")
    assert rejected.status is DataRequestStatus.REJECTED
    assert [r.id for r in list_requests(database)] == [a.id]  # open ones only
    assert {r.id for r in list_requests(database, include_closed=True)} == {a.id, b.id}

    assert mark_done(database, a.id) is True
    assert mark_done(database, a.id) is False  # only once
    assert get_request(database, a.id).status is DataRequestStatus.DONE
    assert list_requests(database) == []


def test_decisions_are_final(database: Database) -> None:
    a = queue_request(database, customer_id=ALICE, kind="forget", privacy=OPERATOR_ONLY)
    reject(database, a.id, by="ops")
    with pytest.raises(ActionRefusedError, match="rejected"):
        approve(database, a.id, by="ops")
    assert get_request(database, a.id).status is DataRequestStatus.REJECTED


def test_bad_input(database: Database) -> None:
    with pytest.raises(NotFoundError):
        queue_request(database, customer_id="nobody_0000", kind="forget", privacy=OPERATOR_ONLY)
    with pytest.raises(InvalidArgumentsError, match="kind"):
        queue_request(database, customer_id=ALICE, kind="delete_everything", privacy=OPERATOR_ONLY)
    with pytest.raises(InvalidArgumentsError, match="Invalid data request id"):
        approve(database, "not-an-id", by="ops")
    with pytest.raises(NotFoundError, match="No data request"):
        approve(database, "0b6c1c52-2c3c-4a3e-9d59-6a2a2f3c4d5e", by="ops")
    a = queue_request(database, customer_id=ALICE, kind="forget", privacy=OPERATOR_ONLY)
    with pytest.raises(InvalidArgumentsError):
        approve(database, a.id, by="")
