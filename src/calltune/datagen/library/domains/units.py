"""Units: conversions of length, mass, temperature, volume, speed, area, time, data sizes and cooking measures.

The conversions are pint's; each tool offers a fixed list of unit names.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, get_args

from ....tools import Tool, tool
from ._checks import positive
from ._spec import function_spec, number, string

DOMAIN = "units"

LengthUnit = Literal[
    "millimeter", "centimeter", "meter", "kilometer", "inch", "foot", "yard", "mile", "nautical_mile"
]
MassUnit = Literal["milligram", "gram", "kilogram", "tonne", "ounce", "pound", "stone"]
TemperatureUnit = Literal["celsius", "fahrenheit", "kelvin", "rankine"]
VolumeUnit = Literal[
    "milliliter",
    "liter",
    "cubic_meter",
    "us_gallon",
    "imperial_gallon",
    "us_quart",
    "us_pint",
    "us_fluid_ounce",
]
SpeedUnit = Literal["meter_per_second", "kilometer_per_hour", "mile_per_hour", "knot", "foot_per_second"]
AreaUnit = Literal["square_meter", "square_kilometer", "square_foot", "square_mile", "hectare", "acre"]
DurationUnit = Literal["second", "minute", "hour", "day", "week", "year"]
DataUnit = Literal[
    "bit",
    "byte",
    "kilobyte",
    "megabyte",
    "gigabyte",
    "terabyte",
    "kibibyte",
    "mebibyte",
    "gibibyte",
    "tebibyte",
]
CookingUnit = Literal["teaspoon", "tablespoon", "cup", "milliliter", "liter", "us_fluid_ounce", "us_pint"]

_PINT_NAMES = {
    "celsius": "degC",
    "fahrenheit": "degF",
    "kelvin": "kelvin",
    "rankine": "degR",
    "us_gallon": "gallon",
    "us_quart": "quart",
    "us_pint": "pint",
    "us_fluid_ounce": "fluid_ounce",
    "nautical_mile": "nautical_mile",
    "tonne": "metric_ton",
    "cubic_meter": "meter**3",
    "square_meter": "meter**2",
    "square_kilometer": "kilometer**2",
}
_QUANTITIES: dict[str, Any] = {
    "length": LengthUnit,
    "mass": MassUnit,
    "temperature": TemperatureUnit,
    "volume": VolumeUnit,
    "speed": SpeedUnit,
    "area": AreaUnit,
    "duration": DurationUnit,
    "data_size": DataUnit,
    "cooking": CookingUnit,
}


@cache
def _registry() -> Any:
    import pint

    return pint.UnitRegistry()


def _convert(value: float, from_unit: str, to_unit: str, digits: int = 6) -> dict:
    ureg = _registry()
    quantity = ureg.Quantity(value, _PINT_NAMES.get(from_unit, from_unit))
    result = quantity.to(_PINT_NAMES.get(to_unit, to_unit)).magnitude
    return {
        "value": float(f"{result:.{digits}g}"),
        "unit": to_unit,
        "from_value": value,
        "from_unit": from_unit,
    }


def _converter(
    name: str, units: Any, summary: str, noun: str, *, signed: bool = False, digits: int = 6
) -> Tool:
    """A ``convert_*`` tool between the ``units`` (a Literal) of one quantity."""

    def convert(value: float, from_unit: str, to_unit: str) -> dict:
        if not signed and value < 0:
            raise ValueError(f"value must not be negative, got {value}")
        return _convert(value, from_unit, to_unit, digits)

    convert.__annotations__ = {"value": float, "from_unit": units, "to_unit": units, "return": dict}
    convert.__doc__ = f"""{summary}

    Args:
        value: The {noun} to convert.
        from_unit: Unit the value is in.
        to_unit: Unit to convert to.
    """
    return tool(convert, name=name)


convert_length = _converter(
    "convert_length", LengthUnit, "Convert a length or distance from one unit to another.", "length"
)
convert_mass = _converter(
    "convert_mass", MassUnit, "Convert a mass or weight from one unit to another.", "mass"
)
convert_volume = _converter(
    "convert_volume", VolumeUnit, "Convert a volume of liquid or space from one unit to another.", "volume"
)
convert_speed = _converter(
    "convert_speed", SpeedUnit, "Convert a speed from one unit to another.", "speed", signed=True
)
convert_area = _converter(
    "convert_area", AreaUnit, "Convert an area of land or surface from one unit to another.", "area"
)
convert_duration = _converter(
    "convert_duration",
    DurationUnit,
    "Convert a span of time from one unit to another (a year counts as 365.25 days).",
    "duration",
)
convert_data_size = _converter(
    "convert_data_size",
    DataUnit,
    "Convert a digital storage size, with decimal (kilobyte = 1000 bytes) and binary (kibibyte = 1024 bytes) units.",
    "size",
)
convert_cooking_measure = _converter(
    "convert_cooking_measure",
    CookingUnit,
    "Convert a kitchen volume measure (US teaspoons, tablespoons and cups, or metric) to another.",
    "amount",
    digits=4,
)


@tool
def convert_temperature_scale(value: float, from_unit: TemperatureUnit, to_unit: TemperatureUnit) -> dict:
    """Convert a temperature between Celsius, Fahrenheit, Kelvin and Rankine.

    Args:
        value: The temperature to convert.
        from_unit: Scale the value is on.
        to_unit: Scale to convert to.
    """
    kelvin = _registry().Quantity(value, _PINT_NAMES[from_unit]).to("kelvin").magnitude
    if kelvin < 0:
        raise ValueError(f"{value} {from_unit} is below absolute zero")
    return _convert(value, from_unit, to_unit)


@tool
def convert_fuel_economy(
    value: float,
    from_unit: Literal["mpg_us", "mpg_imperial", "liters_per_100km", "km_per_liter"],
    to_unit: Literal["mpg_us", "mpg_imperial", "liters_per_100km", "km_per_liter"],
) -> dict:
    """Convert a vehicle's fuel economy between miles per gallon, liters per 100 km and km per liter.

    Args:
        value: The fuel economy figure to convert.
        from_unit: How the figure is expressed.
        to_unit: How to express the result.
    """
    positive(value=value)
    ureg = _registry()
    km_per_l = {
        "mpg_us": ureg.Quantity(1, "mile / gallon").to("km / liter").magnitude,
        "mpg_imperial": ureg.Quantity(1, "mile / imperial_gallon").to("km / liter").magnitude,
        "km_per_liter": 1.0,
    }
    base = 100 / value if from_unit == "liters_per_100km" else value * km_per_l[from_unit]
    result = 100 / base if to_unit == "liters_per_100km" else base / km_per_l[to_unit]
    return {"value": round(result, 3), "unit": to_unit, "from_value": value, "from_unit": from_unit}


@tool
def list_supported_units(
    quantity: Literal[
        "length", "mass", "temperature", "volume", "speed", "area", "duration", "data_size", "cooking"
    ],
) -> dict:
    """The unit names the conversion tools accept for one kind of quantity.

    Args:
        quantity: Kind of quantity.
    """
    return {"quantity": quantity, "units": list(get_args(_QUANTITIES[quantity]))}


TOOLS = [
    convert_length,
    convert_mass,
    convert_temperature_scale,
    convert_volume,
    convert_speed,
    convert_area,
    convert_duration,
    convert_data_size,
    convert_cooking_measure,
    convert_fuel_economy,
    list_supported_units,
]

SPECS = [
    function_spec(
        "convert_shoe_size",
        "Convert a shoe size between the US, UK, EU and Japanese sizing systems.",
        {
            "size": number("Shoe size in the source system."),
            "from_system": string("Sizing system of the given size.", enum=["US", "UK", "EU", "JP"]),
            "to_system": string("Sizing system wanted.", enum=["US", "UK", "EU", "JP"]),
            "category": string("Which size chart applies.", enum=["men", "women", "children"], default="men"),
        },
        ["size", "from_system", "to_system"],
    ),
]
