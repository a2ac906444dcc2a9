"""The retention sweep: the shop's privacy page promises that conversations are deleted after
``privacy.retention_days``, and this keeps that promise. It also carries out the customers'
data requests the operator approved (or that self-service approved).

One sweep:

1. deletes every conversation whose last event is older than the retention (events, session
   row and lock; the store's ``erase``), in batches;
2. carries out each approved data request: ``forget`` anonymises the customer
   (:func:`privacy.forget.forget_customer`); ``export`` writes their data as JSON to
   ``<data_dir>/exports/<request id>.json`` (mode 0600 in a 0700 directory), for the operator
   to send; each is then marked ``done``. A request that fails is logged and left approved,
   so the next sweep tries again.

It logs counts only, never who. ``shopassist sweep`` runs it once; ``serve`` runs it every
``privacy.sweep_interval_seconds`` (:mod:`privacy.periodic`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.sessions.store import SessionStore
from core.config.identity import PrivacySettings
from core.errors import ShopassistError
from core.files import FILE_MODE, private_dir
from privacy.export import export_customer
from privacy.forget import forget_customer
from store.data_requests import RequestInfo, list_requests, mark_done
from store.db import Database
from store.models import DataRequestKind, DataRequestStatus

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    conversations_deleted: int = 0
    customers_forgotten: int = 0
    exports_written: int = 0
    requests_failed: int = 0


def exports_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "exports"


def delete_old_conversations(sessions: SessionStore, *, retention_days: int, now: datetime) -> int:
    """Delete the conversations idle for longer than ``retention_days`` before ``now``."""
    cutoff = now - timedelta(days=retention_days)
    deleted = 0
    while True:
        batch = sessions.idle_sessions(before=cutoff, limit=BATCH)
        deleted += sum(1 for session_id in batch if sessions.erase(session_id=session_id))
        if len(batch) < BATCH:
            break
    if deleted:
        sessions.checkpoint()
    return deleted


def write_export(path: Path, data: object) -> Path:
    """Write ``data`` as JSON to ``path`` with mode 0600 (its directory 0700), replacing an
    earlier file atomically."""
    private_dir(path.parent)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(partial, path)
    return path


def carry_out(
    database: Database, sessions: SessionStore, request: RequestInfo, *, data_dir: Path | str, now: datetime
) -> DataRequestKind:
    """Carry out one approved request and mark it done (see the module docstring)."""
    if request.kind is DataRequestKind.FORGET:
        forget_customer(database, sessions, customer_id=request.customer_id)
    else:
        data = export_customer(database, sessions, customer_id=request.customer_id, now=now)
        data["request_id"] = request.id
        write_export(exports_dir(data_dir) / f"{request.id}.json", data)
    mark_done(database, request.id)
    return request.kind


def carry_out_approved(
    database: Database, sessions: SessionStore, *, data_dir: Path | str, now: datetime
) -> SweepResult:
    """Carry out every approved request; one that fails is logged and stays approved."""
    forgotten = exported = failed = 0
    for request in list_requests(database):
        if request.status is not DataRequestStatus.APPROVED:
            continue
        try:
            kind = carry_out(database, sessions, request, data_dir=data_dir, now=now)
        except (ShopassistError, OSError) as exc:
            failed += 1
            log.error(
                "data request could not be carried out",
                extra={"request_id": request.id, "kind": request.kind.value, "error": type(exc).__name__},
            )
            continue
        if kind is DataRequestKind.FORGET:
            forgotten += 1
        else:
            exported += 1
    return SweepResult(0, forgotten, exported, failed)


def sweep(
    database: Database,
    sessions: SessionStore,
    *,
    privacy: PrivacySettings,
    data_dir: Path | str,
    now: datetime | None = None,
) -> SweepResult:
    """One retention sweep (old conversations, then approved requests); ``now`` for tests."""
    now = now if now is not None else datetime.now(UTC)
    deleted = delete_old_conversations(sessions, retention_days=privacy.retention_days, now=now)
    requests = carry_out_approved(database, sessions, data_dir=data_dir, now=now)
    result = SweepResult(
        deleted, requests.customers_forgotten, requests.exports_written, requests.requests_failed
    )
    log.info(
        "retention sweep done",
        extra={
            "conversations_deleted": result.conversations_deleted,
            "customers_forgotten": result.customers_forgotten,
            "exports_written": result.exports_written,
            "requests_failed": result.requests_failed,
            "retention_days": privacy.retention_days,
        },
    )
    return result
