"""Finance: interest, loans, savings, discounted cash flows and currency conversion.

Exchange rates come from a fixed offline table (units of each currency per US dollar); the
cash-flow maths is numpy-financial's.
"""

from __future__ import annotations

from typing import Literal

import numpy_financial as npf

from ....tools import tool
from ._checks import non_negative, not_empty, positive
from ._spec import function_spec, number, string

DOMAIN = "finance"

Currency = Literal["USD", "EUR", "GBP", "JPY", "CNY", "CHF", "CAD", "AUD", "INR", "KRW", "BRL", "MXN", "SEK"]

#: units of each currency for one US dollar (a fixed offline table, not live rates)
PER_USD: dict[str, float] = {
    "USD": 1.0,
    "EUR": 0.92,
    "GBP": 0.79,
    "JPY": 151.5,
    "CNY": 7.24,
    "CHF": 0.90,
    "CAD": 1.36,
    "AUD": 1.53,
    "INR": 83.4,
    "KRW": 1345.0,
    "BRL": 5.05,
    "MXN": 17.1,
    "SEK": 10.6,
}


def _money(x: float) -> float:
    return round(float(x), 2)


def _monthly_payment(principal: float, annual_rate_percent: float, term_months: int) -> float:
    positive(principal=principal, term_months=term_months)
    non_negative(annual_rate_percent=annual_rate_percent)
    rate = annual_rate_percent / 100 / 12
    return float(-npf.pmt(rate, term_months, principal)) if rate else principal / term_months


@tool
def compound_interest_balance(
    principal: float, annual_rate_percent: float, years: float, compounds_per_year: int = 12
) -> dict:
    """Grow a deposit with compound interest and report the final balance and the interest earned.

    Args:
        principal: Amount deposited at the start.
        annual_rate_percent: Nominal yearly interest rate in percent.
        years: How long the money stays invested, in years.
        compounds_per_year: How many times per year interest is added to the balance.
    """
    positive(principal=principal, years=years, compounds_per_year=compounds_per_year)
    non_negative(annual_rate_percent=annual_rate_percent)
    final = principal * (1 + annual_rate_percent / 100 / compounds_per_year) ** (compounds_per_year * years)
    return {"final_balance": _money(final), "interest_earned": _money(final - principal)}


@tool
def simple_interest_on_principal(principal: float, annual_rate_percent: float, years: float) -> dict:
    """Interest on a principal at a flat yearly rate, without compounding.

    Args:
        principal: Amount lent or deposited.
        annual_rate_percent: Yearly interest rate in percent.
        years: Duration in years.
    """
    positive(principal=principal, years=years)
    non_negative(annual_rate_percent=annual_rate_percent)
    interest = principal * annual_rate_percent / 100 * years
    return {"interest": _money(interest), "total": _money(principal + interest)}


@tool
def loan_monthly_payment(principal: float, annual_rate_percent: float, term_months: int) -> dict:
    """The fixed monthly payment that repays an amortizing loan over its term.

    Args:
        principal: Amount borrowed.
        annual_rate_percent: Yearly interest rate in percent.
        term_months: Number of monthly payments.
    """
    return {"monthly_payment": _money(_monthly_payment(principal, annual_rate_percent, term_months))}


@tool
def loan_total_interest(principal: float, annual_rate_percent: float, term_months: int) -> dict:
    """Total interest and total amount paid over the life of an amortizing loan.

    Args:
        principal: Amount borrowed.
        annual_rate_percent: Yearly interest rate in percent.
        term_months: Number of monthly payments.
    """
    total = _monthly_payment(principal, annual_rate_percent, term_months) * term_months
    return {"total_paid": _money(total), "total_interest": _money(total - principal)}


@tool
def loan_amortization_schedule(
    principal: float, annual_rate_percent: float, term_months: int, max_rows: int = 12
) -> dict:
    """Month-by-month split of each loan payment into interest and principal, with the balance left.

    Args:
        principal: Amount borrowed.
        annual_rate_percent: Yearly interest rate in percent.
        term_months: Number of monthly payments.
        max_rows: How many months of the schedule to return, from the first.
    """
    positive(max_rows=max_rows)
    payment = _monthly_payment(principal, annual_rate_percent, term_months)
    rate = annual_rate_percent / 100 / 12
    balance, rows = principal, []
    for month in range(1, min(term_months, max_rows) + 1):
        interest = balance * rate
        balance -= payment - interest
        rows.append(
            {
                "month": month,
                "interest": _money(interest),
                "principal": _money(payment - interest),
                "balance": _money(max(balance, 0.0)),
            }
        )
    return {"monthly_payment": _money(payment), "rows": rows}


@tool
def net_present_value(discount_rate_percent: float, cash_flows: list[float]) -> dict:
    """Net present value of a series of yearly cash flows, the first one occurring today.

    Args:
        discount_rate_percent: Yearly discount rate in percent.
        cash_flows: Cash flows per year, starting now; investments are negative.
    """
    not_empty(cash_flows=cash_flows)
    return {"npv": _money(npf.npv(discount_rate_percent / 100, cash_flows))}


@tool
def internal_rate_of_return(cash_flows: list[float]) -> dict:
    """The discount rate at which a series of yearly cash flows has a net present value of zero.

    Args:
        cash_flows: Cash flows per year, starting now; at least one must be negative and one positive.
    """
    if len(cash_flows) < 2 or not (min(cash_flows) < 0 < max(cash_flows)):
        raise ValueError("cash_flows needs at least one negative and one positive value")
    irr = npf.irr(cash_flows)
    if irr != irr:  # NaN: no real solution
        raise ValueError("these cash flows have no internal rate of return")
    return {"irr_percent": round(float(irr) * 100, 4)}


@tool
def exchange_currency_amount(amount: float, from_currency: Currency, to_currency: Currency) -> dict:
    """Convert an amount between currencies using a fixed offline table of exchange rates.

    Args:
        amount: Amount in the source currency.
        from_currency: ISO code of the currency the amount is in.
        to_currency: ISO code of the currency wanted.
    """
    non_negative(amount=amount)
    rate = PER_USD[to_currency] / PER_USD[from_currency]
    return {
        "converted_amount": _money(amount * rate),
        "rate": round(rate, 6),
        "source": "fixed offline table",
    }


@tool
def list_exchange_rates(base_currency: Currency = "USD") -> dict:
    """Every exchange rate of the fixed offline table, expressed against one base currency.

    Args:
        base_currency: Currency the rates are quoted against.
    """
    base = PER_USD[base_currency]
    return {"base": base_currency, "rates": {c: round(v / base, 6) for c, v in PER_USD.items()}}


@tool
def savings_goal_monthly_deposit(
    target_amount: float, annual_rate_percent: float, years: float, initial_deposit: float = 0.0
) -> dict:
    """The monthly deposit needed to reach a savings target, with interest compounded monthly.

    Args:
        target_amount: Balance wanted at the end.
        annual_rate_percent: Yearly interest rate in percent.
        years: Time available, in years.
        initial_deposit: Amount already saved at the start.
    """
    positive(target_amount=target_amount, years=years)
    non_negative(annual_rate_percent=annual_rate_percent, initial_deposit=initial_deposit)
    months = round(years * 12)
    rate = annual_rate_percent / 100 / 12
    deposit = float(npf.pmt(rate, months, -initial_deposit, target_amount)) * -1
    return {"monthly_deposit": _money(max(deposit, 0.0)), "months": months}


@tool
def inflation_adjusted_value(
    amount: float,
    annual_inflation_percent: float,
    years: float,
    direction: Literal["future_cost", "present_value"] = "future_cost",
) -> dict:
    """Adjust an amount for inflation: what it will cost in the future, or what a future sum is worth today.

    Args:
        amount: The amount of money.
        annual_inflation_percent: Average yearly inflation in percent.
        years: Number of years between the two dates.
        direction: future_cost grows today's amount by inflation; present_value discounts a future amount to today.
    """
    non_negative(amount=amount, years=years)
    factor = (1 + annual_inflation_percent / 100) ** years
    adjusted = amount * factor if direction == "future_cost" else amount / factor
    return {"adjusted_amount": _money(adjusted), "factor": round(factor, 6), "direction": direction}


TOOLS = [
    compound_interest_balance,
    simple_interest_on_principal,
    loan_monthly_payment,
    loan_total_interest,
    loan_amortization_schedule,
    net_present_value,
    internal_rate_of_return,
    exchange_currency_amount,
    list_exchange_rates,
    savings_goal_monthly_deposit,
    inflation_adjusted_value,
]

SPECS = [
    function_spec(
        "lookup_stock_quote",
        "Latest trading price, daily change and volume of a listed stock.",
        {
            "ticker": string("Ticker symbol of the stock."),
            "exchange": string(
                "Exchange the stock trades on.", enum=["NYSE", "NASDAQ", "LSE", "TSE", "HKEX", "SSE"]
            ),
            "include_history_days": number(
                "Also return closing prices for this many past days.", default=0, integer=True
            ),
        },
        ["ticker"],
    ),
    function_spec(
        "compare_mortgage_offers",
        "Current mortgage offers from lenders in a country, ranked by annual percentage rate.",
        {
            "country": string("Country where the property is."),
            "loan_amount": number("Amount to borrow."),
            "term_years": number("Length of the mortgage in years.", integer=True),
            "rate_type": string(
                "Whether the rate is fixed or follows the market.",
                enum=["fixed", "variable"],
                default="fixed",
            ),
        },
        ["country", "loan_amount", "term_years"],
    ),
]
