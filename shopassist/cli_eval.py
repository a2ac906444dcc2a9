"""`shopassist eval ...` and `shopassist bench ...` commands.

The heavy modules (the embedding model, scikit-learn) are imported inside the commands, so
`shopassist --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

if TYPE_CHECKING:
    from eval.retrieval.bench import BenchReport
    from eval.retrieval.runner import EvalReport

eval_app = typer.Typer(help="Measure quality on labelled sets.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed on this machine (benchmarks, not tests).", no_args_is_help=True)


def _write_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@eval_app.command("retrieval")
def eval_retrieval(
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (with per-query scores).")
    ] = False,
    k: Annotated[
        int, typer.Option("--k", min=1, max=100, help="Cut-off of recall@k, MRR@k and nDCG@k.")
    ] = 10,
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries", exists=True, dir_okay=False, help="Labelled query file (default: the demo shop's)."
        ),
    ] = None,
) -> None:
    """Search quality of bm25, dense and hybrid on the labelled demo-shop queries.

    Uses the configured store and its index (built or synced first).

    The queries are labelled for the demo shop: run `shopassist demo-data` first.
    """
    from eval.retrieval.labels import DEFAULT_QUERIES
    from eval.retrieval.runner import run_retrieval_eval
    from shopassist.cli import progress_bar, state

    settings = state.settings()
    with progress_bar() as update:
        report = run_retrieval_eval(settings, k=k, query_file=queries or DEFAULT_QUERIES, progress=update)
    if json_out:
        _write_json(report.to_dict())
        return
    _print_eval(report)


def _print_eval(report: EvalReport) -> None:
    from shopassist.cli import err, out

    k = report.k
    summary = Table(
        "mode",
        f"recall@{k}",
        f"MRR@{k}",
        f"nDCG@{k}",
        "ms/query (warm)",
        title=f"Product search, {report.queries} labelled queries, {report.products} products",
    )
    for mode in report.modes:
        s = mode.overall
        summary.add_row(
            mode.mode, f"{s.recall:.3f}", f"{s.mrr:.3f}", f"{s.ndcg:.3f}", f"{mode.mean_query_ms:.1f}"
        )
    out.print(summary)
    by_type = Table("type", "n", "mode", f"recall@{k}", f"MRR@{k}", f"nDCG@{k}", title="By query type")
    for kind, count in report.queries_by_type.items():
        for position, mode in enumerate(report.modes):
            s = mode.by_type[kind]
            by_type.add_row(
                kind if position == 0 else "",
                str(count) if position == 0 else "",
                mode.mode,
                f"{s.recall:.3f}",
                f"{s.mrr:.3f}",
                f"{s.ndcg:.3f}",
                end_section=position == len(report.modes) - 1,
            )
    out.print(by_type)
    out.print(f"Relevant = grade >= 2 for recall and MRR; nDCG uses grades 0-3. Index: {report.index_state}.")
    if report.skipped:
        err.print(
            f"[yellow]{len(report.skipped)} queries have no relevant product in this store and were "
            f"skipped[/]: {', '.join(report.skipped[:10])}{' ...' if len(report.skipped) > 10 else ''}"
        )


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
    from shopassist.cli import progress_bar, state

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
        _write_json(report.to_dict())
        return
    _print_bench(report)


def _print_bench(report: BenchReport) -> None:
    from shopassist.cli import out

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


def _dialogue_harness(no_llm: bool) -> Any:
    from eval.dialogue.runner import ScenarioHarness
    from shopassist.cli import state

    settings = state.settings()
    from assistant.llm import create_llm
    from retrieval.service import load_embedder

    llm = None if no_llm else create_llm(settings.llm)
    return ScenarioHarness(embedder=load_embedder(settings), llm=llm), llm


@eval_app.command("dialogue")
def eval_dialogue(
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Rules and templates only.")] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run scenarios whose name or category contains this.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print failing transcripts.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Pass rate of the dialogue scenarios (eval/scenarios/*.yaml), per category.

    Each scenario gets a fresh copy of the fixture shop with its own index and conversation
    store; your store is not touched. Uses the configured LLM (llm.*) unless --no-llm.
    """
    from eval.dialogue.runner import run_dialogue_eval
    from eval.dialogue.scenarios import load_scenarios
    from shopassist.cli import err, out, progress_bar

    scenarios = load_scenarios()
    if only:
        scenarios = [s for s in scenarios if any(o in s.name or o == s.category for o in only)]
    harness, llm = _dialogue_harness(no_llm)
    try:
        with progress_bar() as update:
            report = run_dialogue_eval(harness, scenarios, progress=update)
    finally:
        harness.close()
        if llm is not None and hasattr(llm, "close"):
            llm.close()
    if json_out:
        _write_json(report.to_dict())
    else:
        table = Table(
            "category",
            "passed",
            "total",
            "pass rate",
            title=f"Dialogue scenarios ({'rules only' if no_llm else 'with LLM'})",
        )
        for category, (passed, total) in report.by_category().items():
            table.add_row(category, str(passed), str(total), f"{passed / total:.0%}")
        table.add_row(
            "all",
            str(report.passed),
            str(len(report.results)),
            f"{report.passed / max(len(report.results), 1):.0%}",
            end_section=True,
        )
        out.print(table)
        for result in report.results:
            if not result.passed:
                err.print(
                    result.explain() if verbose else f"[red]FAIL[/] {result.name}: {result.failures[0]}"
                )
    if report.passed != len(report.results):
        raise typer.Exit(1)


@bench_app.command("dialogue")
def bench_dialogue(
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Timed rounds over the turn set.")] = 5,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Time rule-handled turns only.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """p50/p95 turn latency: rule-handled turns and LLM-phrased turns (fixture shop, real models)."""
    from eval.dialogue.bench import run_dialogue_bench
    from shopassist.cli import out, progress_bar

    harness, llm = _dialogue_harness(no_llm)
    try:
        with progress_bar() as update:
            report = run_dialogue_bench(harness, rounds=rounds, progress=update)
    finally:
        harness.close()
        if llm is not None and hasattr(llm, "close"):
            llm.close()
    if json_out:
        _write_json(report.to_dict())
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
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Concurrent WebSocket conversations over loopback: turns/s, latency, errors, lost messages."""
    from eval.web.bench import run_web_bench
    from shopassist.cli import out

    harness, model = _dialogue_harness(not llm)
    try:
        report = run_web_bench(harness, sessions=sessions, turns=turns).to_dict()
    finally:
        harness.close()
        if model is not None and hasattr(model, "close"):
            model.close()
    if json_out:
        _write_json(report)
        return
    table = Table(
        "measure", "value", title=f"Web channel load ({sessions} WebSocket sessions x {turns} turns)"
    )
    for key in (
        "turns",
        "seconds",
        "turns_per_second",
        "p50_ms",
        "p95_ms",
        "errors",
        "lost_replies",
        "missing_in_log",
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
    from shopassist.cli import out, progress_bar

    harness, _model = _dialogue_harness(True)
    try:
        with progress_bar() as update:
            report = run_speech_bench(harness, rounds=rounds, progress=update).to_dict()
    finally:
        harness.close()
    if json_out:
        _write_json(report)
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
