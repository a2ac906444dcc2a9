"""``shopassist serve`` as a real process, with every optional part broken at start: the Bot
API absent (a closed port), the GGUF corrupt and the Whisper model missing. It starts anyway,
the web chat answers, ``/readyz`` is 200 and says what is degraded and why, the speech API
answers 503, and Telegram starts by itself once the (fake) Bot API listens on that port."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eval.dialogue.runner import ScenarioHarness
from tests.connectors.telegram.conftest import WEBHOOK_SECRET
from tests.connectors.telegram.fake_bot_api import TOKEN, serve
from tests.servers import free_port, shopassist_serve

pytestmark = pytest.mark.slow


@pytest.fixture
def broken_config(harness: ScenarioHarness, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(harness.template, data_dir)
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00not a model" * 64)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data_dir: {data_dir}\n"
        "policy: {secret_key: serve-test-secret-0123456789}\n"
        f"llm: {{model_path: {corrupt}}}\n"
        f"speech: {{model_path: {tmp_path / 'no-whisper-model'}}}\n"
        "logging: {level: INFO}\n"
    )
    return config


@pytest.fixture
def server(broken_config: Path, tmp_path: Path) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    """The server process on a free port; the Bot API it is told about is a closed port."""
    port, bot_api_port = free_port(), free_port()
    env = {
        "SHOPASSIST_TELEGRAM__TOKEN": TOKEN,
        "SHOPASSIST_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SHOPASSIST_TELEGRAM__API_URL": f"http://127.0.0.1:{bot_api_port}",
        "SHOPASSIST_TELEGRAM__START_RETRY_SECONDS": "0.2",
        "SHOPASSIST_TELEGRAM__START_RETRY_MAX_SECONDS": "1",
    }
    log = tmp_path / "serve.log"
    with shopassist_serve(broken_config, port=port, log=log, env=env, start_seconds=180) as (url, proc):
        yield url, bot_api_port, proc


def _components(url: str) -> dict[str, Any]:
    ready = httpx.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    components: dict[str, Any] = ready.json()["components"]
    return components


def test_serve_starts_and_chats_with_every_optional_part_broken(
    server: tuple[str, int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, bot_api_port, proc = server
    components = _components(url)
    assert components["telegram"]["state"] == "degraded" and "unreachable" in components["telegram"]["reason"]
    assert components["llm"]["state"] == "degraded" and "corrupt.gguf" in components["llm"]["reason"]
    assert (
        components["speech"]["state"] == "degraded" and "no-whisper-model" in components["speech"]["reason"]
    )

    answer = httpx.post(f"{url}/api/v1/chat", json={"message": "desk lamp"}, timeout=60)
    assert answer.status_code == 200 and "Arc Desk Lamp" in answer.json()["reply"]
    spoken = httpx.post(f"{url}/api/v1/speech", files={"audio": ("a.wav", b"RIFF", "audio/wav")}, timeout=30)
    assert spoken.status_code == 503 and spoken.json()["error"]["code"] == "speech_unavailable"

    with serve(port=bot_api_port) as api:
        deadline = time.monotonic() + 30
        while _components(url)["telegram"]["state"] != "ok":
            assert time.monotonic() < deadline, _components(url)["telegram"]
            time.sleep(0.1)
        assert api.of("getMe") and api.of("setMyCommands")

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    output = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in output and TOKEN.split(":")[1] not in output
