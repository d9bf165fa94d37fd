"""A weather tool for demos and tests: deterministic fake readings, no network.

calltune tools show examples/weather.py
calltune tools call get_current_weather '{"location": "Boston"}' -t examples/weather.py
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from calltune import tool

CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "snowy", "foggy"]


def _reading(place: str) -> tuple[int, str, int]:
    """(temperature in °C, condition, humidity %) derived from a stable hash of the place name."""
    key = place.strip().casefold().encode("utf-8")
    digest = hashlib.sha256(key).digest()
    celsius = digest[0] % 41 - 5  # -5 .. 35 °C
    condition = CONDITIONS[digest[1] % len(CONDITIONS)]
    humidity = 20 + digest[2] % 71  # 20 .. 90 %
    return celsius, condition, humidity


def to_fahrenheit(celsius: float) -> float:
    return round(celsius * 9 / 5 + 32, 1)


@tool
def get_current_weather(
    location: Annotated[str, "The city, e.g. Boston"],
    unit: Literal["celsius", "fahrenheit"] = "celsius",
) -> dict:
    """Get the current weather in a given location."""
    celsius, condition, humidity = _reading(location)
    temperature = celsius if unit == "celsius" else to_fahrenheit(celsius)
    return {
        "location": location,
        "temperature": temperature,
        "unit": unit,
        "condition": condition,
        "humidity": humidity,
    }


TOOLS = [get_current_weather]

if __name__ == "__main__":
    import json

    print(json.dumps(get_current_weather.spec(), indent=2, ensure_ascii=False))
    print(get_current_weather("Boston"))
