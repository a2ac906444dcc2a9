"""What every command shares: the consoles, the settings loaded once at start, the services of
one command, and the progress bar."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.config import Settings, load_settings
from core.logging import configure_logging
from services import Services
from store.failures import check_writable

if TYPE_CHECKING:
    from eval.dialogue.runner import ScenarioHarness

out = Console()
err = Console(stderr=True)


class State:
    config: Path | None = None
    _settings: Settings | None = None

    def load(self, config: Path | None) -> Settings:
        """Load and validate the config once, at start: a bad key fails every command."""
        self.config = config
        self._settings = load_settings(config)
        configure_logging(self._settings.logging)
        return self._settings

    def settings(self) -> Settings:
        return self._settings if self._settings is not None else self.load(self.config)


state = State()


def require_writable_stores(settings: Settings) -> None:
    """Stop a command that writes (``serve``, ``migrate``) at once, with one line naming the
    database and the reason, when the store or the conversation store cannot be written."""
    check_writable(settings.database_url, what="store")
    check_writable(settings.sessions_url, what="sessions")


@contextmanager
def command_services(*, with_index: bool = False) -> Iterator[Services]:
    services = Services.from_settings(state.settings(), with_index=with_index)
    try:
        yield services
    finally:
        services.close()


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar; the yielded callback takes (stage, done, total)."""
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield update


def write_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@contextmanager
def dialogue_harness(no_llm: bool, *, voice: bool = False) -> Iterator[ScenarioHarness]:
    """The scenario harness over the fixture shop, with the configured LLM unless ``no_llm``, and
    with ``voice`` the configured speech recognizer; both are closed at the end."""
    from assistant.llm.backends import create_llm
    from eval.dialogue.runner import ScenarioHarness
    from retrieval.service import load_embedder
    from speech.recognizer import WhisperRecognizer

    settings = state.settings()
    llm = None if no_llm else create_llm(settings.llm)
    recognizer = WhisperRecognizer(settings.speech) if voice else None
    harness = ScenarioHarness(embedder=load_embedder(settings), llm=llm, recognizer=recognizer)
    try:
        yield harness
    finally:
        harness.close()
        close = getattr(llm, "close", None)
        if close is not None:
            close()
