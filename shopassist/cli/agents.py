"""`shopassist agents ...`: support agent accounts for the agent console."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shopassist.cli.console import command_services, out

agents_app = typer.Typer(help="Support agent accounts (agent console logins).", no_args_is_help=True)


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]
AgentName = Annotated[str, typer.Argument(help="The agent's login name.")]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@agents_app.command("add")
def add_agent(
    name: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, '.', '_' or '-'.")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name customers see.")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an agent account; the password is asked for (twice) unless --password-stdin."""
    from support.accounts import AgentAccounts

    password = _read_password(password_stdin)
    with command_services() as services:
        info = AgentAccounts(services.database).add(name, password, display_name=display_name)
    out.print(f"Agent {info.name} ({info.display_name}) created.")


@agents_app.command("set-password")
def set_password(name: AgentName, password_stdin: PasswordStdin = False) -> None:
    """Give an agent a new password; every console login of theirs ends at once."""
    from support.accounts import AgentAccounts

    password = _read_password(password_stdin)
    with command_services() as services:
        info = AgentAccounts(services.database).set_password(name, password)
    out.print(f"Agent {info.name}: new password set; their console logins have ended.")


@agents_app.command("disable")
def disable_agent(name: AgentName) -> None:
    """Disable an account: it can no longer log in, and its console logins end at once."""
    from support.accounts import AgentAccounts

    with command_services() as services:
        info = AgentAccounts(services.database).set_active(name, False)
    out.print(f"Agent {info.name} disabled; their console logins have ended.")


@agents_app.command("enable")
def enable_agent(name: AgentName) -> None:
    """Enable a disabled account again (the agent logs in anew)."""
    from support.accounts import AgentAccounts

    with command_services() as services:
        info = AgentAccounts(services.database).set_active(name, True)
    out.print(f"Agent {info.name} enabled.")


@agents_app.command("list")
def list_agents() -> None:
    """List agent accounts."""
    from support.accounts import AgentAccounts

    with command_services() as services:
        for info in AgentAccounts(services.database).list():
            out.print(f"{info.name}\t{info.display_name}\t{'active' if info.active else 'inactive'}")
