"""Weather: forecasts, alerts, air quality and past weather. All simulated (no live data offline)."""

from __future__ import annotations

from ._spec import array, boolean, function_spec, number, string

DOMAIN = "weather"

_LOCATION = string("City name, optionally with region or country.")
_UNITS = string("Unit system of the values.", enum=["metric", "imperial"], default="metric")

SPECS = [
    function_spec(
        "get_daily_forecast",
        "Daily weather forecast for a location: high and low temperature, precipitation chance and conditions.",
        {
            "location": _LOCATION,
            "days": number("Number of days ahead.", integer=True, minimum=1, maximum=14, default=3),
            "units": _UNITS,
        },
        ["location"],
    ),
    function_spec(
        "get_hourly_forecast",
        "Hour-by-hour forecast for a location: temperature, wind, precipitation for the coming hours.",
        {
            "location": _LOCATION,
            "hours": number("Number of hours ahead.", integer=True, minimum=1, maximum=48, default=12),
            "units": _UNITS,
            "include_wind": boolean("Include wind speed and direction.", default=True),
        },
        ["location"],
    ),
    function_spec(
        "get_severe_weather_alerts",
        "Active severe-weather warnings (storms, floods, heat, snow) issued for a region.",
        {
            "region": string("Region, province or state name."),
            "min_severity": string(
                "Lowest severity to include.",
                enum=["minor", "moderate", "severe", "extreme"],
                default="moderate",
            ),
            "alert_types": array(
                "Only alerts of these types.",
                string(
                    "Alert type.", enum=["thunderstorm", "flood", "heat", "snow", "wind", "fog", "wildfire"]
                ),
            ),
        },
        ["region"],
    ),
    function_spec(
        "get_current_air_quality",
        "Current air quality index of a location with the main pollutant and health advice.",
        {
            "location": _LOCATION,
            "standard": string(
                "Index standard to report in.", enum=["us_epa", "eu_caqi", "china_aqi"], default="us_epa"
            ),
        },
        ["location"],
    ),
    function_spec(
        "get_historical_weather",
        "Observed weather at a location on a past date: temperatures, rainfall and conditions.",
        {
            "location": _LOCATION,
            "date": string("The past date.", fmt="date"),
            "units": _UNITS,
        },
        ["location", "date"],
    ),
    function_spec(
        "get_pollen_forecast",
        "Pollen levels forecast for a location by pollen type.",
        {
            "location": _LOCATION,
            "days": number("Number of days ahead.", integer=True, minimum=1, maximum=5, default=1),
            "pollen_types": array(
                "Pollen types to report.", string("Pollen type.", enum=["tree", "grass", "weed"])
            ),
        },
        ["location"],
    ),
]
