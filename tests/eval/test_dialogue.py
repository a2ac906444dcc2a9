"""Every dialogue scenario in eval/scenarios/ against the real engine: the fixture shop, a real
index (Chroma + tantivy + MiniLM), and the bundled SmolLM2 GGUF (greedy decoding), then again with
the LLM switched off (rules and templates alone must serve the same conversations)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm.llama_cpp import LlamaCppLLM
from core.errors import ConfigError
from eval.dialogue.runner import DialogueReport, ScenarioHarness, check_turn, run_dialogue_eval
from eval.dialogue.scenarios import Scenario, TurnExpect, load_scenarios
from retrieval.embeddings import SentenceTransformerEmbedder

pytest_plugins = ("tests.assistant.llm.stub_server",)  # the bundled model, loaded once per session

SCENARIOS = load_scenarios()


@pytest.fixture(scope="module")
def llm_harness(
    llm: LlamaCppLLM, embedder: SentenceTransformerEmbedder, harness: ScenarioHarness
) -> Iterator[ScenarioHarness]:
    built = ScenarioHarness(embedder=embedder, llm=llm, matcher=harness.matcher)
    yield built
    built.close()


def test_there_are_at_least_40_scenarios_over_the_required_categories() -> None:
    assert len(SCENARIOS) >= 40
    categories = {s.category for s in SCENARIOS}
    wanted = {"discovery", "product", "cart", "checkout", "order_status", "cancel", "return", "exchange"}
    wanted |= {"address", "auth", "security", "off_topic", "handoff", "policy"}
    assert wanted <= categories


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_with_the_bundled_llm(llm_harness: ScenarioHarness, scenario: Scenario) -> None:
    result = llm_harness.run(scenario)
    assert result.passed, result.explain()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_rules_only(harness: ScenarioHarness, scenario: Scenario) -> None:
    result = harness.run(scenario)
    assert result.passed, result.explain()


def test_a_wrong_expectation_fails(harness: ScenarioHarness) -> None:
    """The checks can fail: a scenario expecting the wrong template and end state is reported."""
    scenario = Scenario.model_validate(
        {
            "name": "deliberately_wrong",
            "turns": [
                {
                    "user": "what is your return policy?",
                    "expect": {"template": "greet", "tools": ["checkout"]},
                }
            ],
            "end": {"orders": {"#W0000001": "cancelled"}, "mode": "agent"},
        }
    )
    result = harness.run(scenario)
    assert not result.passed
    text = "\n".join(result.failures)
    assert "template 'policy_answer'" in text
    assert "tool checkout not called" in text
    assert "order #W0000001 is pending, expected cancelled" in text
    assert "mode is bot, expected agent" in text


def test_report_counts_per_category(harness: ScenarioHarness) -> None:
    chosen = [s for s in SCENARIOS if s.category in ("policy", "smalltalk")]
    report: DialogueReport = run_dialogue_eval(harness, chosen)
    counts = report.by_category()
    assert counts["policy"] == (3, 3)
    assert report.to_dict()["total"] == len(chosen)


def test_check_turn_reads_text_case_insensitively() -> None:
    from assistant.reply.message import Reply

    reply = Reply(session_id="s1", text="Order #W0000001 is Pending.", template="order_status")
    assert check_turn(reply, TurnExpect(template=["order_status"], text=["pending"])) == []
    assert check_turn(reply, TurnExpect(not_text=["pending"]))


def test_duplicate_scenario_names_are_refused(tmp_path: Path) -> None:
    body = "category: x\nscenarios:\n  - name: same\n    turns: [{user: hi}]\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yaml").write_text(body)
    with pytest.raises(ConfigError, match="duplicate scenario names: same"):
        load_scenarios(tmp_path)
