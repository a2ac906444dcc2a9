"""Real servers for tests on free ports of 127.0.0.1: an ASGI app on uvicorn in a thread, and
child processes (``shopassist serve``, a Chroma server, llama.cpp's OpenAI-compatible server)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    wait_answering(f"{url}/readyz", proc, log, seconds=seconds, name="serve")


def wait_answering(
    check_url: str, proc: subprocess.Popen[Any], log: Path, *, seconds: float = 180, name: str = "server"
) -> None:
    """Wait until ``GET check_url`` answers 200; fail with the end of the process's log if it exits
    first or does not answer in ``seconds``."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(check_url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{name} did not get ready:\n{log.read_text()[-4000:]}")


@contextmanager
def server_process(
    args: list[str],
    *,
    port: int,
    check_path: str,
    log: Path,
    name: str,
    seconds: float = 120,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[str]:
    """Run a server as a child process (its output in ``log``; ``env`` added to this process's
    environment) until the block ends; yields ``http://127.0.0.1:<port>`` once
    ``GET <check_path>`` answers 200. Stopped with SIGTERM, then SIGKILL if it lingers."""
    log.parent.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, **env} if env is not None else None
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(f"{url}{check_path}", proc, log, seconds=seconds, name=name)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _venv_command(name: str) -> str:
    """A console script installed next to this interpreter (the venv's ``bin``)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        raise AssertionError(f"no `{name}` command beside {sys.executable}")
    return found


@contextmanager
def chroma_server_process(path: Path, log: Path) -> Iterator[str]:
    """A Chroma server (``chroma run`` from the installed chromadb, the version the client is
    pinned to) storing under ``path``; yields its URL once its heartbeat answers."""
    port = free_port()
    args = [_venv_command("chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with server_process(args, port=port, check_path="/api/v2/heartbeat", log=log, name="Chroma") as url:
        yield url


@dataclass(frozen=True)
class LlamaServer:
    """llama.cpp's OpenAI-compatible server: ``base_url`` is what ``llm.base_url`` is set to."""

    base_url: str
    api_key: str
    model: str
    log: Path


@contextmanager
def llama_server_process(
    model: Path, log: Path, *, api_key: str, n_ctx: int = 2048, threads: int = 2
) -> Iterator[LlamaServer]:
    """llama-cpp-python's own server (``python -m llama_cpp.server``, the ``server`` extra) on a
    free port, serving ``model`` under the name ``smol`` to clients with ``api_key``."""
    port = free_port()
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "smol"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--api_key", api_key, "--n_ctx", str(n_ctx)]
    args += ["--n_threads", str(threads), "--n_threads_batch", str(threads), "--verbose", "false"]
    # The readiness check needs the key too: an unauthenticated GET /v1/models answers 401.
    with server_process(args, port=port, check_path="/docs", log=log, name="llama.cpp server") as url:
        yield LlamaServer(f"{url}/v1", api_key, "smol", log)


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
