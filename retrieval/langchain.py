"""The search index as a LangChain ``BaseRetriever``, for use in any LangChain chain."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from retrieval.filters import SearchFilters
from retrieval.index import SearchIndex


class ShopRetriever(BaseRetriever):
    """Products (``kind="products"``) or policy passages (``kind="policies"``) as Documents.

    Product documents carry the store's current price range and stock in their metadata.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: SearchIndex
    kind: Literal["products", "policies"] = "products"
    k: int = Field(default=5, ge=1, le=50)
    filters: SearchFilters = Field(default_factory=SearchFilters)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        if self.kind == "policies":
            return [
                Document(
                    page_content=hit.text,
                    metadata={
                        "page": hit.page,
                        "source": hit.source,
                        "section": hit.section,
                        "score": hit.score,
                    },
                    id=hit.chunk_id,
                )
                for hit in self.index.search_policies(query, k=self.k)
            ]
        documents = []
        for hit in self.index.search_products(query, self.filters, k=self.k):
            metadata: dict[str, Any] = hit.model_dump(mode="json", exclude={"snippet", "title"})
            documents.append(
                Document(
                    page_content=f"{hit.title}\n{hit.snippet}".strip(), metadata=metadata, id=hit.product_id
                )
            )
        return documents
