"""Two ``shopassist serve`` processes on one SQLite store, each with its own index directory:
a catalog import (a third process, as a shop runs it) renames a product and adds one, an admin
script deletes it again, and both servers' searches follow within the feed's bound
(``retrieval.feed_interval_seconds`` plus the time to re-index), though neither wrote the
change: only the store's change feed told them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from eval.dialogue.runner import ScenarioHarness
from tests.conftest import REPO
from tests.servers import free_port, stop_served, wait_served

pytestmark = pytest.mark.slow

FEED_INTERVAL = 1.0
#: What the bound allows beyond the interval: re-indexing a product takes tens of milliseconds,
#: the rest is room for a loaded 2-core machine (the measured figures are in README).
SLACK_SECONDS = 4.0
IMPORT_CSV = (
    "Id,Title,Price,Category,Brand\n"
    "P-LAMP,Zorblax Reading Luminaire,45.00,Home,Lumina\n"
    "P-KETTLE,Gooseneck Pour-Over Kettle,59.00,Kitchen,Brewline\n"
)
DELETE_SCRIPT = """
import sys
from store.db import Database
from store.models import Product

database = Database(sys.argv[1])
with database.transaction() as session:
    session.delete(session.get(Product, "P-KETTLE"))
database.dispose()
"""


def _config(tmp_path: Path, name: str, data_dir: Path, store_url: str) -> Path:
    config = tmp_path / f"{name}.yaml"
    config.write_text(
        f"data_dir: {data_dir}\n"
        f"store: {{url: '{store_url}'}}\n"
        "policy: {secret_key: feed-test-secret-0123456789}\n"
        "llm: {enabled: false}\n"
        "speech: {enabled: false}\n"
        f"retrieval: {{feed_interval_seconds: {FEED_INTERVAL}}}\n"
    )
    return config


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "shopassist.cli.main", "--config", str(config)]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SHOPASSIST_")} | {"HF_HUB_OFFLINE": "1"}


def _serve(stack: ExitStack, config: Path, log_path: Path) -> str:
    port = free_port()
    log = stack.enter_context(log_path.open("w"))
    proc = subprocess.Popen(
        [*_command(config), "serve", "--port", str(port)],
        cwd=REPO,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack.callback(stop_served, proc)
    url = f"http://127.0.0.1:{port}"
    wait_served(url, proc, log_path)
    return url


@pytest.fixture
def two_servers(harness: ScenarioHarness, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(server A, server B, the shared store's URL): the fixture shop, its index copied to each."""
    dirs = {name: tmp_path / name for name in ("a", "b")}
    for data_dir in dirs.values():
        shutil.copytree(harness.template, data_dir)
    store_url = f"sqlite:///{dirs['a'] / 'shop.db'}"
    (dirs["b"] / "shop.db").unlink()  # B's own copy is not used: both serve A's store
    with ExitStack() as stack:
        urls = [
            _serve(stack, _config(tmp_path, name, data_dir, store_url), tmp_path / f"{name}.log")
            for name, data_dir in dirs.items()
        ]
        yield urls[0], urls[1], store_url


def _keyword_hits(url: str, query: str) -> list[str]:
    """The products the query's words match in the server's keyword index (BM25 or exact), best
    first; the dense retriever's near misses left out."""
    reply = httpx.get(f"{url}/api/v1/catalog/search", params={"q": query, "k": 5}, timeout=30)
    assert reply.status_code == 200, reply.text
    return [
        hit["product_id"] for hit in reply.json()["results"] if {"bm25", "exact"} & set(hit["matched_by"])
    ]


def _seconds_until(url: str, query: str, wanted: str | None, since: float) -> float:
    """Seconds from ``since`` until the query's best keyword match is ``wanted`` (a product id;
    None: P-KETTLE is no longer among the results at all)."""
    deadline = since + FEED_INTERVAL + SLACK_SECONDS
    while True:
        if wanted is not None:
            found = _keyword_hits(url, query)
            done = found[:1] == [wanted]
        else:
            reply = httpx.get(f"{url}/api/v1/catalog/search", params={"q": query, "k": 5}, timeout=30)
            found = [hit["product_id"] for hit in reply.json()["results"]]
            done = "P-KETTLE" not in found
        if done:
            return time.monotonic() - since
        assert time.monotonic() < deadline, f"{url}: {query!r} still gives {found}"
        time.sleep(0.05)


def test_a_change_written_by_another_process_reaches_both_servers_within_the_bound(
    two_servers: tuple[str, str, str], tmp_path: Path
) -> None:
    server_a, server_b, store_url = two_servers
    assert _keyword_hits(server_b, "desk lamp")[0] == "P-LAMP"
    assert _keyword_hits(server_b, "zorblax luminaire") == []

    importer_dir = tmp_path / "importer"  # no index here: the import only writes the store
    csv = tmp_path / "catalog.csv"
    csv.write_text(IMPORT_CSV)
    imported = subprocess.run(
        [*_command(_config(tmp_path, "importer", importer_dir, store_url)), "import", str(csv), "-f", "csv"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    committed = time.monotonic()
    for server in (server_b, server_a):
        _seconds_until(server, "zorblax luminaire", "P-LAMP", committed)
        _seconds_until(server, "gooseneck kettle", "P-KETTLE", committed)

    deleted = subprocess.run(
        [sys.executable, "-c", DELETE_SCRIPT, store_url],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert deleted.returncode == 0, deleted.stderr
    committed = time.monotonic()
    for server in (server_b, server_a):
        _seconds_until(server, "gooseneck kettle", None, committed)  # the store says so at once...
        deadline = committed + FEED_INTERVAL + SLACK_SECONDS
        while _feed(server)["indexed_products"] != 5:  # ...and the index drops it within the bound
            assert time.monotonic() < deadline, _feed(server)
            time.sleep(0.05)
        assert _feed(server)["failures"] == 0


def _feed(url: str) -> dict[str, Any]:
    feed: dict[str, Any] = httpx.get(f"{url}/readyz", timeout=30).json()["catalog_feed"]
    return feed
