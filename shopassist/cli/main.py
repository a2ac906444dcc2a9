"""The ``shopassist`` command line: the commands, grouped by what they act on, registered here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.errors import ShopassistError
from shopassist.cli import (
    agents,
    bench,
    chat,
    copy_store,
    customers,
    evaluate,
    rasa,
    recommend,
    search,
    serve,
    shop,
    telegram,
    tools,
    voice,
)
from shopassist.cli.console import err, state

app = typer.Typer(
    help="Shopassist: a self-hosted conversational shopping assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for name, command in (
    ("migrate", shop.migrate),
    ("copy-store", copy_store.copy_store),
    ("demo-data", shop.demo_data),
    ("import", shop.import_data),
    ("index", search.index_command),
    ("search", search.search_command),
    ("tools", tools.list_tools),
    ("tool", tools.run_tool),
    ("serve", serve.serve),
    ("chat", chat.chat),
    ("telegram", telegram.telegram),
    ("sweep", customers.sweep_command),
    ("rasa-actions", rasa.rasa_actions),
    ("rasa-export", rasa.rasa_export),
):
    app.command(name)(command)
app.add_typer(agents.agents_app, name="agents")
app.add_typer(customers.customers_app, name="customers")
evaluate.eval_app.command("speech")(voice.eval_speech)
app.add_typer(evaluate.eval_app, name="eval")
app.add_typer(bench.bench_app, name="bench")
app.add_typer(recommend.recommend_app, name="recommend")


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="config.yaml to load (default: $SHOPASSIST_CONFIG or ./config.yaml)."
        ),
    ] = None,
) -> None:
    state.load(config)


def main() -> None:
    """The console script. The process environment is set here, at start, never on import:
    models load from installed packages, never from a hub; python-telegram-bot gives time periods
    as timedelta (its coming default), so it does not warn on every flood-control error."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        app()
    except ShopassistError as exc:
        err.print(f"[red]error[/] ({exc.code}): {exc.message}", soft_wrap=True, markup=True, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
