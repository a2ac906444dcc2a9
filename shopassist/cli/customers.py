"""`shopassist customers ...` and `shopassist sweep`: customers' data rights, for the operator.

Export and forget act on a customer found by email; the requests customers make in chat wait
in a queue the operator lists, approves or rejects; the sweep deletes conversations past the
retention and carries out approved requests (``serve`` also runs it on a timer).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import ShopassistError
from shopassist.cli.console import command_services, err, out, state

if TYPE_CHECKING:
    from assistant.sessions.sql_store import SqlSessionStore
    from store.db import Database

customers_app = typer.Typer(
    help="Customers' data rights: export, forget, and the requests made in chat.", no_args_is_help=True
)

Email = Annotated[str, typer.Argument(help="The customer's email address.")]
RequestId = Annotated[str, typer.Argument(help="The request's id (from `shopassist customers requests`).")]
By = Annotated[str | None, typer.Option("--by", help="Who decides (default: the login name).")]


@contextmanager
def _stores() -> Iterator[tuple[Database, SqlSessionStore]]:
    """The shop's store and the conversation store, with ShopassistErrors (unknown email, bad
    id) turned into a message and exit code 2, as the console script reports them."""
    from assistant.sessions.sql_store import SqlSessionStore

    try:
        with command_services() as services:
            sessions = SqlSessionStore.from_settings(services.settings)
            try:
                yield services.database, sessions
            finally:
                sessions.close()
    except ShopassistError as exc:
        err.print(f"[red]error[/] ({exc.code}): {exc.message}", soft_wrap=True)
        raise typer.Exit(2) from exc


def _operator(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()[:64] or "operator"
    except (KeyError, OSError):
        return "operator"


@customers_app.command("export")
def export_command(
    email: Email,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSON here (mode 0600) instead of stdout.")
    ] = None,
) -> None:
    """A customer's data (profile, orders, conversations) as JSON."""
    from privacy.export import export_customer, find_customer_id
    from privacy.retention import write_export

    with _stores() as (database, sessions):
        data = export_customer(database, sessions, customer_id=find_customer_id(database, email))
    if out_file is None:
        out.file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    write_export(out_file, data)
    err.print(
        f"Exported {len(data['orders'])} orders and {len(data['conversations'])} conversations to {out_file}",
        soft_wrap=True,
    )


@customers_app.command("forget")
def forget_command(
    email: Email,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Anonymise a customer: name, email, addresses, card details and conversations go; order
    rows and totals stay for the books. Cannot be undone."""
    from privacy.export import find_customer_id
    from privacy.forget import forget_customer

    with _stores() as (database, sessions):
        customer_id = find_customer_id(database, email)
        if not yes and not typer.confirm(
            f"Forget the customer {email.strip()}? This cannot be undone.", default=False
        ):
            err.print("Nothing changed.")
            raise typer.Exit(1)
        result = forget_customer(database, sessions, customer_id=customer_id)
    out.print(
        f"Customer forgotten (now {result.customer_id}): {result.addresses} addresses, "
        f"{result.payment_methods} payment methods and {result.orders} orders anonymised "
        f"(order totals kept), {result.conversations} conversations anonymised.",
        soft_wrap=True,
    )


@customers_app.command("requests")
def requests_command(
    show_all: Annotated[bool, typer.Option("--all", help="Also done and rejected requests.")] = False,
) -> None:
    """The data requests customers made in chat (open ones unless --all), oldest first."""
    from store.data_requests import list_requests

    with _stores() as (database, _sessions):
        found = list_requests(database, include_closed=show_all)
    if not found:
        out.print("No data requests." if show_all else "No open data requests.")
        return
    for request in found:
        decided = f"\t{request.decided_by}" if request.decided_by else ""
        # Plain tab-separated lines, never wrapped: for reading and for scripts.
        typer.echo(
            f"{request.id}\t{request.kind.value}\t{request.status.value}\t"
            f"{request.created_at:%Y-%m-%d %H:%M}\t{request.customer_id}{decided}"
        )


@customers_app.command("approve")
def approve_command(request_id: RequestId, by: By = None) -> None:
    """Approve a pending request; the next sweep (`shopassist sweep`, or serve's) carries it out."""
    from store.data_requests import approve

    with _stores() as (database, _sessions):
        request = approve(database, request_id.strip(), by=_operator(by))
    out.print(
        f"Request {request.id} ({request.kind.value}) approved; `shopassist sweep` carries it out.",
        soft_wrap=True,
    )


@customers_app.command("reject")
def reject_command(request_id: RequestId, by: By = None) -> None:
    """Reject a pending request."""
    from store.data_requests import reject

    with _stores() as (database, _sessions):
        request = reject(database, request_id.strip(), by=_operator(by))
    out.print(f"Request {request.id} ({request.kind.value}) rejected.", soft_wrap=True)


def sweep_command() -> None:
    """Delete conversations older than privacy.retention_days and carry out approved data
    requests (exports land in <data_dir>/exports/); prints the counts."""
    from privacy.retention import exports_dir, sweep

    settings = state.settings()
    with _stores() as (database, sessions):
        result = sweep(
            database, sessions, privacy=settings.privacy, data_dir=settings.data_dir, now=datetime.now(UTC)
        )
    out.print(
        f"Conversations deleted (older than {settings.privacy.retention_days} days): "
        f"{result.conversations_deleted}\n"
        f"Customers forgotten: {result.customers_forgotten}\n"
        f"Exports written: {result.exports_written}"
        + (f" (in {exports_dir(settings.data_dir)})" if result.exports_written else "")
        + f"\nRequests failed: {result.requests_failed}",
        highlight=False,
        soft_wrap=True,
    )
    if result.requests_failed:
        raise typer.Exit(1)
