"""`retrieval.chroma.url` switches the index to a real Chroma server with no other change.

The server is the `chroma run` that ships with the chromadb package, on a loopback port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.filters import SearchFilters
from services import Services


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert executable, "the chromadb package installs a `chroma` command"
    port = _free_port()
    proc = subprocess.Popen(
        [
            executable,
            "run",
            "--path",
            str(tmp_path / "chroma-server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the Chroma server did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_index_on_a_chroma_server(index_settings, embedder, chroma_server):
    retrieval = index_settings.retrieval.model_copy(
        update={"chroma": index_settings.retrieval.chroma.model_copy(update={"url": chroma_server})}
    )
    settings = index_settings.model_copy(update={"retrieval": retrieval})
    services = Services.from_settings(settings, with_index=True, embedder=embedder)
    try:
        assert services.index.ensure_ready() == "built"
        assert not (settings.index_dir / "chroma").exists()  # vectors live on the server
        assert services.index.vectors.count() == 5
        hit = services.index.search_products("something to light my desk", mode="dense")[0]
        assert hit.product_id == "P-LAMP" and hit.matched_by == ["dense"]
        # Filtered: a narrow filter searches by id on the server, a broad one over-fetches.
        narrow = services.index.search_products(
            "something to keep my drinks cold", SearchFilters(category="outdoor"), mode="dense"
        )
        assert [h.product_id for h in narrow] == ["P-BOTTLE"]
        broad = services.index.search_products(
            "something to keep my drinks cold", SearchFilters(in_stock=True), mode="dense"
        )
        assert broad[0].product_id == "P-BOTTLE" and all(h.in_stock for h in broad)
    finally:
        services.close()
