"""Dates and calendars: differences, weekdays, business days, leap years, ISO weeks and ages.

Every tool takes its dates as arguments (ISO ``YYYY-MM-DD``); none reads the clock. Business
days are numpy's ``busday_*`` functions, calendar arithmetic is dateutil's ``relativedelta``.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Literal

import numpy as np
from dateutil.relativedelta import relativedelta

from ....tools import tool
from ._spec import function_spec, number, string

DOMAIN = "dates_calendars"

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _ordered(start: date, end: date) -> None:
    if end < start:
        raise ValueError(f"end_date {end} is before start_date {start}")


def _holidays(holidays: list[date] | None) -> list[str]:
    return [d.isoformat() for d in holidays or []]


@tool
def days_between_dates(start_date: date, end_date: date, include_end_date: bool = False) -> dict:
    """Number of days, and whole weeks, from one date to another.

    Args:
        start_date: First date.
        end_date: Second date; may be earlier than the first, which gives a negative count.
        include_end_date: Count the end date itself as one more day.
    """
    days = (end_date - start_date).days
    if include_end_date:
        days += 1 if days >= 0 else -1
    return {"days": days, "weeks": int(days / 7), "remaining_days": days - int(days / 7) * 7}


@tool
def weekday_of_date(day: date) -> dict:
    """The day of the week a date falls on.

    Args:
        day: The date.
    """
    return {"date": day.isoformat(), "weekday": _WEEKDAYS[day.weekday()], "is_weekend": day.weekday() >= 5}


@tool
def add_days_to_date(
    start_date: date, days: int = 0, weeks: int = 0, months: int = 0, years: int = 0
) -> dict:
    """Move a date forward (or back, with negative numbers) by calendar days, weeks, months and years.

    Args:
        start_date: The date to start from.
        days: Days to add.
        weeks: Weeks to add.
        months: Calendar months to add; the day is clipped to the end of a shorter month.
        years: Years to add.
    """
    result = start_date + relativedelta(days=days, weeks=weeks, months=months, years=years)
    return {"date": result.isoformat(), "weekday": _WEEKDAYS[result.weekday()]}


@tool
def add_business_days(start_date: date, business_days: int, holidays: list[date] | None = None) -> dict:
    """The date a number of working days (Monday to Friday, minus holidays) after a start date.

    Args:
        start_date: The date to count from; if it is not a working day, counting starts at the next one.
        business_days: Working days to add; negative counts backwards.
        holidays: Extra non-working dates to skip.
    """
    roll = "forward" if business_days >= 0 else "backward"
    result = np.busday_offset(start_date.isoformat(), business_days, roll=roll, holidays=_holidays(holidays))
    out = date.fromisoformat(str(result))
    return {"date": out.isoformat(), "weekday": _WEEKDAYS[out.weekday()]}


@tool
def count_business_days(start_date: date, end_date: date, holidays: list[date] | None = None) -> dict:
    """How many working days (Monday to Friday, minus holidays) lie between two dates, both included.

    Args:
        start_date: First date of the period.
        end_date: Last date of the period.
        holidays: Extra non-working dates to leave out.
    """
    _ordered(start_date, end_date)
    n = np.busday_count(
        start_date.isoformat(), (end_date + timedelta(days=1)).isoformat(), holidays=_holidays(holidays)
    )
    total = (end_date - start_date).days + 1
    return {"business_days": int(n), "calendar_days": total, "non_working_days": total - int(n)}


@tool
def is_leap_year(year: int) -> dict:
    """Whether a year of the Gregorian calendar is a leap year, and how many days it has.

    Args:
        year: The year.
    """
    if year < 1:
        raise ValueError(f"year must be 1 or later, got {year}")
    leap = calendar.isleap(year)
    return {"year": year, "is_leap_year": leap, "days_in_year": 366 if leap else 365}


@tool
def iso_week_of_date(day: date) -> dict:
    """The ISO 8601 week number, week-based year and weekday number of a date.

    Args:
        day: The date.
    """
    iso = day.isocalendar()
    monday = day - timedelta(days=iso.weekday - 1)
    return {
        "iso_year": iso.year,
        "iso_week": iso.week,
        "iso_weekday": iso.weekday,
        "week_starts": monday.isoformat(),
        "week_ends": (monday + timedelta(days=6)).isoformat(),
    }


@tool
def age_on_date(birth_date: date, on_date: date) -> dict:
    """Someone's exact age in years, months and days on a given date.

    Args:
        birth_date: Date of birth.
        on_date: The date on which to measure the age.
    """
    if on_date < birth_date:
        raise ValueError(f"on_date {on_date} is before birth_date {birth_date}")
    age = relativedelta(on_date, birth_date)
    return {
        "years": age.years,
        "months": age.months,
        "days": age.days,
        "total_days": (on_date - birth_date).days,
    }


@tool
def next_birthday(birth_date: date, from_date: date) -> dict:
    """The date of someone's next birthday strictly after a given date, how many days away it is, and the age then.

    Args:
        birth_date: Date of birth.
        from_date: The date to count from.
    """
    if from_date < birth_date:
        raise ValueError(f"from_date {from_date} is before birth_date {birth_date}")
    years = relativedelta(from_date, birth_date).years + 1
    upcoming = birth_date + relativedelta(years=years)
    return {"date": upcoming.isoformat(), "days_until": (upcoming - from_date).days, "turning": years}


@tool
def month_calendar(year: int, month: int, first_weekday: Literal["monday", "sunday"] = "monday") -> dict:
    """The weeks of one month as rows of day numbers (0 where a day belongs to another month).

    Args:
        year: The year.
        month: The month number, 1 to 12.
        first_weekday: Day each week row starts with.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month must be between 1 and 12, got {month}")
    cal = calendar.Calendar(firstweekday=0 if first_weekday == "monday" else 6)
    weeks = cal.monthdayscalendar(year, month)
    return {
        "month_name": calendar.month_name[month],
        "days_in_month": calendar.monthrange(year, month)[1],
        "weeks": weeks,
    }


@tool
def nth_weekday_of_month(year: int, month: int, weekday: Weekday, occurrence: int) -> dict:
    """The date of the n-th given weekday of a month, such as its third Thursday or (with -1) its last Monday.

    Args:
        year: The year.
        month: The month number, 1 to 12.
        weekday: The day of the week wanted.
        occurrence: Which one: 1 for the first, 2 for the second, -1 for the last.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month must be between 1 and 12, got {month}")
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month]
    matching = [d for d in days if d.weekday() == _WEEKDAYS.index(weekday)]
    if occurrence == 0 or not -len(matching) <= occurrence <= len(matching):
        raise ValueError(
            f"{calendar.month_name[month]} {year} has {len(matching)} {weekday}s; occurrence {occurrence} does not exist"
        )
    picked = matching[occurrence - 1 if occurrence > 0 else occurrence]
    return {"date": picked.isoformat()}


TOOLS = [
    days_between_dates,
    weekday_of_date,
    add_days_to_date,
    add_business_days,
    count_business_days,
    is_leap_year,
    iso_week_of_date,
    age_on_date,
    next_birthday,
    month_calendar,
    nth_weekday_of_month,
]

SPECS = [
    function_spec(
        "list_public_holidays",
        "The official public holidays of a country in a given year, with their dates and names.",
        {
            "country_code": string("Two-letter ISO 3166 country code."),
            "year": number("The calendar year.", integer=True),
            "region": string("State or province whose regional holidays to include."),
        },
        ["country_code", "year"],
    ),
]
