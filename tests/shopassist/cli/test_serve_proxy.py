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

from tests.servers import free_port, wait_served

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
        f"server:\n  port: {port}\n"
    )
    # PYTHONPATH: this checkout's code, whichever checkout the virtualenv was installed from
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FORWARDED_ALLOW_IPS": "*", "PYTHONPATH": str(REPO)}
    subprocess.run(
        [str(SCRIPT), "--config", str(config), "migrate"], check=True, env=env, capture_output=True
    )
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(SCRIPT), "--config", str(config), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_served(url, proc, tmp_path / "serve.log", seconds=300)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


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
