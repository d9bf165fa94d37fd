"""Sample tools shared by the tests and benchmarks: one definition each.

The ``@tool`` functions return deterministic fake data; ``WEATHER``, ``LOCAL_TIME`` and
``CONVERT`` are their OpenAI tool dicts (``Tool.spec()``), for code that sends tool dicts
(the server tests, the load benchmark). Each access to a spec dict gets the same object:
copy it before changing it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from calltune.tools import Tool, tool

#: a question that calls for ``get_current_weather``
WEATHER_Q = "What's the weather like in Paris today?"

_RATES_TO_USD = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "CHF": 1.13}


@tool
def get_current_weather(
    location: Annotated[str, "The city, e.g. Paris"], unit: Literal["celsius", "fahrenheit"] = "celsius"
) -> dict[str, Any]:
    """Get the current weather in a given city"""
    return {"location": location, "temperature": 22 if unit == "celsius" else 72, "unit": unit}


@tool
def get_local_time(city: str) -> str:
    """Get the current local time in a city"""
    return f"12:00 in {city}"


@tool
def convert_currency(
    amount: float,
    from_currency: Annotated[str, "ISO code, e.g. EUR"],
    to_currency: Annotated[str, "ISO code, e.g. USD"],
) -> dict[str, Any]:
    """Convert an amount of money from one currency to another"""
    usd = amount * _RATES_TO_USD.get(from_currency.upper(), 1.0)
    converted = round(usd / _RATES_TO_USD.get(to_currency.upper(), 1.0), 2)
    return {"amount": converted, "currency": to_currency.upper()}


SAMPLE_TOOLS: list[Tool] = [get_current_weather, get_local_time, convert_currency]
SAMPLE_SPECS: list[dict[str, Any]] = [t.spec() for t in SAMPLE_TOOLS]
WEATHER, LOCAL_TIME, CONVERT = SAMPLE_SPECS
