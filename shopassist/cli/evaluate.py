"""`shopassist eval ...`: quality on labelled sets (retrieval queries, dialogue scenarios).

The heavy modules (the embedding model) are imported inside the commands, so
`shopassist --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    from eval.retrieval.runner import EvalReport

from shopassist.cli.console import dialogue_harness, err, out, progress_bar, state, write_json

eval_app = typer.Typer(help="Measure quality on labelled sets.", no_args_is_help=True)


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

    settings = state.settings()
    with progress_bar() as update:
        report = run_retrieval_eval(settings, k=k, query_file=queries or DEFAULT_QUERIES, progress=update)
    if json_out:
        write_json(report.to_dict())
        return
    _print_eval(report)


def _print_eval(report: EvalReport) -> None:

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

    scenarios = load_scenarios()
    if only:
        scenarios = [s for s in scenarios if any(o in s.name or o == s.category for o in only)]
    with dialogue_harness(no_llm) as harness, progress_bar() as update:
        report = run_dialogue_eval(harness, scenarios, progress=update)
    if json_out:
        write_json(report.to_dict())
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


@eval_app.command("tasks")
def eval_tasks(
    split: Annotated[str, typer.Option("--split", help="train (500 tasks) or dev (20).")] = "dev",
    trials: Annotated[int, typer.Option("--trials", min=1, max=16, help="Runs of each task (pass^k).")] = 1,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Rules and templates only.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N tasks.")] = None,
    start: Annotated[int, typer.Option("--start", min=0, help="Skip the tasks before this one.")] = 0,
    data: Annotated[Path, typer.Option("--data", help="tau retail's folder (tasks, shop, policy).")] = Path(
        "../shared/data/tau_retail"
    ),
    failures: Annotated[
        Path | None, typer.Option("--failures", help="Write each failing trial's transcript here as JSON.")
    ] = None,
    customer: Annotated[
        str,
        typer.Option(
            "--customer",
            help="The simulated customer: rules (says the goal in our words) or instruction "
            "(speaks from the task's instruction, as tau-bench's user does).",
        ),
    ] = "rules",
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Task success on the tau retail shop: each task's goal, said by a rule-based simulated
    customer, scored by the shop's end state against the ground truth (pass^1 and pass^k by kind).

    The shop is imported once into a temporary folder; your store is not touched.
    """
    from assistant.llm.backends import create_llm
    from dialogue_rules.intents import IntentMatcher
    from eval.tasks.customer import TauData
    from eval.tasks.runner import TaskRunner, run_tasks
    from eval.tasks.shop import TauShop
    from eval.tasks.tasks import load_tasks
    from eval.tasks.voiced import CUSTOMERS
    from retrieval.service import load_embedder

    if customer not in CUSTOMERS:
        err.print(f"[red]unknown customer {customer!r}[/]: use one of {', '.join(CUSTOMERS)}")
        raise typer.Exit(2)
    settings = state.settings()
    tasks = load_tasks(data, split)[start:][:limit]
    embedder = load_embedder(settings)
    llm = None if no_llm else create_llm(settings.llm)
    shop = TauShop(data, embedder=embedder)
    try:
        runner = TaskRunner(
            shop, TauData.load(data), llm=llm, matcher=IntentMatcher(embedder=embedder), customer=customer
        )
        with progress_bar() as update:
            report = run_tasks(runner, tasks, split=split, trials=trials, progress=update, failures=failures)
    finally:
        shop.close()
        close = getattr(llm, "close", None)
        if close is not None:
            close()
    summary = report.to_dict()
    if json_out:
        write_json(summary)
        return
    pass_k = f"pass^{trials}"
    columns = ("pass^1",) if trials == 1 else ("pass^1", pass_k)
    title = (
        f"tau {split} tasks ({report.llm or 'rules only'}, {trials} trial(s) each, "
        f"{report.customer} customer)"
    )
    table = Table("tasks asking for", "tasks", *columns, title=title)
    for kind, row in summary["by_kind"].items():
        table.add_row(kind, str(row["tasks"]), *(f"{row[c]:.2f}" for c in columns))
    table.add_row("all", str(summary["tasks"]), *(f"{summary[c]:.2f}" for c in columns), end_section=True)
    out.print(table)
    wrong = summary["wrong_proposals"]
    out.print(f"Wrong proposals (confirmations of other arguments than the ground truth's): {wrong}")


@eval_app.command("questions")
def eval_questions(
    catalogs: Annotated[
        list[str] | None,
        typer.Option("--catalog", help="demo, tau, amazon or shopify; repeat for several (default: all)."),
    ] = None,
    count: Annotated[int, typer.Option("--count", min=1, max=500, help="Questions of each kind.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Picks the variants and the wording.")] = 1,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Rules and templates only.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    show_wrong: Annotated[bool, typer.Option("--show-wrong", help="Print each wrong answer.")] = False,
) -> None:
    """Price and availability questions about named variants ("How much is the stainless steel
    1.5 liter Tea Kettle?"), each in a fresh conversation, on the demo shop and imported
    catalogs: right when the reply names the product and states that variant's exact price, or
    its stock.

    Each catalog is built in a temporary folder; your store is not touched.
    """
    import tempfile

    from assistant.llm.backends import create_llm
    from dialogue_rules.intents import IntentMatcher
    from eval.questions.catalogs import CATALOGS, build_shop, catalog, settings_for
    from eval.questions.questions import make_questions
    from eval.questions.runner import ask_all
    from retrieval.service import load_embedder
    from services import Services

    names = catalogs or list(CATALOGS)
    for name in names:
        catalog(name)  # an unknown name fails before anything is built
    settings = state.settings()
    embedder = load_embedder(settings)
    llm = None if no_llm else create_llm(settings.llm)
    matcher = IntentMatcher(embedder=embedder)
    reports = []
    try:
        with tempfile.TemporaryDirectory(prefix="shopassist-questions-") as tmp:
            for name in names:
                data_dir = Path(tmp) / name
                with progress_bar() as update:
                    update(f"building {name}", 0, 1)
                    build_shop(name, data_dir, embedder=embedder)
                    services = Services.from_settings(
                        settings_for(data_dir, llm=llm is not None),
                        with_dialogue=True,
                        embedder=embedder,
                        llm=llm,
                        matcher=matcher,
                    )
                    try:
                        questions = make_questions(services.database, count=count, seed=seed)
                        reports.append(ask_all(services, questions, catalog=name, progress=update))
                    finally:
                        services.close()
    finally:
        close = getattr(llm, "close", None)
        if close is not None:
            close()
    summaries = [r.to_dict() for r in reports]
    if json_out:
        write_json(summaries)
        return
    table = Table(
        "catalog", "price right", "stock right", "all", title=f"Variant questions ({count} of each kind)"
    )
    for s in summaries:
        cells = [f"{s['by_kind'][k]['right']}/{s['by_kind'][k]['asked']}" for k in ("price", "stock")]
        table.add_row(s["catalog"], *cells, f"{s['all']['share']:.2f}")
    out.print(table)
    if show_wrong:
        for s in summaries:
            for wrong in s["wrong"]:
                reply = wrong["reply"][:300]
                out.print(f"[red]{s['catalog']}[/] {wrong['question']!r}: {wrong['problem']}\n    {reply}")


@eval_app.command("choices")
def eval_choices(
    count: Annotated[int, typer.Option("--count", min=1, max=1000, help="Questions asked.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Picks the products, versions and wording.")] = 1,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Rules only.")] = False,
    data: Annotated[
        Path, typer.Option("--data", exists=True, file_okay=False, help="tau retail's data folder.")
    ] = Path("../shared/data/tau_retail"),
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    show_wrong: Annotated[bool, typer.Option("--show-wrong", help="Print each wrong choice.")] = False,
) -> None:
    """Can the bundled model pick among enumerated versions? "Which version do you want? 1. ...
    2. ..." answered by values, one value, position or price: rules alone against the LLM choosing
    a number under a grammar (right, wrong, and no answer, by style)."""
    from assistant.llm.backends import create_llm
    from eval.choices import measure

    settings = state.settings()
    llm = None if no_llm else create_llm(settings.llm)
    try:
        with progress_bar() as update:
            done = 0

            def step() -> None:
                nonlocal done
                done += 1
                update("choices", done, count)

            report, rows = measure(data, count=count, seed=seed, llm=llm, progress=step)
    finally:
        close = getattr(llm, "close", None)
        if close is not None:
            close()
    summary = report.as_dict()
    if json_out:
        write_json(summary)
        return
    who = ["rules", *([] if llm is None else ["llm"])]
    table = Table(
        "answer style", *(f"{w} right / wrong / none" for w in who), title=f"{report.cases} choices"
    )
    for style, counts in summary["by_style"].items():
        cells = [
            f"{counts.get(f'{w}_right', 0)} / {counts.get(f'{w}_wrong', 0)} / {counts.get(f'{w}_none', 0)}"
            for w in who
        ]
        table.add_row(style, *cells)
    out.print(table)
    if show_wrong:
        for case, rules, model in rows:
            for name, chosen in (("rules", rules), ("llm", model)):
                if chosen is not None and chosen != case.wanted:
                    wanted = f"wanted {case.wanted + 1} of {case.labels}"
                    out.print(f"[red]{name}[/] {case.answer!r}: chose {chosen + 1}, {wanted}")
