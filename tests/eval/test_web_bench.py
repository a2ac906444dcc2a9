"""`shopassist bench web` end to end at a small size: a real `shopassist serve` process over a copy
of the fixture shop, real WebSocket customers, and the conversation log checked afterwards."""

from __future__ import annotations

import pytest
import redis
import sqlalchemy as sa

from eval.dialogue.runner import ScenarioHarness
from eval.web.bench import TURNS, run_web_bench
from tests.backends import REDIS_URL, postgres_reachable


@pytest.mark.slow
def test_every_turn_is_answered_and_logged(harness: ScenarioHarness) -> None:
    bench = run_web_bench(harness, sessions=3, turns=4, workers=1)
    report = bench.to_dict()
    assert len(bench.latencies_ms) == 12 and all(ms > 0 for ms in bench.latencies_ms)
    assert report["error_count"] == 0 and report["lost_replies"] == 0 and report["missing_in_log"] == 0
    assert report["replies_by_source"] == {"template": 12}  # rules only: no model
    assert report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
    assert report["workers"] == 1 and len(TURNS) >= 4


@pytest.mark.slow
def test_two_worker_processes_on_postgresql_and_redis(harness: ScenarioHarness) -> None:
    """`--workers 2 --postgres URL --redis URL`: the shop in a database of the benchmark's own,
    dropped afterwards, and its Redis keys deleted."""
    server = postgres_reachable()
    bench = run_web_bench(harness, sessions=4, turns=2, workers=2, postgres=server, redis=REDIS_URL)
    report = bench.to_dict()
    assert report["turns"] == 8 and report["error_count"] == 0 and report["engines"] == "PostgreSQL + Redis"
    assert report["lost_replies"] == 0 and report["missing_in_log"] == 0
    # its own database and keys are gone (another run on the same servers may hold others)
    assert bench.database is not None and bench.database.startswith("shopassist_bench_")
    assert bench.key_prefix is not None and bench.key_prefix.startswith("shopassist-bench-")
    engine = sa.create_engine(server)
    with engine.connect() as conn:
        left = sa.text("SELECT datname FROM pg_database WHERE datname = :name")
        assert conn.execute(left, {"name": bench.database}).all() == []
    engine.dispose()
    client = redis.Redis.from_url(REDIS_URL)
    assert list(client.scan_iter(match=f"{bench.key_prefix}*")) == []
    client.close()
