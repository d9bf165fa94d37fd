"""Commerce: discounts, coupons, tax, shipping tiers, carts and price comparisons."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import non_negative, not_empty, percent, positive

DOMAIN = "commerce"


class Offer(BaseModel):
    """One offer of a product: a label, its price and how much it contains."""

    label: str = Field(description="Name of the offer or shop.")
    price: float = Field(description="Price of the package.")
    quantity: float = Field(description="Amount in the package, in the offer's unit.")


class CartLine(BaseModel):
    """One line of a shopping cart."""

    name: str = Field(description="Product name.")
    unit_price: float = Field(description="Price of one unit.")
    quantity: int = Field(1, description="Number of units.")


@tool
def apply_percentage_discount(price: float, discount_percent: float, quantity: int = 1) -> dict:
    """Price after a percentage discount, for one or several units.

    Args:
        price: Price of one unit before the discount.
        discount_percent: The discount as a percentage of the price.
        quantity: Number of units bought.
    """
    non_negative(price=price)
    percent(discount_percent=discount_percent)
    positive(quantity=quantity)
    unit = price * (1 - discount_percent / 100)
    return {
        "unit_price": round(unit, 2),
        "total": round(unit * quantity, 2),
        "saved": round((price - unit) * quantity, 2),
    }


@tool
def stack_sequential_discounts(price: float, discounts_percent: list[float]) -> dict:
    """Apply several percentage discounts one after another (each on the already reduced price).

    Args:
        price: The original price.
        discounts_percent: The discounts in the order they apply, each a percentage.
    """
    non_negative(price=price)
    not_empty(discounts_percent=discounts_percent)
    current = price
    for d in discounts_percent:
        percent(discount=d)
        current *= 1 - d / 100
    return {
        "final_price": round(current, 2),
        "effective_discount_percent": round(100 * (1 - current / price), 2) if price else 0.0,
    }


# fixed offline table of the demo shop's coupon codes
_COUPONS = {
    "WELCOME10": {"kind": "percent", "value": 10, "min_subtotal": 0},
    "SAVE20": {"kind": "percent", "value": 20, "min_subtotal": 100},
    "TENOFF": {"kind": "fixed", "value": 10, "min_subtotal": 50},
    "FREESHIP": {"kind": "free_shipping", "value": 0, "min_subtotal": 30},
}


@tool
def apply_coupon_code(subtotal: float, coupon_code: str, shipping_fee: float = 0) -> dict:
    """Apply one of the shop's coupon codes to an order (the codes are a fixed offline table).

    Args:
        subtotal: Order value before the coupon.
        coupon_code: The coupon code the customer entered.
        shipping_fee: Shipping charged on the order.
    """
    non_negative(subtotal=subtotal, shipping_fee=shipping_fee)
    coupon = _COUPONS.get(coupon_code.strip().upper())
    if coupon is None:
        raise ValueError(f"unknown coupon code {coupon_code!r}; valid codes: {', '.join(_COUPONS)}")
    if subtotal < coupon["min_subtotal"]:
        raise ValueError(f"coupon {coupon_code} needs a subtotal of at least {coupon['min_subtotal']}")
    discount = {"percent": subtotal * coupon["value"] / 100, "fixed": min(coupon["value"], subtotal)}.get(
        coupon["kind"], 0.0
    )
    shipping = 0.0 if coupon["kind"] == "free_shipping" else shipping_fee
    return {
        "discount": round(discount, 2),
        "shipping": shipping,
        "total": round(subtotal - discount + shipping, 2),
    }


@tool
def sales_tax_amount(amount: float, tax_rate_percent: float, tax_included: bool = False) -> dict:
    """Sales tax on an amount; with tax_included, the tax contained in a gross amount.

    Args:
        amount: The amount (net, or gross when tax_included is true).
        tax_rate_percent: Tax rate as a percentage.
        tax_included: Whether the amount already includes the tax.
    """
    non_negative(amount=amount, tax_rate_percent=tax_rate_percent)
    rate = tax_rate_percent / 100
    net = amount / (1 + rate) if tax_included else amount
    return {"net": round(net, 2), "tax": round(net * rate, 2), "gross": round(net * (1 + rate), 2)}


# standard VAT rates (percent), fixed offline table
_VAT = {
    "DE": 19,
    "FR": 20,
    "IT": 22,
    "ES": 21,
    "NL": 21,
    "GB": 20,
    "SE": 25,
    "PL": 23,
    "JP": 10,
    "CN": 13,
    "IN": 18,
    "AU": 10,
}


@tool
def price_with_country_vat(net_price: float, country_code: Literal[tuple(_VAT)]) -> dict:  # type: ignore[valid-type]
    """Gross price of a net price under a country's standard VAT rate (fixed offline table of rates).

    Args:
        net_price: Price before VAT.
        country_code: Two-letter ISO code of the country.
    """
    non_negative(net_price=net_price)
    rate = _VAT[country_code]
    return {
        "vat_rate_percent": rate,
        "vat": round(net_price * rate / 100, 2),
        "gross": round(net_price * (1 + rate / 100), 2),
    }


# shipping tiers: (base fee, fee per kg above 1 kg, days); international costs 2.5x
_SHIPPING = {"economy": (4.0, 1.0, "5-8"), "standard": (6.5, 1.5, "2-4"), "express": (14.0, 3.0, "1")}


@tool
def shipping_cost_by_tier(
    weight_kg: float,
    tier: Literal["economy", "standard", "express"] = "standard",
    destination: Literal["domestic", "international"] = "domestic",
) -> dict:
    """Shipping fee and delivery time of a parcel for a shipping tier (the shop's fixed tariff).

    Args:
        weight_kg: Parcel weight in kilograms.
        tier: The shipping service level.
        destination: Whether the parcel stays in the country.
    """
    positive(weight_kg=weight_kg)
    base, per_kg, days = _SHIPPING[tier]
    fee = base + per_kg * max(0, math.ceil(weight_kg - 1))
    if destination == "international":
        fee *= 2.5
    return {"tier": tier, "fee": round(fee, 2), "delivery_days": days}


@tool
def free_shipping_gap(cart_total: float, threshold: float = 50) -> dict:
    """How much more must be added to a cart to reach the free-shipping threshold.

    Args:
        cart_total: Current value of the cart.
        threshold: Order value from which shipping is free.
    """
    non_negative(cart_total=cart_total, threshold=threshold)
    gap = max(0.0, threshold - cart_total)
    return {"qualifies": gap == 0, "amount_missing": round(gap, 2)}


@tool
def compare_unit_prices(offers: list[Offer]) -> dict:
    """Compare offers of the same product by price per unit and name the cheapest.

    Args:
        offers: The offers to compare, each with a label, price and quantity.
    """
    if len(offers) < 2:
        raise ValueError("give at least two offers to compare")
    rows = []
    for o in offers:
        positive(quantity=o.quantity)
        rows.append({"label": o.label, "unit_price": round(o.price / o.quantity, 4)})
    rows.sort(key=lambda r: r["unit_price"])
    return {"cheapest": rows[0]["label"], "ranking": rows}


@tool
def cart_total(
    items: list[CartLine], discount_percent: float = 0, tax_rate_percent: float = 0, shipping_fee: float = 0
) -> dict:
    """Total of a shopping cart: line items, an order discount, tax on the discounted amount and shipping.

    Args:
        items: The cart's lines.
        discount_percent: Discount on the whole order, as a percentage.
        tax_rate_percent: Tax rate applied after the discount, as a percentage.
        shipping_fee: Shipping added at the end (not taxed).
    """
    not_empty(items=items)
    percent(discount_percent=discount_percent)
    non_negative(tax_rate_percent=tax_rate_percent, shipping_fee=shipping_fee)
    for line in items:
        non_negative(unit_price=line.unit_price)
        positive(quantity=line.quantity)
    subtotal = sum(line.unit_price * line.quantity for line in items)
    discounted = subtotal * (1 - discount_percent / 100)
    tax = discounted * tax_rate_percent / 100
    return {
        "subtotal": round(subtotal, 2),
        "discount": round(subtotal - discounted, 2),
        "tax": round(tax, 2),
        "total": round(discounted + tax + shipping_fee, 2),
    }


@tool
def installment_plan(
    total_price: float, installments: int, fee_percent: float = 0, down_payment: float = 0
) -> dict:
    """Split a purchase into equal instalments after a down payment, with a one-off financing fee on the financed part.

    Args:
        total_price: Price of the purchase.
        installments: Number of equal instalments.
        fee_percent: Financing fee as a percentage of the financed amount.
        down_payment: Amount paid at purchase.
    """
    positive(total_price=total_price, installments=installments)
    non_negative(fee_percent=fee_percent)
    if not 0 <= down_payment <= total_price:
        raise ValueError("down_payment must be between 0 and total_price")
    financed = (total_price - down_payment) * (1 + fee_percent / 100)
    return {
        "per_installment": round(financed / installments, 2),
        "total_paid": round(down_payment + financed, 2),
    }


@tool
def price_from_target_margin(cost: float, margin_percent: float) -> dict:
    """Selling price that gives a target profit margin (margin as a share of the selling price).

    Args:
        cost: What the item costs the seller.
        margin_percent: Desired margin as a percentage of the selling price, below 100.
    """
    non_negative(cost=cost)
    if not 0 <= margin_percent < 100:
        raise ValueError(f"margin_percent must be at least 0 and below 100, got {margin_percent}")
    price = cost / (1 - margin_percent / 100)
    return {
        "price": round(price, 2),
        "profit": round(price - cost, 2),
        "markup_percent": round(100 * (price - cost) / cost, 2) if cost else None,
    }


@tool
def profit_margin_of_sale(cost: float, selling_price: float) -> dict:
    """Profit, margin and markup of an item sold at a given price.

    Args:
        cost: What the item costs the seller.
        selling_price: The price it sells for.
    """
    non_negative(cost=cost)
    positive(selling_price=selling_price)
    profit = selling_price - cost
    return {
        "profit": round(profit, 2),
        "margin_percent": round(100 * profit / selling_price, 2),
        "markup_percent": round(100 * profit / cost, 2) if cost else None,
    }


TOOLS = [
    apply_percentage_discount,
    stack_sequential_discounts,
    apply_coupon_code,
    sales_tax_amount,
    price_with_country_vat,
    shipping_cost_by_tier,
    free_shipping_gap,
    compare_unit_prices,
    cart_total,
    installment_plan,
    price_from_target_margin,
    profit_margin_of_sale,
]
