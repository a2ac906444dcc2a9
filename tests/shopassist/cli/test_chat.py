"""`shopassist chat`, `eval dialogue` and `bench dialogue` on the command line (rules only, so
the tests stay quick; the LLM path is covered by the scenario and engine tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopassist.cli.main import app

pytestmark = pytest.mark.slow  # each test builds a shop, an index and the dialogue engine

runner = CliRunner()


@pytest.fixture
def config(settings, tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"data_dir: {settings.data_dir}\npolicy:\n  secret_key: cli-test-secret-0123456789\n"
        "llm:\n  enabled: false\nlogging:\n  level: WARNING\n"
    )
    return path


def test_chat_answers_line_by_line_with_debug_and_reset(config: Path) -> None:
    script = "hi\nrunning shoes\n/debug\ntell me more about the first one\n/reset\n/quit\nnot read\n"
    result = runner.invoke(app, ["--config", str(config), "chat"], input=script)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "bot> Hi! I'm the Shopassist Demo Shop assistant." in out
    assert "1. Trailblazer Running Shoe (Stridewell), $79.99 to $84.99, in stock" in out
    assert "intent=product_details template=product_details" in out
    assert "tool get_product ok" in out
    assert "new conversation" in out
    assert "not read" not in out


def test_chat_continues_a_conversation_by_id(config: Path) -> None:
    first = runner.invoke(app, ["--config", str(config), "chat", "--session", "cli-1"], input="desk lamp\n")
    assert first.exit_code == 0 and "Arc Desk Lamp" in first.output
    again = runner.invoke(
        app, ["--config", str(config), "chat", "--session", "cli-1"], input="how much is it?\n"
    )
    assert again.exit_code == 0
    assert "Arc Desk Lamp costs $45.00." in " ".join(again.output.split())


def test_eval_dialogue_reports_per_category(config: Path) -> None:
    result = runner.invoke(
        app, ["--config", str(config), "eval", "dialogue", "--no-llm", "--only", "policy", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["categories"] == {"policy": {"passed": 3, "total": 3}}


def test_bench_dialogue_times_rule_turns(config: Path) -> None:
    result = runner.invoke(
        app, ["--config", str(config), "bench", "dialogue", "--no-llm", "--rounds", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["llm"] is None and report["llm_phrased"] is None
    assert report["rule_handled"]["turns"] == 8
    assert report["rule_handled"]["p95_ms"] >= report["rule_handled"]["p50_ms"] > 0


def test_bench_web_reports_no_errors_and_no_lost_messages(config: Path) -> None:
    result = runner.invoke(
        app, ["--config", str(config), "bench", "web", "--sessions", "3", "--turns", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["turns"] == 12 and report["errors"] == {}
    assert report["lost_replies"] == 0 and report["missing_in_log"] == 0
    assert report["p95_ms"] >= report["p50_ms"] > 0
