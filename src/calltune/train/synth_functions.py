"""The sixteen ordinary Python functions of the synthetic tool-calling set (arithmetic, text,
dates, units; one with a Chinese name). Their signatures and docstrings become the tool specs
(:func:`calltune.tools.to_tool_specs`); they are executed to get the observations."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Any, Literal


def convert_temperature_units(
    value: float,
    to_unit: Literal["celsius", "fahrenheit", "kelvin"],
    from_unit: Literal["celsius", "fahrenheit", "kelvin"] = "celsius",
) -> float:
    """Convert a temperature between Celsius, Fahrenheit and Kelvin.

    Args:
        value: the temperature to convert
        to_unit: the unit to convert to
        from_unit: the unit of value
    """
    c = {"celsius": value, "fahrenheit": (value - 32) * 5 / 9, "kelvin": value - 273.15}[from_unit]
    out = {"celsius": c, "fahrenheit": c * 9 / 5 + 32, "kelvin": c + 273.15}[to_unit]
    return round(out, 2)


def grow_with_compound_interest(principal: float, rate_percent: float, years: int) -> dict[str, float]:
    """Grow a deposit with yearly compound interest.

    Args:
        principal: the amount deposited
        rate_percent: the yearly interest rate in percent
        years: the number of years
    """
    final = principal * (1 + rate_percent / 100) ** years
    return {"final_amount": round(final, 2), "interest": round(final - principal, 2)}


def count_words(text: str) -> int:
    """Count the words of a text (separated by whitespace).

    Args:
        text: the text to count
    """
    return len(text.split())


def is_prime(n: int) -> bool:
    """Tell whether an integer is a prime number.

    Args:
        n: the integer to test
    """
    if n < 2:
        return False
    return all(n % d for d in range(2, int(math.isqrt(n)) + 1))


def greatest_common_divisor(a: int, b: int) -> int:
    """Greatest common divisor of two integers.

    Args:
        a: the first integer
        b: the second integer
    """
    return math.gcd(a, b)


def mean_and_stdev(values: list[float]) -> dict[str, float]:
    """Mean and population standard deviation of a list of numbers.

    Args:
        values: the numbers
    """
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / len(values))
    return {"mean": round(m, 3), "stdev": round(sd, 3)}


def sort_numbers(values: list[float], descending: bool = False) -> list[float]:
    """Sort a list of numbers.

    Args:
        values: the numbers to sort
        descending: largest first when true
    """
    return sorted(values, reverse=descending)


def body_mass_index(weight_kg: float, height_m: float) -> dict[str, Any]:
    """Body mass index and its WHO category.

    Args:
        weight_kg: body weight in kilograms
        height_m: height in metres
    """
    bmi = weight_kg / height_m**2
    cat = "underweight" if bmi < 18.5 else "normal" if bmi < 25 else "overweight" if bmi < 30 else "obese"
    return {"bmi": round(bmi, 1), "category": cat}


def days_between(start: str, end: str) -> int:
    """Number of days from one ISO date (YYYY-MM-DD) to another.

    Args:
        start: the first date, YYYY-MM-DD
        end: the second date, YYYY-MM-DD
    """
    return (_dt.date.fromisoformat(end) - _dt.date.fromisoformat(start)).days


def weekday_of(date: str) -> str:
    """The weekday of an ISO date (YYYY-MM-DD).

    Args:
        date: the date, YYYY-MM-DD
    """
    return _dt.date.fromisoformat(date).strftime("%A")


def convert_length(
    value: float, from_unit: Literal["m", "km", "mile", "ft"], to_unit: Literal["m", "km", "mile", "ft"]
) -> float:
    """Convert a length between metres, kilometres, miles and feet.

    Args:
        value: the length
        from_unit: the unit of value
        to_unit: the unit to convert to
    """
    metres = {"m": 1.0, "km": 1000.0, "mile": 1609.344, "ft": 0.3048}
    return round(value * metres[from_unit] / metres[to_unit], 3)


def fibonacci(n: int) -> list[int]:
    """The first n Fibonacci numbers.

    Args:
        n: how many numbers (1 to 30)
    """
    out, a, b = [], 0, 1
    for _ in range(n):
        out.append(a)
        a, b = b, a + b
    return out


def caesar_cipher(text: str, shift: int) -> str:
    """Shift every Latin letter of a text by a number of places (Caesar cipher).

    Args:
        text: the text to encode
        shift: how many places to shift (negative decodes)
    """
    out = []
    for ch in text:
        if ch.isascii() and ch.isalpha():
            base = ord("a") if ch.islower() else ord("A")
            out.append(chr((ord(ch) - base + shift) % 26 + base))
        else:
            out.append(ch)
    return "".join(out)


def split_bill(total: float, people: int, tip_percent: float = 0.0) -> dict[str, float]:
    """Split a restaurant bill evenly, optionally adding a tip.

    Args:
        total: the bill before tip
        people: the number of people paying
        tip_percent: the tip in percent of the bill
    """
    with_tip = total * (1 + tip_percent / 100)
    return {"total_with_tip": round(with_tip, 2), "per_person": round(with_tip / people, 2)}


def top_letters(text: str, k: int = 3) -> list[list[Any]]:
    """The k most frequent letters of a text with their counts.

    Args:
        text: the text to analyse
        k: how many letters to return
    """
    counts: dict[str, int] = {}
    for ch in text.lower():
        if ch.isalpha():
            counts[ch] = counts.get(ch, 0) + 1
    return [[c, n] for c, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:k]]


_ZODIAC = ["鼠", "牛", "虎", "兔", "龙", "蛇", "马", "羊", "猴", "鸡", "狗", "猪"]


def 查询生肖(year: int) -> str:
    """查询某一公历年份对应的中国生肖。

    Args:
        year: 公历年份，例如 1990
    """
    return _ZODIAC[(year - 4) % 12]


FUNCTIONS: list[Callable[..., Any]] = [
    convert_temperature_units,
    grow_with_compound_interest,
    count_words,
    is_prime,
    greatest_common_divisor,
    mean_and_stdev,
    sort_numbers,
    body_mass_index,
    days_between,
    weekday_of,
    convert_length,
    fibonacci,
    caesar_cipher,
    split_bill,
    top_letters,
    查询生肖,
]
