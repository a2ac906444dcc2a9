"""A built search index over the fixture shop, and the four ways a probe found its files broken
(each of which used to end in "Application startup failed").

Test modules import the fixtures they use (``from tests.index_damage import damaged  # noqa``).
The index is built once per session and copied per test; ``damaged`` is parametrized over the
four kinds of damage.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import Settings
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services

GARBAGE = b"this is not what the index wrote\x00\xff" * 300
# One short policy page (the demo shop's six pages cost seconds of embedding per rebuild).
POLICY_PAGE = """# Returns and Refunds

## Refunds
Refunds go back to the original payment method within 5 business days.

## Return window
You can return delivered items within 30 days of delivery.
"""


def garbage_keyword_db(index_dir: Path) -> None:
    (index_dir / "keyword.db").write_bytes(GARBAGE)
    for side in index_dir.glob("keyword.db-*"):  # the WAL would otherwise be replayed onto it
        side.unlink()


def garbage_tantivy_meta(index_dir: Path) -> None:
    (index_dir / "keywords" / "meta.json").write_bytes(GARBAGE)


def truncated_segment(index_dir: Path) -> None:
    """Every segment's term index cut in half, as a crash mid-write or a full disk leaves it."""
    segments = sorted((index_dir / "keywords").glob("*.idx"))
    assert segments, "the built index has no tantivy segment"
    for path in segments:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


def garbage_chroma_sqlite(index_dir: Path) -> None:
    (index_dir / "chroma" / "chroma.sqlite3").write_bytes(GARBAGE)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "garbage keyword.db": garbage_keyword_db,
    "garbage tantivy meta.json": garbage_tantivy_meta,
    "truncated segment": truncated_segment,
    "garbage chroma.sqlite3": garbage_chroma_sqlite,
}
DAMAGED_FILE = {
    "garbage keyword.db": "keyword.db",
    "garbage tantivy meta.json": "keywords/meta.json",
    "truncated segment": "keywords",
    "garbage chroma.sqlite3": "chroma/chroma.sqlite3",
}


def shop_settings(data_dir: Path) -> Settings:
    """Settings of a copied shop: its own policy page, rules only, no speech, queries embedded by
    torch (no ONNX export at start), a high rate limit."""
    return Settings(
        data_dir=data_dir,
        retrieval={"policy_dirs": [data_dir / "policies"]},
        policy={"secret_key": "test-secret-key-0123456789"},
        llm={"enabled": False},
        speech={"enabled": False},
        embeddings={"query_backend": "torch"},
        web={"rate_limit_per_session": "1000/minute", "rate_limit_per_ip": "1000/minute"},
    )


@pytest.fixture(scope="session")
def built_index_shop(
    tmp_path_factory: pytest.TempPathFactory, _template_db: Path, embedder: SentenceTransformerEmbedder
) -> Path:
    """A data folder with the fixture shop and its built index (copy it before use)."""
    data_dir = tmp_path_factory.mktemp("indexed-shop") / "data"
    data_dir.mkdir()
    shutil.copy(_template_db, data_dir / "shop.db")
    (data_dir / "policies").mkdir()
    (data_dir / "policies" / "returns.md").write_text(POLICY_PAGE)
    services = Services.from_settings(shop_settings(data_dir), with_index=True, embedder=embedder)
    assert services.index is not None
    assert services.index.ensure_ready() == "built"
    services.close()
    return data_dir


@dataclass(frozen=True)
class DamagedShop:
    kind: str
    settings: Settings

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    def corrupt_copies(self) -> list[Path]:
        return sorted(self.settings.data_dir.glob("index.corrupt-*"))


def copy_shop(source: Path, target: Path) -> Settings:
    shutil.copytree(source, target)
    return shop_settings(target)


@pytest.fixture(params=sorted(DAMAGE))
def damaged(request: pytest.FixtureRequest, built_index_shop: Path, tmp_path: Path) -> Iterator[DamagedShop]:
    """A copy of the indexed fixture shop with one kind of damage done to its index."""
    settings = copy_shop(built_index_shop, tmp_path / "data")
    DAMAGE[request.param](settings.index_dir)
    yield DamagedShop(request.param, settings)
