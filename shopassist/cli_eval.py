"""`shopassist eval ...` and `shopassist bench ...` commands."""

from __future__ import annotations

import typer

eval_app = typer.Typer(help="Measure quality on labelled sets.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed on this machine (benchmarks, not tests).", no_args_is_help=True)
