"""Real estate: mortgage payments with taxes and insurance, yearly amortisation, affordability, rent versus buy,
price per area and rental yields (payment maths by numpy-financial)."""

from __future__ import annotations

from typing import Literal

import numpy_financial as npf

from ....tools import tool
from ._checks import non_negative, percent, positive
from .finance import _monthly_payment

DOMAIN = "real_estate"

_SQFT_PER_M2 = 10.763910416709722


def _payment(principal: float, annual_rate_percent: float, years: int) -> float:
    """Monthly payment of a fixed-rate mortgage."""
    positive(years=years)
    return _monthly_payment(principal, annual_rate_percent, years * 12)


@tool
def mortgage_monthly_housing_cost(
    home_price: float,
    down_payment: float,
    annual_rate_percent: float,
    years: int = 30,
    property_tax_percent: float = 0,
    insurance_per_year: float = 0,
    hoa_per_month: float = 0,
) -> dict:
    """Monthly cost of a mortgaged home: principal and interest plus property tax, insurance and HOA fees.

    Args:
        home_price: Purchase price of the home.
        down_payment: Amount paid up front.
        annual_rate_percent: Mortgage interest rate per year, in percent.
        years: Mortgage term in years.
        property_tax_percent: Yearly property tax as a percentage of the price.
        insurance_per_year: Home insurance per year.
        hoa_per_month: Home-owners' association fee per month.
    """
    if not 0 <= down_payment < home_price:
        raise ValueError("down_payment must be at least 0 and below home_price")
    non_negative(
        property_tax_percent=property_tax_percent,
        insurance_per_year=insurance_per_year,
        hoa_per_month=hoa_per_month,
    )
    pi = _payment(home_price - down_payment, annual_rate_percent, years)
    tax = home_price * property_tax_percent / 100 / 12
    total = pi + tax + insurance_per_year / 12 + hoa_per_month
    return {
        "loan_amount": round(home_price - down_payment, 2),
        "principal_and_interest": round(pi, 2),
        "property_tax": round(tax, 2),
        "total_monthly": round(total, 2),
    }


@tool
def mortgage_yearly_amortization(
    principal: float, annual_rate_percent: float, years: int = 30, extra_monthly_payment: float = 0
) -> dict:
    """Year-by-year mortgage summary (interest paid, principal repaid, balance), with optional extra monthly payments.

    Args:
        principal: Amount borrowed.
        annual_rate_percent: Interest rate per year, in percent.
        years: Mortgage term in years.
        extra_monthly_payment: Amount paid on top of the regular payment every month.
    """
    non_negative(extra_monthly_payment=extra_monthly_payment)
    payment = _payment(principal, annual_rate_percent, years)
    r, balance, rows, months = annual_rate_percent / 1200, principal, [], 0
    while balance > 0.005 and months < years * 12:
        interest_y = principal_y = 0.0
        for _ in range(12):
            if balance <= 0.005:
                break
            interest = balance * r
            repaid = min(balance, payment + extra_monthly_payment - interest)
            balance -= repaid
            interest_y, principal_y, months = interest_y + interest, principal_y + repaid, months + 1
        rows.append(
            {
                "year": len(rows) + 1,
                "interest": round(interest_y, 2),
                "principal": round(principal_y, 2),
                "balance": round(max(balance, 0), 2),
            }
        )
    return {
        "monthly_payment": round(payment, 2),
        "months_to_payoff": months,
        "total_interest": round(sum(x["interest"] for x in rows), 2),
        "years": rows,
    }


@tool
def affordable_home_price(
    monthly_budget: float, annual_rate_percent: float, down_payment: float = 0, years: int = 30
) -> dict:
    """The highest home price whose mortgage payment (principal and interest) fits a monthly budget.

    Args:
        monthly_budget: The most that can be paid per month.
        annual_rate_percent: Mortgage interest rate per year, in percent.
        down_payment: Amount available to pay up front.
        years: Mortgage term in years.
    """
    positive(monthly_budget=monthly_budget, years=years)
    non_negative(annual_rate_percent=annual_rate_percent, down_payment=down_payment)
    r, n = annual_rate_percent / 1200, years * 12
    loan = float(npf.pv(r, n, -monthly_budget)) if r else monthly_budget * n
    return {"max_loan": round(loan, 2), "max_home_price": round(loan + down_payment, 2)}


@tool
def rent_vs_buy_comparison(
    home_price: float,
    monthly_rent: float,
    annual_rate_percent: float,
    horizon_years: int,
    down_payment_percent: float = 20,
    rent_increase_percent: float = 3,
    home_appreciation_percent: float = 3,
    yearly_ownership_cost_percent: float = 1.5,
) -> dict:
    """Compare renting with buying over a number of years: total rent paid versus the net cost of owning
    (payments and ownership costs minus the equity built up when the home is sold at the end).

    Args:
        home_price: Price of the home.
        monthly_rent: Rent of a comparable home today, per month.
        annual_rate_percent: Mortgage interest rate per year, in percent.
        horizon_years: Number of years compared (the mortgage runs 30 years).
        down_payment_percent: Down payment as a percentage of the price.
        rent_increase_percent: Yearly rent increase, in percent.
        home_appreciation_percent: Yearly rise in the home's value, in percent.
        yearly_ownership_cost_percent: Property tax, insurance and upkeep per year, as a percentage of the price.
    """
    positive(home_price=home_price, monthly_rent=monthly_rent, horizon_years=horizon_years)
    percent(down_payment_percent=down_payment_percent)
    if horizon_years > 30:
        raise ValueError("horizon_years must be at most 30")
    down = home_price * down_payment_percent / 100
    loan = home_price - down
    pay = _payment(loan, annual_rate_percent, 30) if loan else 0.0
    rent_total = sum(monthly_rent * 12 * (1 + rent_increase_percent / 100) ** y for y in range(horizon_years))
    months = horizon_years * 12
    r = annual_rate_percent / 1200
    balance = float(npf.fv(r, months, pay, -loan)) if loan and r else max(0.0, loan - pay * months)
    value = home_price * (1 + home_appreciation_percent / 100) ** horizon_years
    own_cost = (
        down
        + pay * months
        + home_price * yearly_ownership_cost_percent / 100 * horizon_years
        - (value - balance)
    )
    return {
        "total_rent": round(rent_total, 2),
        "net_cost_of_buying": round(own_cost, 2),
        "cheaper": "buy" if own_cost < rent_total else "rent",
        "difference": round(abs(rent_total - own_cost), 2),
    }


@tool
def price_per_area(price: float, area: float, area_unit: Literal["m2", "ft2"] = "m2") -> dict:
    """Price per square metre and per square foot of a property.

    Args:
        price: Price of the property.
        area: Floor area.
        area_unit: Unit the area is given in.
    """
    positive(price=price, area=area)
    m2 = area if area_unit == "m2" else area / _SQFT_PER_M2
    return {
        "per_m2": round(price / m2, 2),
        "per_ft2": round(price / (m2 * _SQFT_PER_M2), 2),
        "area_m2": round(m2, 2),
    }


@tool
def rental_yield(
    property_price: float, monthly_rent: float, yearly_costs: float = 0, vacancy_percent: float = 0
) -> dict:
    """Gross and net rental yield of a rented property.

    Args:
        property_price: Purchase price of the property.
        monthly_rent: Rent charged per month.
        yearly_costs: Yearly running costs paid by the landlord.
        vacancy_percent: Share of the year the property stands empty, in percent.
    """
    positive(property_price=property_price)
    non_negative(monthly_rent=monthly_rent, yearly_costs=yearly_costs)
    percent(vacancy_percent=vacancy_percent)
    gross = monthly_rent * 12
    net = gross * (1 - vacancy_percent / 100) - yearly_costs
    return {
        "gross_yield_percent": round(100 * gross / property_price, 2),
        "net_yield_percent": round(100 * net / property_price, 2),
        "net_income": round(net, 2),
    }


@tool
def down_payment_and_closing(
    home_price: float, down_payment_percent: float, closing_cost_percent: float = 3
) -> dict:
    """Cash needed at purchase: the down payment plus closing costs, and the loan that remains.

    Args:
        home_price: Price of the home.
        down_payment_percent: Down payment as a percentage of the price.
        closing_cost_percent: Closing costs (fees, transfer taxes) as a percentage of the price.
    """
    positive(home_price=home_price)
    percent(down_payment_percent=down_payment_percent, closing_cost_percent=closing_cost_percent)
    down = home_price * down_payment_percent / 100
    closing = home_price * closing_cost_percent / 100
    return {
        "down_payment": round(down, 2),
        "closing_costs": round(closing, 2),
        "cash_needed": round(down + closing, 2),
        "loan_amount": round(home_price - down, 2),
    }


@tool
def loan_to_value_ratio(loan_amount: float, appraised_value: float) -> dict:
    """Loan-to-value ratio of a mortgage, and whether it is above the usual 80 % mark for mortgage insurance.

    Args:
        loan_amount: Outstanding loan.
        appraised_value: Appraised value of the property.
    """
    non_negative(loan_amount=loan_amount)
    positive(appraised_value=appraised_value)
    ltv = 100 * loan_amount / appraised_value
    return {"ltv_percent": round(ltv, 2), "above_80_percent": ltv > 80}


TOOLS = [
    mortgage_monthly_housing_cost,
    mortgage_yearly_amortization,
    affordable_home_price,
    rent_vs_buy_comparison,
    price_per_area,
    rental_yield,
    down_payment_and_closing,
    loan_to_value_ratio,
]
