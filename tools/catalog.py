"""Catalog tools: product details, browsing by category, search.

``catalog_search`` uses the hybrid search index (``retrieval/``) when the service has one
loaded, and a SQL keyword search otherwise (e.g. a bare CLI call before any index exists).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from core.errors import NotFoundError
from core.facts import Id, Name, Price, StockCount
from store.keyword_search import in_stock, keyword_products, search_terms
from store.models import Product, Variant
from store.options import collect_option_values
from tools.arguments import ProductId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult

if TYPE_CHECKING:
    from tools.search import ShopSearch


class VariantInfo(ToolResult):
    variant_id: Id
    sku: str | None
    options: dict[str, str]
    price: Price
    stock: StockCount
    available: bool


class ProductSummary(ToolResult):
    product_id: Id
    title: Name
    brand: str
    category: str
    min_price: Price
    max_price: Price
    in_stock: bool
    image_url: str | None = None


class ProductDetails(ProductSummary):
    description: str
    variants: list[VariantInfo]
    option_values: dict[str, list[str]]


class ProductList(ToolResult):
    products: list[ProductSummary]
    total: int = Field(description="How many products matched before the limit.")


def summarize_product(product: Product) -> ProductSummary:
    prices = [v.price for v in product.variants] or [Decimal("0")]
    return ProductSummary(
        product_id=product.id,
        title=product.title,
        brand=product.brand,
        category=product.category,
        min_price=min(prices),
        max_price=max(prices),
        in_stock=any(v.stock > 0 for v in product.variants),
        image_url=product.image_url,
    )


def variant_info(variant: Variant) -> VariantInfo:
    return VariantInfo(
        variant_id=variant.id,
        sku=variant.sku,
        options={str(k): str(v) for k, v in (variant.options or {}).items()},
        price=variant.price,
        stock=variant.stock,
        available=variant.stock > 0,
    )


def product_details(product: Product) -> ProductDetails:
    option_values = collect_option_values(v.options for v in product.variants)
    return ProductDetails(
        **summarize_product(product).model_dump(),
        description=product.description,
        variants=[variant_info(v) for v in product.variants],
        option_values=option_values,
    )


def load_product(env: ToolEnv, product_id: str) -> Product:
    product = env.db.scalar(
        select(Product).where(Product.id == product_id).options(selectinload(Product.variants))
    )
    if product is None:
        raise NotFoundError(f"There is no product {product_id}", resource="product", id=product_id)
    return product


class GetProductArgs(ArgsModel):
    product_id: ProductId = Field(description="The product's id.")


class GetProduct(Tool[GetProductArgs, ProductDetails]):
    name = "get_product"
    description = "Details of one product: description, every variant with its options, price and stock."
    args_model = GetProductArgs
    result_model = ProductDetails

    def run(self, args: GetProductArgs, *, ctx: ToolContext, env: ToolEnv) -> ProductDetails:
        return product_details(load_product(env, args.product_id))


class BrowseCategoryArgs(ArgsModel):
    category: str = Field(min_length=1, max_length=120, description="Category name (case-insensitive).")
    in_stock_only: bool = Field(default=False, description="Only products with a variant in stock.")
    limit: int = Field(default=10, ge=1, le=50, description="Most products to return.")
    offset: int = Field(default=0, ge=0, description="Products to skip, for paging.")


class CategoryList(ProductList):
    category: str
    categories: list[str] = Field(description="All categories, so a caller can correct a wrong one.")


class BrowseCategory(Tool[BrowseCategoryArgs, CategoryList]):
    name = "browse_category"
    description = "List products in a category, newest first; also returns the list of all categories."
    args_model = BrowseCategoryArgs
    result_model = CategoryList

    def run(self, args: BrowseCategoryArgs, *, ctx: ToolContext, env: ToolEnv) -> CategoryList:
        categories = list(env.db.scalars(select(Product.category).distinct().order_by(Product.category)))
        wanted = next((c for c in categories if c.lower() == args.category.lower()), None)
        if wanted is None:
            raise NotFoundError(
                f"There is no category {args.category!r}. Categories: {', '.join(categories)}",
                resource="category",
                id=args.category,
            )
        query = select(Product).where(Product.category == wanted)
        query = in_stock(query) if args.in_stock_only else query
        products, total = _page(
            env, query.order_by(Product.created_at.desc(), Product.id), args.limit, args.offset
        )
        return CategoryList(
            category=wanted,
            categories=categories,
            products=[summarize_product(p) for p in products],
            total=total,
        )


class CatalogSearchArgs(ArgsModel):
    query: str = Field(min_length=1, max_length=300, description="What the customer is looking for.")
    category: str | None = Field(default=None, max_length=120, description="Only this category.")
    brand: str | None = Field(default=None, max_length=120, description="Only this brand.")
    min_price: Decimal | None = Field(default=None, ge=0, description="Lowest variant price wanted.")
    max_price: Decimal | None = Field(default=None, ge=0, description="Highest variant price wanted.")
    in_stock_only: bool = Field(default=False, description="Only products with a variant in stock.")
    options: dict[str, str] = Field(
        default_factory=dict,
        description="Option values a variant must have, e.g. {'color': 'red', 'size': 'M'}.",
    )
    limit: int = Field(default=10, ge=1, le=50, description="Most products to return.")


class SearchedProduct(ProductSummary):
    option_values: dict[str, list[str]] = Field(default_factory=dict)
    snippet: str = ""
    score: float = 0.0
    matched_by: list[str] = Field(default_factory=list)


class CatalogSearchResult(ToolResult):
    products: list[SearchedProduct]
    total: int = Field(description="How many products matched (before the limit, for keyword search).")
    engine: str = Field(description="'hybrid' (index) or 'keyword' (SQL fallback without an index).")


class CatalogSearch(Tool[CatalogSearchArgs, CatalogSearchResult]):
    name = "catalog_search"
    description = (
        "Search the catalog for what the customer describes (misspellings and synonyms are fine), "
        "with optional category, brand, price range, option and in-stock filters."
    )
    args_model = CatalogSearchArgs
    result_model = CatalogSearchResult

    def run(self, args: CatalogSearchArgs, *, ctx: ToolContext, env: ToolEnv) -> CatalogSearchResult:
        if env.search is not None:
            return self._hybrid(args, env.search)
        return self._keyword(args, env)

    @staticmethod
    def _hybrid(args: CatalogSearchArgs, search: ShopSearch) -> CatalogSearchResult:
        hits = search.find_products(
            query=args.query,
            k=args.limit,
            category=args.category,
            brand=args.brand,
            min_price=args.min_price,
            max_price=args.max_price,
            in_stock=args.in_stock_only,
            options=args.options,
        )
        products = [SearchedProduct.model_validate(hit, from_attributes=True) for hit in hits]
        return CatalogSearchResult(products=products, total=len(products), engine="hybrid")

    @staticmethod
    def _keyword(args: CatalogSearchArgs, env: ToolEnv) -> CatalogSearchResult:
        ordered = keyword_products(
            search_terms(args.query),
            category=args.category,
            brand=args.brand,
            min_price=args.min_price,
            max_price=args.max_price,
            in_stock_only=args.in_stock_only,
        )
        products, total = _page(env, ordered, args.limit * 4 if args.options else args.limit, 0)
        if args.options:
            wanted = {k.lower(): v.lower() for k, v in args.options.items()}
            products = [p for p in products if any(_has_options(v.options, wanted) for v in p.variants)]
            products, total = products[: args.limit], len(products)
        found = [
            SearchedProduct(
                **summarize_product(p).model_dump(),
                option_values=collect_option_values(v.options for v in p.variants),
            )
            for p in products
        ]
        return CatalogSearchResult(products=found, total=total, engine="keyword")


def _has_options(options: dict[str, Any] | None, wanted: dict[str, str]) -> bool:
    have = {str(k).lower(): str(v).lower() for k, v in (options or {}).items()}
    return all(have.get(k) == v for k, v in wanted.items())


def _page(env: ToolEnv, query: Select[Any], limit: int, offset: int) -> tuple[list[Product], int]:
    total = env.db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = env.db.scalars(query.options(selectinload(Product.variants)).limit(limit).offset(offset))
    return list(rows), int(total)


TOOLS: list[type[Tool[Any, Any]]] = [GetProduct, BrowseCategory, CatalogSearch]
