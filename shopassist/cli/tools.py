"""Tool commands: list the commerce tools, run one through the policy layer."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from shopassist.cli.console import command_services, err, out


def list_tools() -> None:
    """List the commerce tools."""
    from tools.registry import default_registry

    table = Table("name", "auth", "confirm", "description")
    for tool in default_registry():
        table.add_row(
            tool.name,
            "yes" if tool.requires_auth else "",
            "yes" if tool.side_effect else "",
            tool.description,
        )
    out.print(table)


def run_tool(
    name: Annotated[str, typer.Argument(help="Tool name (see `shopassist tools`).")],
    args: Annotated[str, typer.Option("--args", help="Arguments as a JSON object.")] = "{}",
    customer: Annotated[
        str | None, typer.Option("--customer", help="Act as this authenticated customer id.")
    ] = None,
    session: Annotated[str, typer.Option("--session", help="Conversation id (carts belong to one).")] = "cli",
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Confirm a side-effect tool (you are the operator saying yes).")
    ] = False,
) -> None:
    """Run one tool through the policy layer and print its result as JSON."""
    from tools.base import ToolContext

    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="--args") from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--args")
    ctx = ToolContext(session_id=session, customer_id=customer, channel="cli")
    with command_services() as services:
        executor = services.executor
        tool = services.registry.get(name)
        if tool.side_effect and confirm:
            pending = executor.prepare(name, parsed, ctx=ctx)
            err.print(f"Confirmed: {pending.summary}")
            ctx = ctx.confirmed(pending.token)
        outcome = executor.run(name, parsed, ctx=ctx)
    sys.stdout.write(json.dumps(outcome.to_dict(), indent=2) + "\n")
