"""`shopassist customers export/forget/requests/approve/reject` and `shopassist sweep`: output,
files, confirmation, and clear errors with a non-zero exit code."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.sessions.sql_store import SqlSessionStore
from core.config import Settings
from core.config.identity import PrivacySettings
from shopassist.cli.main import app
from store.data_requests import get_request, queue_request
from store.db import Database
from store.models import Customer, DataRequestStatus
from tests.privacy.conftest import Clock, anonymous_conversation, verified_conversation
from tests.shop_fixture import ALICE, BOB

runner = CliRunner()


@pytest.fixture
def config(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"data_dir: {settings.data_dir}\npolicy:\n  secret_key: cli-test-secret-0123456789\n"
        "logging:\n  level: WARNING\n"
    )
    return path


@pytest.fixture
def sessions(settings: Settings) -> Iterator[SqlSessionStore]:
    store = SqlSessionStore(settings.sessions_url)
    yield store
    store.close()


def cli(config: Path, *args: str, input: str | None = None):
    return runner.invoke(app, ["--config", str(config), *args], input=input)


def _alice_exists(database: Database) -> bool:
    with database.session() as session:
        return session.get(Customer, ALICE) is not None


def test_export_to_stdout_and_to_a_private_file(
    config: Path, database: Database, sessions: SqlSessionStore, tmp_path: Path
) -> None:
    sid = verified_conversation(sessions)
    shown = cli(config, "customers", "export", "alice@example.com")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["customer"]["email"] == "alice@example.com"
    assert len(data["orders"]) == 4 and data["conversations"][0]["session_id"] == sid

    target = tmp_path / "out" / "alice.json"
    written = cli(config, "customers", "export", "ALICE@example.com", "--out", str(target))
    assert written.exit_code == 0, written.output
    assert "4 orders and 1 conversations" in written.output
    assert json.loads(target.read_text())["customer"]["id"] == ALICE
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_unknown_email_is_a_clear_error(config: Path, database: Database) -> None:
    for command in (["export", "nobody@example.com"], ["forget", "nobody@example.com", "--yes"]):
        result = cli(config, "customers", *command)
        assert result.exit_code == 2, result.output
        assert "No customer with the email address 'nobody@example.com'" in result.output
    assert _alice_exists(database)


def test_forget_asks_first(config: Path, database: Database, sessions: SqlSessionStore) -> None:
    sid = verified_conversation(sessions)
    declined = cli(config, "customers", "forget", "alice@example.com", input="n\n")
    assert declined.exit_code == 1 and "Nothing changed." in declined.output
    assert "This cannot be undone" in declined.output
    assert _alice_exists(database)

    accepted = cli(config, "customers", "forget", "alice@example.com", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "4 orders anonymised (order totals kept), 1 conversations anonymised" in accepted.output
    assert not _alice_exists(database)
    assert "alice@example.com" not in sessions.events(session_id=sid)[0].event.model_dump_json()

    again = cli(config, "customers", "forget", "alice@example.com", "--yes")
    assert again.exit_code == 2 and "No customer" in again.output


def test_forget_with_yes_does_not_ask(config: Path, database: Database) -> None:
    result = cli(config, "customers", "forget", "bob@example.com", "--yes")
    assert result.exit_code == 0, result.output
    assert "Forget the customer" not in result.output
    with database.session() as session:
        assert session.get(Customer, BOB) is None


def test_requests_approve_reject(config: Path, database: Database) -> None:
    empty = cli(config, "customers", "requests")
    assert empty.exit_code == 0 and "No open data requests." in empty.output
    forget = queue_request(database, customer_id=ALICE, kind="forget", privacy=PrivacySettings())
    export = queue_request(database, customer_id=BOB, kind="export", privacy=PrivacySettings())

    listed = cli(config, "customers", "requests")
    lines = [line.split("\t") for line in listed.output.splitlines()]
    assert [(line[0], line[1], line[2], line[4]) for line in lines] == [
        (forget.id, "forget", "pending", ALICE),
        (export.id, "export", "pending", BOB),
    ]

    approved = cli(config, "customers", "approve", forget.id, "--by", "ops")
    assert approved.exit_code == 0 and "approved" in approved.output
    rejected = cli(config, "customers", "reject", export.id)
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    assert get_request(database, forget.id).decided_by == "ops"
    assert get_request(database, export.id).status is DataRequestStatus.REJECTED
    assert get_request(database, export.id).decided_by  # the login name

    open_only = cli(config, "customers", "requests").output
    assert forget.id in open_only and export.id not in open_only
    assert export.id in cli(config, "customers", "requests", "--all").output

    again = cli(config, "customers", "approve", export.id)
    assert again.exit_code == 2 and "only a pending request can be approved" in again.output
    bad = cli(config, "customers", "approve", "12")
    assert bad.exit_code == 2 and "Invalid data request id '12'" in bad.output
    unknown = cli(config, "customers", "reject", "0b6c1c52-2c3c-4a3e-9d59-6a2a2f3c4d5e")
    assert unknown.exit_code == 2 and "No data request" in unknown.output


def test_sweep_prints_counts(config: Path, database: Database, settings: Settings) -> None:
    old = Clock(datetime.now(UTC) - timedelta(days=91))
    store = SqlSessionStore(settings.sessions_url, clock=old)
    try:
        gone = anonymous_conversation(store)
        old.now = datetime.now(UTC) - timedelta(days=10)
        kept = anonymous_conversation(store)
    finally:
        store.close()
    forget = queue_request(
        database, customer_id=ALICE, kind="forget", privacy=PrivacySettings(self_service_deletion=True)
    )

    result = cli(config, "sweep")

    assert result.exit_code == 0, result.output
    assert "Conversations deleted (older than 90 days): 1" in result.output
    assert "Customers forgotten: 1" in result.output and "Exports written: 0" in result.output
    assert get_request(database, forget.id).status is DataRequestStatus.DONE
    reopened = SqlSessionStore(settings.sessions_url)
    try:
        assert not reopened.exists(session_id=gone) and reopened.exists(session_id=kept)
    finally:
        reopened.close()
    second = cli(config, "sweep")
    assert "Conversations deleted (older than 90 days): 0" in second.output
