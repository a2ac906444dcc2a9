from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.errors import AuthenticationRequiredError, ConfirmationRequiredError, UnknownNameError
from shopassist.cli.main import app

runner = CliRunner()


@pytest.fixture
def config(settings, tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"data_dir: {settings.data_dir}\npolicy:\n  secret_key: cli-test-secret-0123456789\n"
        "logging:\n  level: WARNING\n"
    )
    return path


def cli(config: Path, *args: str):
    return runner.invoke(app, ["--config", str(config), *args])


def test_help_everywhere():
    for command in ([], ["demo-data"], ["import"], ["tool"], ["serve"], ["tools"], ["migrate"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_tools_lists_every_tool(config):
    result = cli(config, "tools")
    assert result.exit_code == 0
    for name in ("get_product", "checkout", "cancel_order", "quote"):
        assert name in result.output


def test_tool_prints_json(config):
    result = cli(config, "tool", "get_product", "--args", '{"product_id": "P-LAMP"}')
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["tool"] == "get_product"
    assert payload["result"]["title"] == "Arc Desk Lamp" and payload["result"]["min_price"] == 45.0


def test_tool_policy_applies_on_the_cli(config):
    args = ["tool", "cancel_order", "--args", '{"order_id": "#W0000001", "reason": "ordered by mistake"}']
    anonymous = cli(config, *args)
    assert isinstance(anonymous.exception, AuthenticationRequiredError)
    unconfirmed = cli(config, *args, "--customer", "alice_smith_1001")
    assert isinstance(unconfirmed.exception, ConfirmationRequiredError)
    confirmed = cli(config, *args, "--customer", "alice_smith_1001", "--confirm")
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.stdout)["result"]["status"] == "cancelled"
    status = cli(
        config,
        "tool",
        "get_order_status",
        "--args",
        '{"order_id": "#W0000001"}',
        "--customer",
        "alice_smith_1001",
    )
    assert json.loads(status.stdout)["result"]["status"] == "cancelled"


def test_tool_rejects_bad_json_and_unknown_tool(config):
    bad = cli(config, "tool", "get_product", "--args", "{not json")
    assert bad.exit_code == 2 and "not valid JSON" in bad.output
    not_object = cli(config, "tool", "get_product", "--args", "[1]")
    assert not_object.exit_code == 2 and "JSON object" in not_object.output
    unknown = cli(config, "tool", "refund_all")
    assert isinstance(unknown.exception, UnknownNameError)


def test_console_script_reports_errors_cleanly(config):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    script = Path(sys.executable).with_name("shopassist")
    proc = subprocess.run(
        [
            str(script),
            "--config",
            str(config),
            "tool",
            "get_order_status",
            "--args",
            '{"order_id": "#W0000002"}',
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "authentication_required" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_config_fails_at_start_naming_the_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("server:\n  port: -5\n")
    result = runner.invoke(app, ["--config", str(path), "tools"])
    assert result.exit_code != 0 or result.exception is not None
    assert "server.port" in str(result.exception)


@pytest.fixture
def empty_config(tmp_path) -> Path:
    path = tmp_path / "empty.yaml"
    path.write_text(f"data_dir: {tmp_path / 'fresh'}\nlogging:\n  level: WARNING\n")
    return path


def test_demo_data_generates_then_keeps_existing_shop(empty_config):
    first = cli(empty_config, "demo-data", "--products", "40", "--customers", "5", "--orders", "12")
    assert first.exit_code == 0, first.output
    assert "Demo shop ready" in first.output
    again = cli(empty_config, "demo-data", "--if-empty")
    assert again.exit_code == 0 and "already has 40 products" in again.output
    listing = cli(empty_config, "tool", "list_orders", "--args", "{}", "--customer", "nobody")
    assert json.loads(listing.stdout)["result"]["orders"] == []


def test_import_csv_reports_bad_rows_and_lands_good_ones(empty_config, tmp_path):
    source = tmp_path / "products.csv"
    source.write_text(
        "Product Name,Selling Price,Category\n"
        "Ceramic Mug,$12.50,Kitchen | Mugs\n"
        "Broken Row,Total price: n/a,Kitchen\n"
        "Tea Kettle,$39.00,Kitchen\n"
    )
    result = cli(empty_config, "import", "--format", "csv", str(source))
    assert result.exit_code == 0, result.output
    assert "row 2" in result.output and "Total price" in result.output
    found = cli(empty_config, "tool", "catalog_search", "--args", '{"query": "kettle"}')
    products = json.loads(found.stdout)["result"]["products"]
    assert [p["title"] for p in products] == ["Tea Kettle"] and products[0]["min_price"] == 39.0
    # No id column: ids derive from titles, so a second import updates instead of duplicating.
    assert cli(empty_config, "import", "--format", "csv", str(source)).exit_code == 0
    browse = cli(empty_config, "tool", "browse_category", "--args", '{"category": "Kitchen"}')
    assert json.loads(browse.stdout)["result"]["total"] == 2
    unknown = cli(empty_config, "import", "--format", "xml", str(source))
    assert isinstance(unknown.exception, UnknownNameError) and "csv, shopify, tau" in str(unknown.exception)
