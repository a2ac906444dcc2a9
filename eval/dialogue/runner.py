"""Runs dialogue scenarios against the real engine: a fresh copy of the fixture shop per
scenario, a real search index (Chroma + tantivy + MiniLM) over it, the demo shop's policy pages,
and the bundled LLM (or none, for a rules-only run).

``ScenarioHarness`` loads the heavy parts once (embedding model, LLM, a template store) and
gives each scenario its own data directory, so scenarios never see each other's changes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from assistant.engine import Assistant
from assistant.llm.protocol import LLM
from assistant.reply.message import Reply
from core.config import LLMSettings, Settings
from dialogue_rules.intents import IntentMatcher
from eval.dialogue.scenarios import EndState, Scenario, TurnExpect
from eval.fixture_shop import build_fixture_shop
from eval.shops import build_index
from retrieval.embeddings import Embedder
from services import Services
from speech.recognizer import SpeechRecognizer
from store.db import Database
from store.models import Cart, CartStatus, Order, Variant

SECRET = "scenario-secret-key-0123456789"


@dataclass
class ScenarioResult:
    name: str
    category: str
    failures: list[str] = field(default_factory=list)
    transcript: list[tuple[str, str, str | None]] = field(default_factory=list)  # user, bot, template

    @property
    def passed(self) -> bool:
        return not self.failures

    def explain(self) -> str:
        lines = [f"scenario {self.name} ({self.category}):", *[f"  FAIL {f}" for f in self.failures]]
        for user, bot, template in self.transcript:
            lines.append(f"  > {user}")
            lines.append(f"  < [{template}] {bot}")
        return "\n".join(lines)


@dataclass
class DialogueReport:
    results: list[ScenarioResult]

    def by_category(self) -> dict[str, tuple[int, int]]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for result in self.results:
            counts[result.category][0] += int(result.passed)
            counts[result.category][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(counts.items())}

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "total": len(self.results),
            "categories": {k: {"passed": p, "total": t} for k, (p, t) in self.by_category().items()},
            "failures": {r.name: r.failures for r in self.results if not r.passed},
        }


def _snapshot(database: Database) -> tuple[dict[str, str], dict[str, int]]:
    with database.session() as session:
        orders = {o.id: o.status.value for o in session.scalars(select(Order))}
        stock = {v.id: v.stock for v in session.scalars(select(Variant))}
    return orders, stock


class ScenarioHarness:
    def __init__(
        self,
        *,
        embedder: Embedder,
        llm: LLM | None,
        workdir: Path | None = None,
        recognizer: SpeechRecognizer | None = None,
        matcher: IntentMatcher | None = None,
    ) -> None:
        """``recognizer``: also build the voice channel on it (the speech benchmark);
        ``matcher``: share another harness's intent matcher (its examples are embedded once)."""
        self.embedder = embedder
        self.llm = llm
        self.recognizer = recognizer
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="shopassist-scenarios-"))
        self._template = self.workdir / "template"
        self._template.mkdir()
        database = Database(f"sqlite:///{self._template / 'shop.db'}")
        database.migrate()
        with database.transaction() as session:
            build_fixture_shop(session)
        self.initial = _snapshot(database)
        database.dispose()
        self.matcher = matcher or IntentMatcher(embedder=embedder)
        # Build the search index once; each scenario gets a copy of the data directory.
        build_index(self.settings_for(self._template), embedder=embedder)
        self._count = 0

    @property
    def template(self) -> Path:
        """The data directory every run copies: the fixture shop's store and its built index."""
        return self._template

    def close(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def settings_for(self, data_dir: Path, *, database_url: str | None = None) -> Settings:
        """Settings for a copy of the template in ``data_dir``; ``database_url``: the store and
        the conversation store in that database instead of the directory's SQLite files."""
        databases: dict[str, Any] = {}
        if database_url is not None:
            databases = {"store": {"url": database_url}, "sessions": {"url": database_url}}
        return Settings(
            data_dir=data_dir,
            policy={"secret_key": SECRET},
            llm={"enabled": self.llm is not None},
            logging={"level": "WARNING"},
            **databases,
        )

    @contextmanager
    def assistant(
        self, *, llm: LLMSettings | None = None, database_url: str | None = None
    ) -> Iterator[tuple[Assistant, Services]]:
        """A fresh shop, index and conversation store, with the shared models; ``llm``: load
        the model these settings name instead of the harness's own; ``database_url``: a
        database already holding the fixture shop (a PostgreSQL one, say) to use instead of the
        copied SQLite files."""
        self._count += 1
        data_dir = self.workdir / f"run{self._count}"
        shutil.copytree(self._template, data_dir)
        settings = self.settings_for(data_dir, database_url=database_url)
        if llm is not None:
            settings = settings.model_copy(update={"llm": llm})
        services = Services.from_settings(
            settings,
            with_dialogue=True,
            with_voice=self.recognizer is not None,
            embedder=self.embedder,
            llm=self.llm if llm is None else None,
            matcher=self.matcher,
            recognizer=self.recognizer,
        )
        try:
            if services.index is not None:
                services.index.ensure_ready()
            yield services.require_assistant(), services
        finally:
            services.close()
            shutil.rmtree(data_dir, ignore_errors=True)

    def run(self, scenario: Scenario, *, on_turn: Callable[[Reply], None] | None = None) -> ScenarioResult:
        result = ScenarioResult(scenario.name, scenario.category)
        with self.assistant() as (assistant, services):
            session_id = assistant.start_session(channel=scenario.turns[0].channel)
            for number, turn in enumerate(scenario.turns, 1):
                reply = assistant.handle(session_id, turn.user, channel=turn.channel)
                result.transcript.append((turn.user, reply.text, reply.template))
                if on_turn is not None:
                    on_turn(reply)
                result.failures.extend(f"turn {number}: {p}" for p in check_turn(reply, turn.expect))
            state = assistant.store.state(session_id=session_id)
            result.failures.extend(
                f"end: {p}" for p in self.check_end(services.database, session_id, state, scenario.end)
            )
        return result

    def check_end(self, database: Database, session_id: str, state: Any, end: EndState) -> list[str]:
        problems = []
        orders, stock = _snapshot(database)
        for order_id, status in end.orders.items():
            if orders.get(order_id) != status:
                problems.append(f"order {order_id} is {orders.get(order_id)}, expected {status}")
        for variant, units in end.stock.items():
            if stock.get(variant) != units:
                problems.append(f"stock of {variant} is {stock.get(variant)}, expected {units}")
        if end.unchanged:
            changed_orders = {k for k, v in orders.items() if self.initial[0].get(k) != v}
            changed_stock = {k for k, v in stock.items() if self.initial[1].get(k) != v}
            if changed_orders or changed_stock or len(orders) != len(self.initial[0]):
                problems.append(
                    f"store changed: orders {sorted(changed_orders)}, stock {sorted(changed_stock)}"
                )
        if end.cart is not None:
            with database.session() as session:
                cart = session.scalar(
                    select(Cart).where(Cart.session_id == session_id, Cart.status == CartStatus.OPEN)
                )
                lines = {i.variant_id: i.quantity for i in cart.items} if cart is not None else {}
            if lines != end.cart:
                problems.append(f"cart is {lines}, expected {end.cart}")
        if end.mode is not None and state.mode.value != end.mode:
            problems.append(f"mode is {state.mode.value}, expected {end.mode}")
        if end.customer != "__any__" and state.customer_id != end.customer:
            problems.append(f"verified customer is {state.customer_id}, expected {end.customer}")
        return problems


def check_turn(reply: Reply, expect: TurnExpect) -> list[str]:
    problems = []
    if expect.template and reply.template not in expect.template:
        problems.append(
            f"template {reply.template!r}, expected {' or '.join(expect.template)} ({reply.text[:120]!r})"
        )
    calls = [s for s in reply.steps if s.kind == "tool"]
    names = [s.name for s in calls]
    position = 0
    for tool in expect.tools:
        try:
            position = names.index(tool, position) + 1
        except ValueError:
            problems.append(f"tool {tool} not called (in order); called {names}")
            break
    for tool in expect.not_tools:
        if tool in names:
            problems.append(f"tool {tool} must not run; called {names}")
    failed = [s.name for s in calls if not s.ok]
    for tool in expect.failed_tools:
        if tool not in failed:
            problems.append(f"tool {tool} should have been refused; refused: {failed}")
    shown = [p.product_id for p in reply.products]
    for product in expect.products:
        if product not in shown:
            problems.append(f"product {product} not shown; shown {shown}")
    lowered = reply.text.lower()
    for text in expect.text:
        if text.lower() not in lowered:
            problems.append(f"reply lacks {text!r}: {reply.text[:200]!r}")
    for text in expect.not_text:
        if text.lower() in lowered:
            problems.append(f"reply must not contain {text!r}: {reply.text[:200]!r}")
    if expect.mode is not None and reply.mode.value != expect.mode:
        problems.append(f"mode {reply.mode.value}, expected {expect.mode}")
    if expect.silent is not None and reply.silent != expect.silent:
        problems.append(f"silent is {reply.silent}, expected {expect.silent}")
    return problems


def run_dialogue_eval(
    harness: ScenarioHarness,
    scenarios: list[Scenario],
    progress: Callable[[str, int, int], None] | None = None,
) -> DialogueReport:
    results = []
    for index, scenario in enumerate(scenarios):
        if progress is not None:
            progress("scenarios", index, len(scenarios))
        results.append(harness.run(scenario))
    if progress is not None:
        progress("scenarios", len(scenarios), len(scenarios))
    return DialogueReport(results)
