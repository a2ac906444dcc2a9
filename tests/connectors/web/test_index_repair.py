"""A damaged search index never stops the server: it starts, answers searches from the store
while the index is rebuilt, shows the index state in /readyz, and serves from the index again
once it is rebuilt; a query that finds the files broken later answers too."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from connectors.web.app import create_app
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services
from tests.index_damage import DamagedShop, copy_shop, garbage_keyword_db
from tests.servers import serve_in_thread


def wait_for_index(client: httpx.Client, state: str = "ok", *, seconds: float = 180) -> dict:
    """/readyz once the index is in ``state`` (a rebuild on a busy 2-core machine is slow)."""
    deadline = time.monotonic() + seconds
    while True:
        body = client.get("/readyz").json()
        if body["index_state"] == state or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def search(client: httpx.Client, query: str) -> list[dict]:
    response = client.get("/api/v1/catalog/search", params={"q": query})
    assert response.status_code == 200, response.text
    return response.json()["results"]


@pytest.mark.slow  # the app loads the embedding model and the intent examples at start
def test_the_server_starts_on_a_damaged_index_and_rebuilds_it(damaged: DamagedShop):
    """The app builds its own services (as ``shopassist serve`` does) over a damaged index."""
    app = create_app(damaged.settings)
    with (
        serve_in_thread(app, name="web app", start_seconds=300) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["index_state"] in ("rebuilding", "ok")
        hits = search(client, "desk lamp")  # from the store or, if done already, the index
        assert hits[0]["product_id"] == "P-LAMP"
        chat = client.post("/api/v1/chat", json={"message": "do you have a desk lamp?"})
        assert chat.status_code == 200 and "Arc Desk Lamp" in chat.json()["reply"], chat.text
        assert wait_for_index(client)["index_state"] == "ok"
        hits = search(client, "desk lamp")
        assert hits[0]["product_id"] == "P-LAMP" and "bm25" in hits[0]["matched_by"]
    assert len(damaged.corrupt_copies()) == 1


def test_searches_answer_from_the_store_during_the_rebuild_and_after_a_breakage(
    built_index_shop: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
):
    settings = copy_shop(built_index_shop, tmp_path / "data")
    garbage_keyword_db(settings.index_dir)
    services = Services.from_settings(settings, with_dialogue=True, embedder=embedder)
    index = services.index
    assert index is not None
    try:
        app = create_app(settings, services=services)
        with serve_in_thread(app, name="web app") as url, httpx.Client(base_url=url, timeout=60) as client:
            with index._write_lock:  # the rebuild waits: what customers get meanwhile
                index.ensure_ready(background=True)
                ready = client.get("/readyz")
                assert ready.status_code == 200 and ready.json()["index_state"] == "rebuilding"
                hits = search(client, "desk lamp")
                assert hits[0]["product_id"] == "P-LAMP" and hits[0]["matched_by"] == ["store"]
                assert hits[0]["min_price"] == 45.0
                chat = client.post("/api/v1/chat", json={"message": "do you have a desk lamp?"})
                assert chat.status_code == 200 and "Arc Desk Lamp" in chat.json()["reply"], chat.text
                policy = client.post("/api/v1/chat", json={"message": "how long do refunds take?"})
                assert policy.status_code == 200 and "5 business days" in policy.json()["reply"], policy.text
            assert index.repair.wait(180), "the rebuild did not finish"
            assert client.get("/readyz").json()["index_state"] == "ok"
            assert "bm25" in search(client, "desk lamp")[0]["matched_by"]

            # The files break under the running server: the search still answers, the index
            # is checked, moved aside and rebuilt.
            with index._write_lock:
                for path in settings.index_dir.glob("keyword.db*"):
                    path.write_bytes(b"\x00broken" * (path.stat().st_size // 7 + 1))
                hits = search(client, "desk lamp")
                assert hits[0]["product_id"] == "P-LAMP" and hits[0]["matched_by"] == ["store"]
            assert index.repair.wait(180), "the repair did not finish"
            assert client.get("/readyz").json()["index_state"] == "ok"
            assert "bm25" in search(client, "desk lamp")[0]["matched_by"]
        assert len(list(settings.data_dir.glob("index.corrupt-*"))) == 2
    finally:
        services.close()
