"""Payroll and HR: net pay from given rates, overtime, progressive tax brackets, leave accrual, pro-rating."""

from __future__ import annotations

import calendar
from datetime import date

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import non_negative, not_empty, percent, positive

DOMAIN = "payroll_hr"


class TaxBracket(BaseModel):
    """One bracket of a progressive tax schedule."""

    up_to: float | None = Field(None, description="Upper end of the bracket; empty for the top bracket.")
    rate_percent: float = Field(description="Tax rate on income inside the bracket, in percent.")


@tool
def net_pay_from_gross(
    gross_pay: float,
    income_tax_percent: float,
    social_security_percent: float = 0,
    pre_tax_deductions: float = 0,
    post_tax_deductions: float = 0,
) -> dict:
    """Net (take-home) pay from gross pay with flat tax and contribution rates that the caller supplies.

    Args:
        gross_pay: Gross pay for the period.
        income_tax_percent: Income tax rate on taxable pay, in percent.
        social_security_percent: Employee social-security contribution on gross pay, in percent.
        pre_tax_deductions: Deductions taken before tax (pension contributions and the like).
        post_tax_deductions: Deductions taken after tax.
    """
    non_negative(
        gross_pay=gross_pay, pre_tax_deductions=pre_tax_deductions, post_tax_deductions=post_tax_deductions
    )
    percent(income_tax_percent=income_tax_percent, social_security_percent=social_security_percent)
    taxable = max(0.0, gross_pay - pre_tax_deductions)
    tax = taxable * income_tax_percent / 100
    social = gross_pay * social_security_percent / 100
    net = gross_pay - pre_tax_deductions - tax - social - post_tax_deductions
    return {
        "taxable_pay": round(taxable, 2),
        "income_tax": round(tax, 2),
        "social_security": round(social, 2),
        "net_pay": round(net, 2),
    }


@tool
def overtime_pay(
    hourly_rate: float, hours_worked: float, regular_hours: float = 40, overtime_multiplier: float = 1.5
) -> dict:
    """Pay for a week with overtime: hours beyond the regular hours paid at a multiple of the rate.

    Args:
        hourly_rate: Regular pay per hour.
        hours_worked: Hours worked in the week.
        regular_hours: Hours paid at the regular rate.
        overtime_multiplier: Factor applied to the rate for overtime hours.
    """
    positive(hourly_rate=hourly_rate, regular_hours=regular_hours)
    non_negative(hours_worked=hours_worked)
    if overtime_multiplier < 1:
        raise ValueError("overtime_multiplier must be at least 1")
    over = max(0.0, hours_worked - regular_hours)
    regular = (hours_worked - over) * hourly_rate
    extra = over * hourly_rate * overtime_multiplier
    return {
        "overtime_hours": over,
        "regular_pay": round(regular, 2),
        "overtime_pay": round(extra, 2),
        "total_pay": round(regular + extra, 2),
    }


@tool
def weekly_overtime_hours(
    daily_hours: list[float], weekly_limit: float = 40, daily_limit: float | None = None
) -> dict:
    """Overtime hours in a week of daily time records, by a weekly limit and optionally a daily limit.

    With a daily limit, hours over it count as overtime each day, and the weekly limit applies to the rest.

    Args:
        daily_hours: Hours worked on each day of the week.
        weekly_limit: Regular hours allowed per week.
        daily_limit: Regular hours allowed per day.
    """
    not_empty(daily_hours=daily_hours)
    if len(daily_hours) > 7:
        raise ValueError("a week has at most 7 days of records")
    for h in daily_hours:
        if not 0 <= h <= 24:
            raise ValueError(f"daily hours must be between 0 and 24, got {h}")
    daily_over = sum(max(0.0, h - daily_limit) for h in daily_hours) if daily_limit is not None else 0.0
    regular = sum(daily_hours) - daily_over
    weekly_over = max(0.0, regular - weekly_limit)
    return {
        "total_hours": sum(daily_hours),
        "overtime_hours": round(daily_over + weekly_over, 2),
        "regular_hours": round(regular - weekly_over, 2),
    }


@tool
def progressive_tax_amount(taxable_income: float, brackets: list[TaxBracket]) -> dict:
    """Tax on an income under a progressive schedule of brackets that the caller supplies.

    Args:
        taxable_income: Income the tax applies to.
        brackets: Brackets in increasing order; the top one has no upper end.
    """
    non_negative(taxable_income=taxable_income)
    not_empty(brackets=brackets)
    if brackets[-1].up_to is not None:
        raise ValueError("the top bracket must have no upper end")
    lower, tax, rows = 0.0, 0.0, []
    for b in brackets:
        percent(rate_percent=b.rate_percent)
        top = float("inf") if b.up_to is None else b.up_to
        if top <= lower:
            raise ValueError("bracket upper ends must increase")
        part = max(0.0, min(taxable_income, top) - lower)
        if part:
            rows.append(
                {
                    "income": round(part, 2),
                    "rate_percent": b.rate_percent,
                    "tax": round(part * b.rate_percent / 100, 2),
                }
            )
        tax += part * b.rate_percent / 100
        lower = top
    return {
        "tax": round(tax, 2),
        "effective_rate_percent": round(100 * tax / taxable_income, 2) if taxable_income else 0.0,
        "by_bracket": rows,
    }


@tool
def leave_balance_accrued(
    start_date: date, as_of_date: date, days_per_year: float, carried_over: float = 0, days_taken: float = 0
) -> dict:
    """Paid leave earned from a start date up to a date (accrued per completed month), with carry-over and days taken.

    Args:
        start_date: Date accrual starts (hire date or start of the leave year).
        as_of_date: Date the balance is wanted for.
        days_per_year: Leave days earned per full year.
        carried_over: Days brought forward from earlier.
        days_taken: Days already used.
    """
    if as_of_date < start_date:
        raise ValueError("as_of_date is before start_date")
    non_negative(days_per_year=days_per_year, carried_over=carried_over, days_taken=days_taken)
    months = (
        (as_of_date.year - start_date.year) * 12
        + as_of_date.month
        - start_date.month
        - (as_of_date.day < start_date.day)
    )
    earned = days_per_year / 12 * months
    return {
        "months_completed": months,
        "earned": round(earned, 2),
        "balance": round(earned + carried_over - days_taken, 2),
    }


@tool
def prorated_salary(annual_salary: float, start_date: date, end_date: date) -> dict:
    """Salary owed for part of a year, pro rata by calendar days (both dates included).

    Args:
        annual_salary: Salary for a full year.
        start_date: First day worked.
        end_date: Last day worked.
    """
    positive(annual_salary=annual_salary)
    if end_date < start_date:
        raise ValueError("end_date is before start_date")
    days = (end_date - start_date).days + 1
    year_days = 366 if calendar.isleap(start_date.year) else 365
    return {"days": days, "amount": round(annual_salary * days / year_days, 2)}


@tool
def annual_salary_to_hourly(
    annual_salary: float, hours_per_week: float = 40, weeks_per_year: float = 52
) -> dict:
    """Hourly, weekly and monthly equivalents of an annual salary.

    Args:
        annual_salary: Salary per year.
        hours_per_week: Working hours per week.
        weeks_per_year: Paid weeks per year.
    """
    positive(annual_salary=annual_salary, hours_per_week=hours_per_week, weeks_per_year=weeks_per_year)
    return {
        "hourly": round(annual_salary / (hours_per_week * weeks_per_year), 2),
        "weekly": round(annual_salary / weeks_per_year, 2),
        "monthly": round(annual_salary / 12, 2),
    }


@tool
def hourly_rate_to_annual(hourly_rate: float, hours_per_week: float = 40, weeks_per_year: float = 52) -> dict:
    """Annual and monthly pay of an hourly rate.

    Args:
        hourly_rate: Pay per hour.
        hours_per_week: Working hours per week.
        weeks_per_year: Paid weeks per year.
    """
    positive(hourly_rate=hourly_rate, hours_per_week=hours_per_week, weeks_per_year=weeks_per_year)
    annual = hourly_rate * hours_per_week * weeks_per_year
    return {"annual": round(annual, 2), "monthly": round(annual / 12, 2)}


@tool
def employer_total_cost(
    gross_salary: float, employer_contribution_percent: float, benefits_per_year: float = 0
) -> dict:
    """What an employee costs the employer per year: gross salary, employer contributions and benefits.

    Args:
        gross_salary: Gross salary per year.
        employer_contribution_percent: Employer's social contributions on the salary, in percent.
        benefits_per_year: Other benefits paid per year.
    """
    positive(gross_salary=gross_salary)
    percent(employer_contribution_percent=employer_contribution_percent)
    non_negative(benefits_per_year=benefits_per_year)
    contrib = gross_salary * employer_contribution_percent / 100
    total = gross_salary + contrib + benefits_per_year
    return {
        "employer_contributions": round(contrib, 2),
        "total_cost": round(total, 2),
        "cost_to_salary_ratio": round(total / gross_salary, 3),
    }


TOOLS = [
    net_pay_from_gross,
    overtime_pay,
    weekly_overtime_hours,
    progressive_tax_amount,
    leave_balance_accrued,
    prorated_salary,
    annual_salary_to_hourly,
    hourly_rate_to_annual,
    employer_total_cost,
]
