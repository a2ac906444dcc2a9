"""``shopassist rasa-actions`` as an operator starts it (the server itself: tests/connectors/rasa)."""

from __future__ import annotations

from tests.servers import free_port
from tests.shopassist.cli.process import run_cli


def test_serving_beyond_loopback_without_a_token_is_refused_at_once(settings, tmp_path):
    (tmp_path / "config.yaml").write_text(
        f"data_dir: {settings.data_dir}\npolicy:\n  secret_key: cli-test-secret-0123456789\n"
    )
    result = run_cli(tmp_path, "rasa-actions", "--host", "0.0.0.0", "--port", str(free_port()), timeout=60)
    assert result.returncode != 0
    assert "rasa.token" in result.stderr and "Traceback" not in result.stderr
