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
from store.models import Product


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


class CountingEmbedder:
    """The real embedder, counting the texts it embeds for the index (queries not counted)."""

    def __init__(self, inner):
        self.inner = inner
        self.texts: list[str] = []

    @property
    def model_name(self):
        return self.inner.model_name

    @property
    def dimension(self):
        return self.inner.dimension

    def embed_documents(self, *, texts, **kwargs):
        self.texts += list(texts)
        return self.inner.embed_documents(texts=texts, **kwargs)

    def embed_query(self, **kwargs):
        return self.inner.embed_query(**kwargs)


def test_two_processes_share_the_server_without_embedding_twice(
    index_settings, embedder, chroma_server, tmp_path
):
    """A joins first and builds the vectors; B, a second process on the same store and server,
    builds only its keyword part, and learns A's rename from the change feed without
    embedding the product again (A wrote the server)."""
    retrieval = index_settings.retrieval.model_copy(
        update={"chroma": index_settings.retrieval.chroma.model_copy(update={"url": chroma_server})}
    )
    settings_a = index_settings.model_copy(update={"retrieval": retrieval})
    (tmp_path / "b").mkdir()
    settings_b = settings_a.model_copy(
        update={
            "data_dir": tmp_path / "b",
            "store": settings_a.store.model_copy(update={"url": settings_a.database_url}),
        }
    )
    counted = CountingEmbedder(embedder)
    a = Services.from_settings(settings_a, with_index=True, embedder=embedder)
    b = Services.from_settings(settings_b, with_index=True, embedder=counted)
    try:
        assert a.index.ensure_ready() == "built"
        b.index.ensure_ready()
        policy_passages = b.index.lexical.policy_count()
        assert len(counted.texts) == policy_passages  # no product embedded: the server had them
        assert b.index.lexical.count() == a.index.vectors.count() == 5

        with a.database.transaction() as session:
            session.get(Product, "P-SOCK").title = "Merino Marathon Socks"
        counted.texts.clear()
        assert b.follower.poll() >= 1
        assert counted.texts == []
        assert b.index.search_products("marathon", mode="bm25")[0].product_id == "P-SOCK"
        assert b.index.search_products("merino marathon socks", mode="dense")[0].product_id == "P-SOCK"
    finally:
        b.close()
        a.close()
