"""The servers the benchmarks talk to over loopback: the real ``shopassist serve`` process
(:func:`served_shop`, the web benchmark) and the app over already-built services on uvicorn in a
thread (:func:`bench_server`, the speech benchmark, which shares the harness's in-process
speech models). A benchmark is one client address, so both lift the per-address and
per-session limits and the socket cap (:data:`RELAXED_LIMITS`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from connectors.web.app import create_app, uvicorn_options
from core.errors import ShopassistError
from eval.dialogue.runner import SECRET
from services import Services

RELAXED_LIMITS: dict[str, str | int] = {
    "rate_limit_per_ip": "1000000/minute",
    "rate_limit_per_session": "1000/minute",
    "ws_max_per_client": 0,
}
"""``web`` settings every benchmark server runs with: one client sends every message."""

START_SECONDS = 300.0
"""Longest the server may take to load its models and answer ``/readyz``."""


class BenchServerError(ShopassistError):
    """The benchmark's server did not start (its log's end is in the message)."""

    code = "bench_server_failed"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(data_dir: Path, *, workers: int, llm: bool) -> dict[str, str]:
    """What the benchmark sets on top of the shop's configuration: its own data directory and
    secret, no Telegram, limits lifted for a single client address sending every message."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHOPASSIST_TELEGRAM__")}
    env.update(
        {
            "SHOPASSIST_DATA_DIR": str(data_dir),
            "SHOPASSIST_POLICY__SECRET_KEY": SECRET,
            "SHOPASSIST_LLM__ENABLED": "true" if llm else "false",
            "SHOPASSIST_LOGGING__LEVEL": "WARNING",
            "SHOPASSIST_SERVER__WORKERS": str(workers),
            "HF_HUB_OFFLINE": "1",
        }
    )
    env.update({f"SHOPASSIST_WEB__{key.upper()}": str(value) for key, value in RELAXED_LIMITS.items()})
    return env


@contextmanager
def served_shop(
    data_dir: Path,
    *,
    config: Path | None,
    workers: int = 1,
    llm: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """``shopassist serve`` over ``data_dir`` on a free port of 127.0.0.1 until the block ends
    (``env``: settings added to the benchmark's, e.g. shared databases); yields its base URL once
    ``/readyz`` answers 200. Raises :class:`BenchServerError` with the end of the server's log
    when it exits or does not get ready in :data:`START_SECONDS`."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "shopassist.cli.main"]
    if config is not None:
        command += ["--config", str(config)]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    log_path = data_dir / "serve.log"
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            env={**server_environment(data_dir, workers=workers, llm=llm), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                if proc.poll() is not None:
                    raise BenchServerError(
                        f"the server exited with {proc.returncode}: {log_path.read_text()[-2000:]}"
                    )
                if time.monotonic() > deadline:
                    raise BenchServerError(f"the server did not get ready: {log_path.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def bench_server(services: Services) -> Iterator[tuple[FastAPI, int]]:
    """The app over ``services`` on uvicorn at 127.0.0.1 in a thread, and its port."""
    web = services.settings.web.model_copy(update=RELAXED_LIMITS)
    app = create_app(services.settings.model_copy(update={"web": web}), services=services)
    port = free_port()
    options = uvicorn_options(services.settings.server)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield app, port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
