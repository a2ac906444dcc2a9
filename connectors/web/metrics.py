"""Prometheus metrics of the web service, in a registry of the app's own (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass
class WebMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

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

    def observe_reply(self, reply: object, channel: str, seconds: float) -> None:
        source = getattr(getattr(reply, "source", None), "value", "none")
        mode = getattr(getattr(reply, "mode", None), "value", "bot")
        self.turns.labels(channel=channel, source=source, mode=mode).inc()
        self.turn_seconds.labels(channel=channel).observe(seconds)
        for step in getattr(reply, "steps", ()):
            if step.kind == "tool":
                self.tool_calls.labels(tool=step.name, ok=str(step.ok).lower()).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
