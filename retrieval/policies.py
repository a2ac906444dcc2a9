"""Policy and FAQ pages (Markdown) split into citable passages.

Each page is split at its headings (LangChain's ``MarkdownHeaderTextSplitter``), and long
sections further into overlapping passages (``RecursiveCharacterTextSplitter``). Every passage
keeps its page title and heading path so a reply can cite "Returns > Refunds".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

DEMO_POLICY_DIR = Path(__file__).resolve().parents[1] / "tools" / "demo" / "policies"
HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


@dataclass(frozen=True)
class PolicyChunk:
    chunk_id: str
    page: str
    source: str
    section: str
    text: str

    def metadata(self) -> dict[str, str]:
        return {"page": self.page, "source": self.source, "section": self.section}


def split_page(text: str, source: str, *, chunk_size: int = 900, overlap: int = 120) -> list[PolicyChunk]:
    sections = MarkdownHeaderTextSplitter(HEADERS, strip_headers=True).split_text(text)
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap)
    fallback_title = Path(source).stem.replace("_", " ").replace("-", " ").title()
    chunks: list[PolicyChunk] = []
    for section in sections:
        headings = [section.metadata[key] for _, key in HEADERS if key in section.metadata]
        page = headings[0] if headings else fallback_title
        path = " > ".join(headings[1:]) if len(headings) > 1 else ""
        for part in splitter.split_text(section.page_content):
            body = part.strip()
            if not body:
                continue
            digest = hashlib.sha1(f"{source}\x1f{path}\x1f{body}".encode()).hexdigest()[:16]
            chunks.append(PolicyChunk(f"{Path(source).stem}-{digest}", page, source, path, body))
    return chunks


def load_policy_pages(folders: Iterable[Path]) -> list[PolicyChunk]:
    """Every ``*.md`` page of the folders, split into passages (sorted by file name)."""
    chunks: list[PolicyChunk] = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.md")):
            chunks.extend(split_page(path.read_text(encoding="utf-8"), path.name))
    return chunks
