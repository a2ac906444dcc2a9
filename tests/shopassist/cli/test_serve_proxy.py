"""`shopassist serve` as a real process: it tells uvicorn about proxies itself, so neither
uvicorn's default (trust X-Forwarded-For from 127.0.0.1) nor its FORWARDED_ALLOW_IPS variable
lets a local caller pick the address the agent log-in limit counts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, shopassist_serve

SCRIPT = Path(sys.executable).with_name("shopassist")
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """An empty shop served by `shopassist serve` (rules only, no speech); its base URL."""
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nllm:\n  enabled: false\nspeech:\n  enabled: false\n"
        "embeddings:\n  query_backend: torch\nlogging:\n  level: WARNING\n"
    )
    # PYTHONPATH: this checkout's code, whichever checkout the virtualenv was installed from
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    subprocess.run(
        [str(SCRIPT), "--config", str(config), "migrate"], check=True, env=env, capture_output=True
    )
    uvicorn_default = {"FORWARDED_ALLOW_IPS": "*"}  # (what uvicorn alone would believe)
    with shopassist_serve(config, port=port, log=tmp_path / "serve.log", env=uvicorn_default) as (url, _proc):
        yield url


@pytest.mark.slow
def test_serve_ignores_forwarded_for_from_a_local_process(served: str) -> None:
    codes = [
        httpx.post(
            f"{served}/api/v1/agent/login",
            json={"name": "nobody", "password": "not the password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(11)
    ]
    assert codes == [401] * 10 + [429]  # ten log-ins a minute per address, rotated header or not
