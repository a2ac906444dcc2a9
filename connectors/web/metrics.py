"""Prometheus metrics of the web service, in a registry of the app's own (no module globals)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from assistant.llm.admission import AdmittedLLM


class LLMGateCollector(Collector):
    """The LLM admission gate's counts, read from the gate at each scrape (it keeps them: the
    gate sits below the web layer and knows nothing of Prometheus)."""

    def __init__(self, gate: AdmittedLLM) -> None:
        self.gate = gate

    def collect(self) -> Iterator[CounterMetricFamily]:
        counts = self.gate.counts()
        for outcome, help_text in (
            ("admitted", "LLM calls admitted within the queue budget (chat: commands; stream: phrasing)."),
            ("refused", "LLM calls refused: the model stayed busy past llm.queue_budget_ms."),
        ):
            family = CounterMetricFamily(f"shopassist_llm_{outcome}", help_text, labels=["call"])
            for call in ("chat", "stream"):
                family.add_metric([call], counts[outcome].get(call, 0))
            yield family


@dataclass
class WebMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    _llm_collector: LLMGateCollector | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        r = self.registry
        self.turns = Counter(
            "shopassist_turns", "Customer turns handled.", ["channel", "source", "mode"], registry=r
        )
        self.turn_seconds = Histogram(
            "shopassist_turn_seconds",
            "Time to answer one customer turn.",
            ["channel"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
            registry=r,
        )
        self.tool_calls = Counter(
            "shopassist_tool_calls", "Tool calls made by the engine.", ["tool", "ok"], registry=r
        )
        self.errors = Counter("shopassist_errors", "Errors returned to clients.", ["code"], registry=r)
        self.active_sessions = Gauge(
            "shopassist_active_websockets", "Open chat WebSocket connections.", registry=r
        )
        self.requests = Counter(
            "shopassist_http_requests", "HTTP requests.", ["method", "route", "status"], registry=r
        )
        self.rate_limit_fallbacks = Counter(
            "shopassist_rate_limit_fallbacks",
            "Rate-limit checks counted in this process's memory because Redis failed (fail open).",
            ["scope"],
            registry=r,
        )

    def observe_reply(self, reply: object, channel: str, seconds: float) -> None:
        source = getattr(getattr(reply, "source", None), "value", "none")
        mode = getattr(getattr(reply, "mode", None), "value", "bot")
        self.turns.labels(channel=channel, source=source, mode=mode).inc()
        self.turn_seconds.labels(channel=channel).observe(seconds)
        for step in getattr(reply, "steps", ()):
            if step.kind == "tool":
                self.tool_calls.labels(tool=step.name, ok=str(step.ok).lower()).inc()

    def watch_llm(self, gate: AdmittedLLM | None) -> None:
        """Export the admission gate's counts (``shopassist_llm_admitted_total`` and
        ``shopassist_llm_refused_total``) from now on."""
        if self._llm_collector is not None:  # the app started again (tests): the new gate counts
            self.registry.unregister(self._llm_collector)
            self._llm_collector = None
        if gate is not None:
            self._llm_collector = LLMGateCollector(gate)
            self.registry.register(self._llm_collector)

    def render(self) -> bytes:
        return generate_latest(self.registry)
