"""Customers' data requests: the queue between a verified customer asking in chat ("send me my
data", "delete my data") and the operator.

A request is made ``pending`` and waits for the operator (``shopassist customers approve`` or
``reject``), except a deletion request when ``privacy.self_service_deletion`` is on, which is
``approved`` at once. An export request always waits: its file is sent by the operator, who
should see who asked. Approved requests are carried out by the sweep
(``privacy.retention.carry_out_approved``, run by ``shopassist sweep`` and by ``serve``),
which marks them ``done``. Decisions are final: only a pending request can be approved or
rejected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.config.identity import PrivacySettings
from core.errors import ActionRefusedError, InvalidArgumentsError, NotFoundError
from store.db import Database
from store.models import Customer, DataRequest, DataRequestKind, DataRequestStatus

OPEN = (DataRequestStatus.PENDING, DataRequestStatus.APPROVED)
SELF_SERVICE = "customer"
"""``decided_by`` of a deletion request approved at once (self-service)."""


@dataclass(frozen=True)
class RequestInfo:
    id: str
    customer_id: str
    kind: DataRequestKind
    status: DataRequestStatus
    session_id: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None

    @classmethod
    def of(cls, row: DataRequest) -> RequestInfo:
        return cls(
            row.id,
            row.customer_id,
            DataRequestKind(row.kind),
            DataRequestStatus(row.status),
            row.session_id,
            row.created_at,
            row.decided_at,
            row.decided_by,
        )


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def queue_request(
    database: Database,
    *,
    customer_id: str,
    kind: DataRequestKind | str,
    privacy: PrivacySettings,
    session_id: str | None = None,
    now: datetime | None = None,
) -> RequestInfo:
    """Record a verified customer's request (``kind`` ``export`` or ``forget``). A deletion is
    approved at once with ``privacy.self_service_deletion``; everything else is pending. If the
    customer already has an open (pending or approved) request of that kind, that one is
    returned instead of a second. :class:`NotFoundError` for an unknown customer."""
    try:
        kind = DataRequestKind(kind)
    except ValueError as exc:
        raise InvalidArgumentsError(
            f"Unknown data request kind {kind!r}: export or forget", kind=kind
        ) from exc
    with database.transaction() as session:
        return queue_in(
            session, customer_id=customer_id, kind=kind, privacy=privacy, session_id=session_id, now=now
        )


def queue_in(
    session: Session,
    *,
    customer_id: str,
    kind: DataRequestKind,
    privacy: PrivacySettings,
    session_id: str | None = None,
    now: datetime | None = None,
) -> RequestInfo:
    """:func:`queue_request` inside the caller's transaction (the ``request_data_*`` tools)."""
    when = _now(now)
    if session.get(Customer, customer_id) is None:
        raise NotFoundError(f"Unknown customer {customer_id!r}", customer_id=customer_id)
    open_query = select(DataRequest).where(
        DataRequest.customer_id == customer_id, DataRequest.kind == kind, DataRequest.status.in_(OPEN)
    )
    existing = session.scalars(open_query.order_by(DataRequest.created_at)).first()
    if existing is not None:
        return RequestInfo.of(existing)
    at_once = kind is DataRequestKind.FORGET and privacy.self_service_deletion
    row = DataRequest(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        kind=kind,
        status=DataRequestStatus.APPROVED if at_once else DataRequestStatus.PENDING,
        session_id=session_id,
        created_at=when,
        decided_at=when if at_once else None,
        decided_by=SELF_SERVICE if at_once else None,
    )
    session.add(row)
    session.flush()
    return RequestInfo.of(row)


def list_requests(database: Database, *, include_closed: bool = False) -> list[RequestInfo]:
    """Requests oldest first: the open ones (pending, approved), or all with ``include_closed``."""
    query = select(DataRequest).order_by(DataRequest.created_at, DataRequest.id)
    if not include_closed:
        query = query.where(DataRequest.status.in_(OPEN))
    with database.session() as session:
        return [RequestInfo.of(row) for row in session.scalars(query)]


def get_request(database: Database, request_id: str) -> RequestInfo:
    with database.session() as session:
        return RequestInfo.of(_load(session, request_id))


def approve(database: Database, request_id: str, *, by: str, now: datetime | None = None) -> RequestInfo:
    """Approve a pending request; the next sweep carries it out."""
    return _decide(database, request_id, DataRequestStatus.APPROVED, by=by, now=now)


def reject(database: Database, request_id: str, *, by: str, now: datetime | None = None) -> RequestInfo:
    """Reject a pending request; nothing is done for it."""
    return _decide(database, request_id, DataRequestStatus.REJECTED, by=by, now=now)


def mark_done(database: Database, request_id: str) -> bool:
    """Mark an approved request carried out (``decided_at`` stays the decision's time); False
    if it was not approved (another sweep, in another worker, finished it first)."""
    with database.transaction() as session:
        # Core UPDATE on the session's connection: its result has the rowcount.
        done = session.connection().execute(
            update(DataRequest)
            .where(DataRequest.id == request_id, DataRequest.status == DataRequestStatus.APPROVED)
            .values(status=DataRequestStatus.DONE)
        )
        return done.rowcount == 1


def _decide(
    database: Database, request_id: str, status: DataRequestStatus, *, by: str, now: datetime | None
) -> RequestInfo:
    if not by or len(by) > 64:
        raise InvalidArgumentsError("Who decided must be 1 to 64 characters", by=by)
    with database.transaction() as session:
        row = _load(session, request_id)
        if row.status is not DataRequestStatus.PENDING:
            raise ActionRefusedError(
                f"Data request {request_id} is {row.status.value}; only a pending request can be "
                f"{status.value}",
                request_id=request_id,
                status=row.status.value,
            )
        row.status = status
        row.decided_at = _now(now)
        row.decided_by = by
        session.flush()
        return RequestInfo.of(row)


def _load(session: Session, request_id: str) -> DataRequest:
    try:
        uuid.UUID(request_id)
    except (ValueError, AttributeError, TypeError) as exc:
        raise InvalidArgumentsError(f"Invalid data request id {request_id!r}", request_id=request_id) from exc
    row = session.get(DataRequest, request_id)
    if row is None:
        raise NotFoundError(f"No data request {request_id}", request_id=request_id)
    return row
