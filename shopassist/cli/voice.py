"""Voice channel commands: ``shopassist eval speech`` (registered in the ``eval`` group)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shopassist.cli.console import err, out, progress_bar, state, write_json


def eval_speech(
    catalogs: Annotated[
        list[str] | None,
        typer.Option(
            "--catalog", help="demo, tau, amazon or shopify; repeat for several (default: demo, tau)."
        ),
    ] = None,
    voices: Annotated[
        list[int] | None,
        typer.Option("--voice", help="Only these voices of the set, by number (1-8; default: all)."),
    ] = None,
    count: Annotated[int, typer.Option("--count", min=10, max=500, help="Shopping questions.")] = 60,
    latency: Annotated[bool, typer.Option("--latency/--no-latency", help="Time replies too.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    show_misses: Annotated[bool, typer.Option("--show-misses", help="Print each miss.")] = False,
) -> None:
    """How well the voice channel hears the shop's words: word error rate, product-term hit
    rate, order-id and email exact match per voice, and end of speech to first reply audio.

    Spoken test set: shopping questions naming each catalog's product types, brands and colors,
    order ids and emails read out digit by digit, with "double"/"triple" and "W as in William",
    synthesised with espeak-ng (en-us, en-gb, en-us+f3 at 140 and 180 wpm, two with noise at
    20 dB SNR). Each catalog is built in a temporary folder (rules only, no LLM); your store is
    not touched. The speech is synthetic.
    """
    import tempfile

    from eval.questions.catalogs import CATALOGS, build_shop, catalog, settings_for
    from eval.speech.evaluate import run_speech_eval
    from eval.speech.spoken import voices as all_voices
    from retrieval.service import load_embedder
    from services import Services
    from speech.recognizer import WhisperRecognizer

    names = catalogs or ["demo", "tau"]
    for name in names:
        catalog(name)  # an unknown name fails before anything is built
    known = all_voices()
    for number in voices or []:
        if not 1 <= number <= len(known):
            raise typer.BadParameter(f"voices are numbered 1 to {len(known)}", param_hint="--voice")
    chosen = [known[n - 1] for n in voices] if voices else known
    settings = state.settings()
    embedder = load_embedder(settings)
    recognizer = WhisperRecognizer(settings.speech)
    reports: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="shopassist-speech-") as tmp:
        for name in names:
            data_dir = Path(tmp) / name
            with progress_bar() as update:
                update(f"building {name}", 0, 1)
                build_shop(name, data_dir, embedder=embedder)
                built = settings_for(data_dir).model_copy(update={"speech": settings.speech})
                services = Services.from_settings(
                    built, with_voice=True, embedder=embedder, recognizer=recognizer
                )
                try:
                    if services.voice is None:
                        raise typer.Exit(
                            code=_fail(f"the voice channel did not load: {services.speech_health}")
                        )
                    report = run_speech_eval(
                        services.voice,
                        services.database,
                        catalog=name,
                        voices=chosen,
                        count=count,
                        latency=latency,
                        progress=update,
                    )
                    reports.append(report.to_dict())
                finally:
                    services.close()
    if json_out:
        write_json(reports)
        return
    _print(reports, show_misses=show_misses, catalogs=CATALOGS)


def _fail(message: str) -> int:
    err.print(f"[red]{message}[/]")
    return 1


def _print(reports: list[dict[str, Any]], *, show_misses: bool, catalogs: dict[str, Any]) -> None:
    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for report in reports:
        table = Table(
            "voice",
            "WER",
            "product term",
            "brand/color",
            "order id",
            "email",
            title=f"{report['catalog']}: {catalogs[report['catalog']].description} (synthetic speech)",
        )
        for v in report["voices"]:
            table.add_row(
                v["voice"],
                cell(v["wer"]),
                cell(v["product_term_hit_rate"]),
                cell(v["brand_color_hit_rate"]),
                cell(v["order_id_exact"]),
                cell(v["email_exact"]),
            )
        table.add_row(
            "all",
            "",
            cell(report["product_term_hit_rate"]),
            "",
            cell(report["order_id_exact"]),
            cell(report["email_exact"]),
        )
        out.print(table)
        latency = report["first_reply_audio_ms"]
        if latency["n"]:
            out.print(f"end of speech to first reply audio: p50 {latency['p50']} ms, p95 {latency['p95']} ms")
        if show_misses:
            for v in report["voices"]:
                for miss in v["misses"]:
                    out.print(f"[red]{v['voice']}[/] said {miss['said']!r}\n    heard {miss['heard']!r}")
