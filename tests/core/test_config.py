from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_settings
from core.errors import ConfigError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_repository_config_loads_with_documented_defaults():
    settings = load_settings(REPO_CONFIG)
    assert settings.server.host == "127.0.0.1" and settings.server.port == 8000
    assert settings.llm.n_gpu_layers == 0
    assert [t.min_quantity for t in settings.shop.quantity_discounts] == [3, 10]


def test_yaml_values_and_default_database_url(tmp_path):
    settings = load_settings(write(tmp_path, f"data_dir: {tmp_path / 'state'}\nserver:\n  port: 9001\n"))
    assert settings.server.port == 9001
    assert settings.database_url == f"sqlite:///{tmp_path / 'state' / 'shop.db'}"


def test_environment_overrides_yaml(tmp_path, monkeypatch):
    path = write(tmp_path, "data_dir: from-yaml\nstore:\n  url: sqlite:///yaml.db\n")
    monkeypatch.setenv("SHOPASSIST_STORE__URL", "postgresql+psycopg://shop@db/shop")
    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("SHOPASSIST_LLM__N_GPU_LAYERS", "-1")
    settings = load_settings(path)
    assert settings.store.url == "postgresql+psycopg://shop@db/shop"
    assert settings.database_url == "postgresql+psycopg://shop@db/shop"
    assert settings.data_dir == tmp_path / "from-env"
    assert settings.llm.n_gpu_layers == -1


def test_config_path_from_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "server:\n  port: 8123\n")
    monkeypatch.setenv("SHOPASSIST_CONFIG", str(path))
    assert load_settings().server.port == 8123


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("server:\n  port: 70000\n", "server.port", "less than or equal to 65535"),
        ("server:\n  prot: 80\n", "server.prot", "Extra inputs are not permitted"),
        ("llm:\n  model_path: /nowhere/model.gguf\n", "llm.model_path", "no GGUF file"),
        ("logging:\n  level: LOUD\n", "logging.level", "must be one of"),
        (
            "shop:\n  quantity_discounts:\n    - {min_quantity: 3, percent: 150}\n",
            "shop.quantity_discounts.0.percent",
            "less than 100",
        ),
    ],
)
def test_invalid_config_names_key_and_problem(tmp_path, text, key, problem):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert info.value.context["key"] == key
    assert key in info.value.message and problem in info.value.message


def test_invalid_environment_value_names_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPASSIST_SERVER__PORT", "eighty")
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(write(tmp_path, ""))


def test_broken_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "server: [unclosed\n"))
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_settings(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml")


def test_proxy_and_origin_settings_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPASSIST_SERVER__PROXY_HEADERS", "true")
    monkeypatch.setenv("SHOPASSIST_SERVER__FORWARDED_ALLOW_IPS", "10.0.0.2, 192.168.0.0/16")
    monkeypatch.setenv("SHOPASSIST_WEB__ALLOWED_ORIGINS", '["https://Shop.example.com/"]')
    settings = load_settings(write(tmp_path, "web:\n  ws_hello_timeout_seconds: 2.5\n"))
    assert settings.server.proxy_headers is True
    assert settings.server.forwarded_allow_ips == ["10.0.0.2", "192.168.0.0/16"]
    assert settings.web.allowed_origins == ["https://shop.example.com"]
    assert settings.web.ws_hello_timeout_seconds == 2.5


def test_proxies_and_sockets_are_off_or_bounded_by_default():
    settings = load_settings(REPO_CONFIG)
    assert settings.server.proxy_headers is False and settings.server.forwarded_allow_ips == []
    assert settings.web.allowed_origins == [] and settings.web.ws_hello_timeout_seconds == 10
    assert settings.web.ws_max_per_client == 50


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("server:\n  proxy_headers: true\n", "server", "needs forwarded_allow_ips"),
        ("server:\n  forwarded_allow_ips: [proxy.local]\n", "server.forwarded_allow_ips", "not an IP"),
        ("web:\n  allowed_origins: [shop.example.com]\n", "web.allowed_origins", "not an origin"),
        (
            "web:\n  allowed_origins: ['https://shop.example.com/chat']\n",
            "web.allowed_origins",
            "not an origin",
        ),
        ("web:\n  ws_hello_timeout_seconds: 0\n", "web.ws_hello_timeout_seconds", "greater than 0"),
    ],
)
def test_bad_proxy_and_origin_settings_name_the_key(tmp_path, text, key, problem):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert info.value.context["key"] == key and problem in info.value.message
