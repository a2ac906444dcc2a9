"""`shopassist chat`: talk to the assistant in the terminal, against the configured shop.

Lines starting with ``/`` are commands: ``/reset`` starts a new conversation, ``/debug``
toggles showing each turn's intent, slots and tool calls, ``/quit`` leaves. With a terminal,
input has readline editing and a history file in the data directory; piped input is read
line by line (handy for scripts and tests).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from shopassist.cli.console import err, out, progress_bar, state

HISTORY_FILE = "chat_history"


def _readline(history: Path) -> Any:
    try:
        import readline
    except ImportError:  # pragma: no cover - not on Debian
        return None
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(1000)
    return readline


def _show_debug(out: Any, reply: Any, state: Any) -> None:
    out.print(
        f"[dim]intent={reply.intent} template={reply.template} "
        f"source={reply.source.value} mode={reply.mode.value}[/]"
    )
    for step in reply.steps:
        mark = "ok" if step.ok else "FAILED"
        detail = ", ".join(f"{k}={v}" for k, v in step.detail.items())
        out.print(f"[dim]  {step.kind} {step.name} {mark} {escape(detail)[:300]}[/]")
    slots = state.slots.model_dump(mode="json", exclude_defaults=True)
    out.print(f"[dim]  slots: {escape(str(slots))[:600]}[/]")


def chat(
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="Rules and templates only (llm.enabled: false).")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Start with /debug on.")] = False,
    session: Annotated[str | None, typer.Option("--session", help="Continue this conversation id.")] = None,
) -> None:
    """Chat with the assistant in the terminal (/reset, /debug, /quit)."""
    from services import Services

    settings = state.settings()
    if no_llm:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"enabled": False})})
    services = Services.from_settings(settings, with_dialogue=True)
    try:
        if services.index is not None:
            with progress_bar() as update:
                services.index.ensure_ready(update)
        assistant = services.require_assistant()
        interactive = sys.stdin.isatty()
        history = Path(settings.data_dir) / HISTORY_FILE
        readline = _readline(history) if interactive else None
        sid = session or assistant.start_session(channel="cli")
        out.print(
            f"[bold]{escape(settings.shop.name)}[/] assistant. /reset, /debug, /quit. Conversation {sid}."
        )
        while True:
            try:
                line = input("you> ") if interactive else sys.stdin.readline()
            except (EOFError, KeyboardInterrupt):
                break
            if not interactive and not line:
                break
            text = line.rstrip("\n")
            command = text.strip().lower()
            if command in ("/quit", "/exit"):
                break
            if command == "/reset":
                sid = assistant.start_session(channel="cli")
                out.print(f"[dim]new conversation {sid}[/]")
                continue
            if command == "/debug":
                debug = not debug
                out.print(f"[dim]debug {'on' if debug else 'off'}[/]")
                continue
            if not text.strip():
                continue
            try:
                reply = assistant.handle(sid, text, channel="cli")
            except Exception as exc:
                err.print(f"[red]error[/]: {escape(str(exc))}")
                continue
            if reply.silent:
                out.print("[dim](a person from the support team has this conversation)[/]")
            else:
                out.print(f"bot> {escape(reply.text)}")
            if reply.quick_replies:
                out.print("[dim]  [" + "] [".join(escape(q.label) for q in reply.quick_replies) + "][/]")
            if debug:
                _show_debug(out, reply, assistant.store.state(session_id=sid))
        if readline is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(history)
    finally:
        services.close()
