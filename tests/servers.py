"""Real HTTP servers for tests: an ASGI app on uvicorn in a thread, on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (connections to it are refused), for a
    server that is absent first and comes up on it later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def serve_in_thread(
    app: Any, *, name: str = "server", port: int = 0, start_seconds: float = 30, **config: Any
) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields ``http://127.0.0.1:<port>``.

    ``port``: 0 for a free one. ``config`` goes to ``uvicorn.Config`` (e.g. ``ws="websockets"``,
    ``lifespan="off"``); ``start_seconds`` bounds the wait for start-up (an app that loads its
    models takes longer).
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = int(sock.getsockname()[1])
    options: dict[str, Any] = {"log_config": None, "log_level": "warning", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait(lambda: bool(server.started), thread, name, start_seconds)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _wait(started: Callable[[], bool], thread: threading.Thread, name: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not started():
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the {name} did not start")
        time.sleep(0.02)


def stop_served(proc: subprocess.Popen[Any], *, seconds: float = 30) -> None:
    """Stop a server process as Ctrl-C does (SIGINT), killing it if it has not exited in ``seconds``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_served(url: str, proc: subprocess.Popen[Any], log: Path, *, seconds: float = 180) -> None:
    """Wait until a server process (``shopassist serve``) answers ``/readyz`` with 200; fail with
    the end of its log if it exits first or does not get ready in ``seconds``."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"serve did not get ready:\n{log.read_text()[-4000:]}")


@contextmanager
def shopassist_serve(
    config: Path, *, port: int, log: Path, env: dict[str, str] | None = None, start_seconds: float = 300
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``shopassist serve`` as a process of its own on ``port`` (``config``, environment
    ``env`` added to this one's; output in ``log``), ready; yields its base URL and the process.
    Stopped with Ctrl-C (SIGINT) afterwards unless it has stopped, killed if it does not stop
    within 30 s."""
    repo = Path(__file__).resolve().parents[1]
    # PYTHONPATH: this checkout's code, whichever checkout the virtualenv was installed from
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(repo), **(env or {})}
    command = [sys.executable, "-m", "shopassist.cli.main", "--config", str(config), "serve"]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], cwd=repo, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_served(url, proc, log, seconds=start_seconds)
            yield url, proc
        finally:
            stop_served(proc)
