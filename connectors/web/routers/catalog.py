from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from connectors.web.deps import SearchIndexDep
from connectors.web.schemas import error_responses
from core.money import MAX_AMOUNT
from retrieval.filters import SearchFilters
from retrieval.hits import SearchResponse

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"], responses=error_responses(422, 503))


@router.get("/search", response_model=SearchResponse, summary="Hybrid product search with filters")
def search(
    index: SearchIndexDep,
    q: Annotated[str, Query(min_length=1, max_length=300, description="What the customer is looking for.")],
    k: Annotated[int, Query(ge=1, le=50, description="Most results.")] = 10,
    max_price: Annotated[
        Decimal | None, Query(ge=0, le=MAX_AMOUNT, allow_inf_nan=False, description="Highest variant price.")
    ] = None,
    min_price: Annotated[
        Decimal | None, Query(ge=0, le=MAX_AMOUNT, allow_inf_nan=False, description="Lowest variant price.")
    ] = None,
    in_stock: Annotated[bool, Query(description="Only products in stock.")] = False,
    category: Annotated[str | None, Query(max_length=120, description="Only this category.")] = None,
    brand: Annotated[str | None, Query(max_length=120, description="Only this brand.")] = None,
) -> SearchResponse:
    filters = SearchFilters(
        category=category, brand=brand, min_price=min_price, max_price=max_price, in_stock=in_stock
    )
    return SearchResponse(query=q, k=k, filters=filters, results=index.search_products(q, filters, k=k))
