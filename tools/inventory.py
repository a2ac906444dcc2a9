"""Inventory tools: the stock of one variant, and "do you have it in blue, size M?".

Option names and values are matched case-insensitively and ignoring extra spaces, so "Size: m"
finds the variant whose options say ``{"size": "M"}``. Asking for an option the product does
not have is a bad argument; asking for a value nobody stocks is a normal "no", with the
closest in-stock alternatives.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.errors import InvalidArgumentsError, NotFoundError
from core.facts import Id, Name, Price, StockCount
from core.words import folded
from store.models import Variant
from tools.arguments import ProductId, VariantId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult
from tools.catalog import VariantInfo, load_product, product_details, variant_info

MAX_ALTERNATIVES = 5


class StockLevel(ToolResult):
    variant_id: Id
    product_id: Id
    title: Name
    sku: str | None
    options: dict[str, str]
    price: Price
    stock: StockCount
    available: bool


class CheckStockArgs(ArgsModel):
    variant_id: VariantId = Field(description="The variant (one size/color of a product) to check.")


class CheckStock(Tool[CheckStockArgs, StockLevel]):
    name = "check_stock"
    description = "Stock quantity and availability of one product variant, with its product and options."
    args_model = CheckStockArgs
    result_model = StockLevel

    def run(self, args: CheckStockArgs, *, ctx: ToolContext, env: ToolEnv) -> StockLevel:
        variant = env.db.scalar(
            select(Variant).where(Variant.id == args.variant_id).options(joinedload(Variant.product))
        )
        if variant is None:
            raise NotFoundError(
                f"There is no variant {args.variant_id}", resource="variant", id=args.variant_id
            )
        info = variant_info(variant)
        return StockLevel(
            variant_id=info.variant_id,
            product_id=variant.product_id,
            title=variant.product.title,
            sku=info.sku,
            options=info.options,
            price=info.price,
            stock=info.stock,
            available=info.available,
        )


class AlternativeVariant(VariantInfo):
    matching_options: list[str] = Field(description="Which requested options this variant has.")


class Availability(ToolResult):
    product_id: Id
    title: Name
    requested: dict[str, str] = Field(description="The requested options under the product's option names.")
    available: bool = Field(description="Whether a variant with all requested options is in stock.")
    matches: list[VariantInfo] = Field(
        description="Every variant with all requested options, in stock or not."
    )
    alternatives: list[AlternativeVariant] = Field(
        description="When nothing matching is in stock: in-stock variants sharing the most requested options."
    )
    option_values: dict[str, list[str]] = Field(description="Every option of the product and its values.")


class CheckAvailabilityArgs(ArgsModel):
    product_id: ProductId = Field(description="The product asked about.")
    options: dict[str, str] = Field(
        default_factory=dict,
        max_length=10,
        description='Wanted option values by option name, e.g. {"color": "blue", "size": "M"}.',
    )


class CheckAvailability(Tool[CheckAvailabilityArgs, Availability]):
    name = "check_availability"
    description = (
        "Whether a product is in stock with the given options (e.g. color blue, size M); "
        "lists the matching variants and, when none is in stock, the closest alternatives."
    )
    args_model = CheckAvailabilityArgs
    result_model = Availability

    def run(self, args: CheckAvailabilityArgs, *, ctx: ToolContext, env: ToolEnv) -> Availability:
        product = load_product(env, args.product_id)
        option_values = product_details(product).option_values
        names = {folded(name): name for name in option_values}
        wanted: dict[str, str] = {}
        for asked_name, asked_value in args.options.items():
            name = names.get(folded(asked_name))
            if name is None:
                known = ", ".join(option_values) or "(none)"
                problem = f"{product.title} has no option {asked_name.strip()!r}; its options are: {known}"
                raise InvalidArgumentsError(
                    problem,
                    errors=[{"argument": f"options.{asked_name}", "problem": problem}],
                    tool=self.name,
                    product_id=product.id,
                )
            # Report the value the way the shop spells it when it exists.
            wanted[name] = next(
                (v for v in option_values[name] if folded(v) == folded(asked_value)), asked_value.strip()
            )

        def shared(options: dict[str, Any]) -> list[str]:
            have = {str(k): folded(v) for k, v in (options or {}).items()}
            return [name for name, value in wanted.items() if have.get(name) == folded(value)]

        matches = [v for v in product.variants if len(shared(v.options)) == len(wanted)]
        available = any(v.stock > 0 for v in matches)
        alternatives: list[AlternativeVariant] = []
        if not available:
            in_stock = [v for v in product.variants if v.stock > 0]
            in_stock.sort(key=lambda v: (-len(shared(v.options)), -v.stock, v.id))
            alternatives = [
                AlternativeVariant(**variant_info(v).model_dump(), matching_options=shared(v.options))
                for v in in_stock[:MAX_ALTERNATIVES]
            ]
        return Availability(
            product_id=product.id,
            title=product.title,
            requested=wanted,
            available=available,
            matches=[variant_info(v) for v in matches],
            alternatives=alternatives,
            option_values=option_values,
        )


TOOLS: list[type[Tool[Any, Any]]] = [CheckStock, CheckAvailability]
