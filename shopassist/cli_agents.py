"""`shopassist agents ...`: support agent accounts for the agent console."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

agents_app = typer.Typer(help="Support agent accounts (agent console logins).", no_args_is_help=True)


@agents_app.command("add")
def add_agent(
    name: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, '.', '_' or '-'.")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name customers see.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
) -> None:
    """Create an agent account; the password is asked for (twice) unless --password-stdin."""
    from shopassist.cli import _services, out
    from tools.agents import AgentAccounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _services() as services:
        info = AgentAccounts(services.database).add(name, password, display_name=display_name)
    out.print(f"Agent {info.name} ({info.display_name}) created.")


@agents_app.command("list")
def list_agents() -> None:
    """List agent accounts."""
    from shopassist.cli import _services, out
    from tools.agents import AgentAccounts

    with _services() as services:
        for info in AgentAccounts(services.database).list():
            out.print(f"{info.name}\t{info.display_name}\t{'active' if info.active else 'inactive'}")
