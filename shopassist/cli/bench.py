"""`shopassist bench ...`: speed on this machine (retrieval, dialogue turns, the web API,
speech). Benchmarks print figures for README; they are never timed unit tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    from eval.retrieval.bench import BenchReport

from shopassist.cli.console import dialogue_harness, out, progress_bar, state, write_json

bench_app = typer.Typer(help="Measure speed on this machine (benchmarks, not tests).", no_args_is_help=True)


@bench_app.command("retrieval")
def bench_retrieval(
    products: Annotated[
        list[int] | None,
        typer.Option(
            "--products", min=2, help="Catalog size to benchmark; repeat for several. Default: 2000."
        ),
    ] = None,
    queries: Annotated[
        int | None, typer.Option("--queries", min=1, help="Use N of the labelled queries (default: all).")
    ] = None,
    timings: Annotated[
        int, typer.Option("--timings", min=1, help="At least this many timed searches.")
    ] = 200,
    repetitions: Annotated[
        int, typer.Option("--repetitions", min=1, help="Repetitions of each one-product update.")
    ] = 20,
    work_dir: Annotated[
        Path | None,
        typer.Option(
            "--work-dir",
            exists=True,
            file_okay=False,
            help="Where the temporary shops go (default: system temp).",
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep each size's shop and index (the report says where).")
    ] = False,
    reuse: Annotated[
        Path | None,
        typer.Option(
            "--reuse",
            exists=True,
            file_okay=False,
            help="Time queries and updates again on a shop an earlier --keep run left, without "
            "building (no build figures; --products is ignored; the updates change that shop).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Index build throughput, hybrid query latency and one-product update time per catalog size.

    Each size gets a fresh demo shop (seed 7) and index in a temporary directory; your store is not touched.

    A 100,000-product build embeds 100,000 texts: expect more than an hour on 2 cores.
    """
    from eval.retrieval.bench import KeptShopError, run_benchmark

    settings = state.settings()
    with progress_bar() as update:
        try:
            report = run_benchmark(
                settings,
                products or [2000],
                max_queries=queries,
                min_timings=timings,
                update_repetitions=repetitions,
                progress=update,
                work_dir=work_dir,
                keep=keep,
                reuse=reuse,
            )
        except KeptShopError as exc:
            raise typer.BadParameter(str(exc), param_hint="--reuse") from exc
    if json_out:
        write_json(report.to_dict())
        return
    _print_bench(report)


def _print_bench(report: BenchReport) -> None:

    table = Table(
        "products",
        "build s",
        "build products/s",
        "queries",
        "p50 ms",
        "p95 ms",
        "cached p50 ms",
        "embed p50 ms",
        "price upd ms",
        "title upd ms",
        "delete ms",
        title=f"Search index benchmark ({report.embedding_model}, {report.cpu_count} CPUs)",
    )
    for size in report.sizes:
        table.add_row(
            f"{size.products:,}",
            "reused" if size.build_seconds is None else f"{size.build_seconds:.1f}",
            "-" if size.build_products_per_second is None else f"{size.build_products_per_second:.1f}",
            f"{size.query_timings} ({size.distinct_queries} distinct)",
            f"{size.query_p50_ms:.1f}",
            f"{size.query_p95_ms:.1f}",
            f"{size.cached_query_p50_ms:.1f}",
            f"{size.embed_p50_ms:.1f}",
            f"{size.update_price_p50_ms:.1f}",
            f"{size.update_title_p50_ms:.1f}",
            f"{size.delete_p50_ms:.1f}",
        )
    out.print(table)
    targets = Table("products", "measure", "value ms", "target ms", "result", title="Targets")
    for size in report.sizes:
        for check in size.checks():
            verdict = "[green]PASS[/]" if check.passed else "[red]MISS[/]"
            targets.add_row(
                f"{size.products:,}", check.name, f"{check.value_ms:.1f}", f"< {check.target_ms:.0f}", verdict
            )
    out.print(targets)
    out.print(
        "Query timings include the query embedding; 'cached' reuses the embedder's query cache; "
        "'embed' is the query embedding alone, the same work at any catalog size: compare runs "
        "(and machines) by it."
    )
    for size in report.sizes:
        if size.kept_at and size.build_seconds is None:
            out.print(f"Timed again on the shop kept in {size.kept_at}: reused, nothing was built")
        elif size.kept_at:
            out.print(f"The {size.products:,}-product shop was kept in {size.kept_at}")


@bench_app.command("dialogue")
def bench_dialogue(
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Timed rounds over the turn set.")] = 5,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Time rule-handled turns only.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """p50/p95 turn latency: rule-handled turns and LLM-phrased turns (fixture shop, real models)."""
    from eval.dialogue.bench import run_dialogue_bench

    with dialogue_harness(no_llm) as harness, progress_bar() as update:
        report = run_dialogue_bench(harness, rounds=rounds, progress=update)
    if json_out:
        write_json(report.to_dict())
        return
    table = Table(
        "turns",
        "n",
        "p50 ms",
        "p95 ms",
        "mean ms",
        "LLM-phrased",
        "target p50",
        title=f"Dialogue turn latency ({os.cpu_count()} CPUs, LLM: {report.llm or 'off'})",
    )
    for series, target in ((report.rule, 30.0), (report.phrased, 1200.0)):
        if series is None:
            continue
        d = series.to_dict()
        verdict = "[green]PASS[/]" if d["p50_ms"] < target else "[red]MISS[/]"
        table.add_row(
            series.name,
            str(d["turns"]),
            f"{d['p50_ms']:.1f}",
            f"{d['p95_ms']:.1f}",
            f"{d['mean_ms']:.1f}",
            str(d["llm_phrased"]),
            f"< {target:.0f} {verdict}",
        )
    out.print(table)


@bench_app.command("web")
def bench_web(
    sessions: Annotated[
        int, typer.Option("--sessions", min=1, max=1000, help="Concurrent WebSocket customers.")
    ] = 50,
    turns: Annotated[int, typer.Option("--turns", min=1, max=100, help="Turns each customer sends.")] = 10,
    llm: Annotated[bool, typer.Option("--llm", help="Use the configured LLM (default: rules only).")] = False,
    think_ms: Annotated[
        int,
        typer.Option("--think-ms", min=0, max=600_000, help="Pause between a reply and the next message."),
    ] = 0,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Server processes (shopassist serve --workers).")
    ] = 1,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres",
            help="A PostgreSQL server URL (postgresql+psycopg://...): the shop and its conversations "
            "in a database of the benchmark's own there, dropped afterwards (default: SQLite files).",
        ),
    ] = None,
    redis: Annotated[
        str | None,
        typer.Option("--redis", help="A Redis URL for rate limits and live events (default: in memory)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Concurrent WebSocket conversations against a real `shopassist serve` process over
    loopback: turns/s, latency, errors, lost messages, and with --llm how replies were made
    (model-phrased, template, model busy)."""
    from eval.web.bench import run_web_bench

    with dialogue_harness(True) as harness:
        report = run_web_bench(
            harness,
            sessions=sessions,
            turns=turns,
            think_ms=think_ms,
            workers=workers,
            llm=llm,
            settings=state.settings(),
            config=state.config,
            postgres=postgres,
            redis=redis,
        ).to_dict()
    if json_out:
        write_json(report)
        return
    table = Table(
        "measure",
        "value",
        title=f"Web channel load ({sessions} WebSocket sessions x {turns} turns, "
        f"{workers} server process(es), {report['engines']}, {os.cpu_count()} CPUs, "
        f"LLM: {'on' if llm else 'off'})",
    )
    for key in (
        "turns",
        "seconds",
        "turns_per_second",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        "think_ms",
        "error_count",
        "errors",
        "lost_replies",
        "missing_in_log",
        "replies_by_source",
        "llm_calls",
        "llm_busy_fallbacks",
    ):
        table.add_row(key, str(report[key]))
    out.print(table)
    if report["errors"] or report["lost_replies"] or report["missing_in_log"]:
        raise typer.Exit(1)


@bench_app.command("speech")
def bench_speech(
    rounds: Annotated[
        int, typer.Option("--rounds", min=1, max=50, help="Timed rounds over the utterances.")
    ] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Speech recognition real-time factor and end-of-speech-to-first-reply-audio latency over
    /ws/speech (fixture shop, rules only, bundled Whisper tiny.en, espeak-ng)."""
    from eval.speech.bench import run_speech_bench

    with dialogue_harness(True, voice=True) as harness, progress_bar() as update:
        report = run_speech_bench(harness, rounds=rounds, progress=update).to_dict()
    if json_out:
        write_json(report)
        return
    table = Table(
        "measure",
        "p50",
        "p95",
        title=f"Speech ({report['utterances']} utterances, {report['mean_audio_seconds']} s on average)",
    )
    table.add_row("recognition real-time factor", str(report["rtf_p50"]), str(report["rtf_p95"]))
    for key in ("recognition_ms", "end_to_transcript_ms", "end_to_reply_text_ms", "end_to_first_audio_ms"):
        table.add_row(key, str(report[key]["p50"]), str(report[key]["p95"]))
    out.print(table)
    out.print(
        f"partials: {report['partials']}, errors: {report['errors']}, load average: {report['load_average']}"
    )
    if report["errors"]:
        raise typer.Exit(1)
