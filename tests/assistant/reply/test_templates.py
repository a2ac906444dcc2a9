"""Reply templates: every placeholder must be given; unknown names list the valid ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.reply.templates import default_templates, load_templates
from core.errors import ConfigError, UnknownNameError


def test_render_fills_placeholders_and_keeps_quick_replies() -> None:
    rendered = default_templates().render("greet", shop="Test Shop")
    assert rendered.text.startswith("Hi! I'm the Test Shop assistant.")
    assert [q.label for q in rendered.quick_replies] == [
        "Find a product",
        "Where is my order?",
        "Return policy",
    ]
    assert rendered.phrase is False


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(ConfigError, match="needs the value 'order_id'"):
        default_templates().render("order_status", status="pending")


def test_unknown_template_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as caught:
        default_templates().render("no_such_template")
    assert "greet" in caught.value.context["valid"]


def test_bad_template_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("templates:\n  x:\n    text: 'costs $'\n")
    with pytest.raises(ConfigError, match=r"templates\.x"):
        load_templates(path)
    path.write_text("templates:\n  x:\n    txt: hi\n")
    with pytest.raises(ConfigError, match="text"):
        load_templates(path)


def test_every_phrased_template_has_facts_to_check() -> None:
    """Templates the LLM may rewrite state prices or names, which the grounding check covers."""
    templates = default_templates()
    phrased = [name for name in templates.names() if templates.allows_phrasing(name)]
    assert {"product_details", "order_status", "policy_answer"} <= set(phrased)
