"""Shopping flows: add a product to the cart (choosing the variant), and checkout."""

from __future__ import annotations

from typing import Any

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled, FlowBase, Slots, confirm, refusal
from assistant.decide.flows.payment import named_methods
from assistant.decide.references import resolve_products, which_product
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import choices, options_text
from assistant.sessions.slots import SlotName
from core.words import words
from tools.cart import AddToCart, ViewCart
from tools.catalog import GetProduct
from tools.checkout import Checkout, CheckoutResult
from tools.customer import GetCustomerProfile
from tools.policy import ToolOutcome


def variant_label(options: dict[str, Any]) -> str:
    return options_text(options)


def match_variants(turn: Turn, variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The variants whose options the message names (by color/size entities or option words)."""
    said = set(words(turn.text, keep="."))
    wanted_colors = {c.name for c in turn.entities.colors}
    colors = turn.entities.colors
    sizes = turn.entities.sizes
    found = []
    for variant in variants:
        options = {str(k).lower(): str(v) for k, v in variant["options"].items()}
        if turn.text.strip().lower() == variant_label(variant["options"]).lower():
            return [variant]
        ok = True
        named = False
        if "color" in options and (colors or wanted_colors):
            named = True
            ok &= any(c.matches(options["color"]) for c in colors)
        if "size" in options and sizes:
            named = True
            ok &= any(s.matches(options["size"]) for s in sizes)
        for key, value in options.items():
            if key not in ("color", "size") and value.lower() in said:
                named = True
        if named and ok:
            found.append(variant)
    return found


class AddToCartFlow(FlowBase):
    name = "add_to_cart"

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = Filled()
        if "quantity" not in slots:
            filled.values["quantity"] = turn.entities.quantities[0] if turn.entities.quantities else 1
        if "product" not in slots:
            ids = resolve_products(turn)
            if len(ids) > 1:
                filled.problem = which_product(turn, ctx, ids)
                filled.problem_slot = "product"
                return filled
            if not ids:
                return filled
            product = turn.call(GetProduct, {"product_id": ids[0]})
            if isinstance(product, ToolError):
                filled.problem, filled.abort = refusal(ctx, product), True
                return filled
            details = product.result
            filled.values["product"] = details.product_id
            filled.values["title"] = details.title
            filled.values["variants"] = [
                {"variant_id": v.variant_id, "options": v.options, "available": v.available}
                for v in details.variants
            ]
        variants = filled.values.get("variants") or slots.get("variants") or []
        if "variant" in slots or not variants:
            return filled
        available = [v for v in variants if v["available"]]
        picked = match_variants(turn, variants)
        picked_available = [v for v in picked if v["available"]]
        if len(picked) == 1:
            filled.values["variant"] = picked[0]["variant_id"]
        elif len(picked_available) == 1:  # "size 9" when only the blue size 9 is in stock
            filled.values["variant"] = picked_available[0]["variant_id"]
        elif len(variants) == 1:
            filled.values["variant"] = variants[0]["variant_id"]
        elif len(available) == 1 and not picked:
            filled.values["variant"] = available[0]["variant_id"]
        return filled

    def ask(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        if slot == "product":
            if not turn.state.last_products:
                return ctx.draft("nothing_shown", failed=True)
            return which_product(turn, ctx)
        available = [v for v in slots["variants"] if v["available"]] or slots["variants"]
        text, buttons = choices([variant_label(v["options"]) for v in available])
        return ctx.draft("ask_variant", title=slots["title"], choices=text, quick_replies=buttons)

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        outcome = turn.call(AddToCart, {"variant_id": slots["variant"], "quantity": slots["quantity"]})
        if isinstance(outcome, ToolError):
            return refusal(ctx, outcome)
        cart = outcome.result
        if not turn.state.slots.cart_seen:
            turn.set_slot(SlotName.CART_SEEN, True)
        line = next(i for i in cart.items if i.variant_id == slots["variant"])
        return ctx.draft(
            "cart_added",
            quantity=slots["quantity"],
            title=line.title,
            options=options_text(line.options),
            count=cart.item_count,
            total=ctx.money(cart.quote.total if cart.quote else 0),
            results=[cart],
        )


class CheckoutFlow(FlowBase):
    name = "checkout"
    tools = (Checkout,)

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = Filled()
        if "cart_checked" not in slots:
            cart = turn.call(ViewCart, {})
            if isinstance(cart, ToolError):
                return Filled(problem=refusal(ctx, cart), abort=True)
            view = cart.result
            if not view.items:
                return Filled(problem=ctx.draft("cart_empty"), abort=True)
            if view.problems:
                reason = "; ".join(view.problems)
                return Filled(problem=ctx.draft("action_refused", reason=reason), abort=True)
            filled.values["cart_checked"] = True
        if "payment_method" in slots:
            return filled
        profile = turn.call(GetCustomerProfile, {})
        if isinstance(profile, ToolError):
            return Filled(problem=refusal(ctx, profile), abort=True)
        methods = list(profile.result.payment_methods)
        filled.values["methods"] = [{"id": m.payment_method_id, "label": m.label} for m in methods]
        matching = named_methods(turn.text, methods)
        if len(methods) == 1:
            filled.values["payment_method"] = methods[0].payment_method_id
        elif len(matching) == 1:
            filled.values["payment_method"] = matching[0].payment_method_id
        return filled

    def ask(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        text, buttons = choices([m["label"] for m in slots.get("methods", [])])
        return ctx.draft("ask_payment_method", choices=text, quick_replies=buttons)

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        return confirm(turn, ctx, Checkout, {"payment_method_id": slots["payment_method"]})

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[CheckoutResult]) -> Draft:
        result = outcome.result
        turn.set_slot(SlotName.CURRENT_ORDER, result.order_id)
        return ctx.draft(
            "checkout_done",
            order_id=result.order_id,
            count=sum(line.quantity for line in result.items),
            total=ctx.money(result.total),
            payment=result.payment_method,
            ship_to=result.ship_to,
            results=[result],
        )


SHOP_FLOWS = (AddToCartFlow, CheckoutFlow)
