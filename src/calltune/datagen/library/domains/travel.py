"""Travel: trip budgets, fuel, distances between coordinates, packing lists and day counts."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Literal

from ....tools import tool
from ._checks import non_negative, percent, positive
from ._earth import check_coordinates, great_circle_km, in_unit

DOMAIN = "travel"

Climate = Literal["tropical", "desert", "temperate", "cold", "polar"]
Activity = Literal["business", "hiking", "beach", "skiing", "city"]


@tool
def split_trip_cost(
    total_cost: float, travelers: int, shares: list[float] | None = None, currency: str = "EUR"
) -> dict:
    """Split a trip's total cost between travelers, equally or by given shares.

    Args:
        total_cost: The whole trip's cost.
        travelers: How many people share the cost.
        shares: Optional weight per traveler (one number each); equal split when omitted.
        currency: Currency code the amounts are in.
    """
    positive(travelers=travelers)
    non_negative(total_cost=total_cost)
    weights = shares or [1.0] * travelers
    if len(weights) != travelers:
        raise ValueError(f"shares has {len(weights)} entries but there are {travelers} travelers")
    if any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("shares must be non-negative and not all zero")
    total_w = sum(weights)
    amounts = [round(total_cost * w / total_w, 2) for w in weights]
    return {"currency": currency, "per_traveler": amounts, "total": round(total_cost, 2)}


@tool
def trip_fuel_cost(
    distance_km: float, consumption_l_per_100km: float, fuel_price_per_litre: float, round_trip: bool = False
) -> dict:
    """The fuel cost of a car trip from its distance, the car's consumption and the fuel price.

    Args:
        distance_km: One-way distance in kilometres.
        consumption_l_per_100km: The car's fuel use in litres per 100 km.
        fuel_price_per_litre: Price of one litre of fuel.
        round_trip: Count the way back too.
    """
    positive(distance_km=distance_km, consumption_l_per_100km=consumption_l_per_100km)
    non_negative(fuel_price_per_litre=fuel_price_per_litre)
    km = distance_km * (2 if round_trip else 1)
    litres = km * consumption_l_per_100km / 100
    return {"distance_km": km, "litres": round(litres, 2), "cost": round(litres * fuel_price_per_litre, 2)}


@tool
def trip_fuel_stops(
    distance_km: float, consumption_l_per_100km: float, tank_litres: float, reserve_percent: float = 10
) -> dict:
    """How many refuelling stops a drive needs, given the tank size and a reserve kept in the tank.

    Args:
        distance_km: Total driving distance in kilometres.
        consumption_l_per_100km: The car's fuel use in litres per 100 km.
        tank_litres: Capacity of the fuel tank in litres (starting full).
        reserve_percent: Share of the tank never used, as a percentage.
    """
    positive(
        distance_km=distance_km, consumption_l_per_100km=consumption_l_per_100km, tank_litres=tank_litres
    )
    percent(reserve_percent=reserve_percent)
    if reserve_percent >= 100:
        raise ValueError("reserve_percent must be below 100")
    range_km = tank_litres * (1 - reserve_percent / 100) / consumption_l_per_100km * 100
    stops = max(0, math.ceil(distance_km / range_km) - 1)
    return {"range_per_tank_km": round(range_km, 1), "refuel_stops": stops}


@tool
def haversine_distance(
    lat1: float, lon1: float, lat2: float, lon2: float, unit: Literal["km", "mi", "nm"] = "km"
) -> dict:
    """Great-circle distance between two coordinates (haversine formula).

    Args:
        lat1: Latitude of the first point in decimal degrees.
        lon1: Longitude of the first point in decimal degrees.
        lat2: Latitude of the second point in decimal degrees.
        lon2: Longitude of the second point in decimal degrees.
        unit: Unit of the result: kilometres, statute miles or nautical miles.
    """
    return {"distance": in_unit(great_circle_km(lat1, lon1, lat2, lon2), unit), "unit": unit}


@tool
def initial_compass_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> dict:
    """The initial compass bearing (degrees from north) for travelling from one coordinate to another.

    Args:
        lat1: Latitude of the start in decimal degrees.
        lon1: Longitude of the start in decimal degrees.
        lat2: Latitude of the destination in decimal degrees.
        lon2: Longitude of the destination in decimal degrees.
    """
    check_coordinates(lat1, lon1)
    check_coordinates(lat2, lon2)
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    bearing = (math.degrees(math.atan2(x, y)) + 360) % 360
    points = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
    return {"bearing_degrees": round(bearing, 1), "compass_point": points[round(bearing / 45) % 8]}


_PACKING_BASE = {
    "tropical": ["light shirts", "shorts", "sandals", "sunscreen", "insect repellent", "rain jacket"],
    "desert": ["loose long sleeves", "wide-brim hat", "sunscreen", "sunglasses", "refillable water bottle"],
    "temperate": ["t-shirts", "sweater", "light jacket", "jeans", "comfortable shoes", "umbrella"],
    "cold": ["thermal underwear", "fleece", "insulated jacket", "gloves", "wool hat", "boots"],
    "polar": ["base layers", "down parka", "insulated trousers", "mittens", "balaclava", "snow goggles"],
}
_PACKING_ACTIVITY = {
    "business": ["suit or blazer", "dress shoes", "laptop charger"],
    "hiking": ["hiking boots", "daypack", "first-aid kit"],
    "beach": ["swimwear", "beach towel", "flip-flops"],
    "skiing": ["ski socks", "ski goggles", "neck warmer"],
    "city": ["walking shoes", "day bag", "power bank"],
}


@tool
def packing_list_for_climate(
    climate: Climate, days: int, activities: list[Activity] | None = None, laundry_available: bool = False
) -> dict:
    """A packing list for a trip, from the destination's climate, its length and planned activities.

    Args:
        climate: Climate at the destination.
        days: Length of the trip in days.
        activities: Planned activities, each adding its own items.
        laundry_available: Whether clothes can be washed during the trip (fewer sets needed).
    """
    positive(days=days)
    sets = min(days, 4) if laundry_available else min(days, 10)
    items = [f"{sets} sets of underwear and socks", "toiletries", "phone charger", "travel documents"]
    items += _PACKING_BASE[climate]
    for a in activities or []:
        items += [i for i in _PACKING_ACTIVITY[a] if i not in items]
    return {"climate": climate, "days": days, "items": items}


@tool
def itinerary_day_count(start_date: date, end_date: date) -> dict:
    """Days and nights of an itinerary from its first and last date (both days included).

    Args:
        start_date: Date of the first day.
        end_date: Date of the last day.
    """
    if end_date < start_date:
        raise ValueError("end_date is before start_date")
    nights = (end_date - start_date).days
    weekend = sum(1 for i in range(nights + 1) if (start_date + timedelta(i)).weekday() >= 5)
    return {"days": nights + 1, "nights": nights, "weekend_days": weekend}


@tool
def trip_daily_budget(
    total_budget: float, start_date: date, end_date: date, reserve_percent: float = 10
) -> dict:
    """How much can be spent per day of a trip, keeping part of the budget in reserve.

    Args:
        total_budget: Money available for the whole trip.
        start_date: Date of the first day.
        end_date: Date of the last day.
        reserve_percent: Share of the budget kept aside for emergencies, as a percentage.
    """
    non_negative(total_budget=total_budget)
    percent(reserve_percent=reserve_percent)
    days = itinerary_day_count(start_date, end_date)["days"]
    spendable = total_budget * (1 - reserve_percent / 100)
    return {
        "days": days,
        "per_day": round(spendable / days, 2),
        "reserve": round(total_budget - spendable, 2),
    }


@tool
def driving_time_estimate(
    distance_km: float, average_speed_kmh: float, breaks: int = 0, break_minutes: int = 15
) -> dict:
    """Door-to-door driving time from the distance, the average speed and the breaks taken.

    Args:
        distance_km: Distance to drive in kilometres.
        average_speed_kmh: Expected average speed in km/h.
        breaks: How many breaks are taken on the way.
        break_minutes: Length of each break in minutes.
    """
    positive(distance_km=distance_km, average_speed_kmh=average_speed_kmh)
    non_negative(breaks=breaks, break_minutes=break_minutes)
    minutes = round(distance_km / average_speed_kmh * 60 + breaks * break_minutes)
    return {"total_minutes": minutes, "hours": minutes // 60, "minutes": minutes % 60}


@tool
def flight_arrival_local_time(
    departure_local: datetime,
    duration_minutes: int,
    origin_utc_offset_hours: float,
    destination_utc_offset_hours: float,
) -> dict:
    """The local arrival time of a flight from its local departure time, duration and the two UTC offsets.

    Args:
        departure_local: Departure date and time, local to the origin.
        duration_minutes: Flight duration in minutes.
        origin_utc_offset_hours: The origin's offset from UTC in hours.
        destination_utc_offset_hours: The destination's offset from UTC in hours.
    """
    positive(duration_minutes=duration_minutes)
    for name, off in (("origin", origin_utc_offset_hours), ("destination", destination_utc_offset_hours)):
        if not -12 <= off <= 14:
            raise ValueError(f"{name} UTC offset must be between -12 and 14 hours, got {off}")
    shift = timedelta(hours=destination_utc_offset_hours - origin_utc_offset_hours)
    arrival = departure_local.replace(tzinfo=None) + timedelta(minutes=duration_minutes) + shift
    return {
        "arrival_local": arrival.isoformat(timespec="minutes"),
        "day_change": (arrival.date() - departure_local.date()).days,
    }


@tool
def currency_cash_budget(
    daily_spend: float, days: int, exchange_rate: float, buffer_percent: float = 0
) -> dict:
    """Cash to exchange for a trip: daily spending times days, converted at a given rate, plus a buffer.

    Args:
        daily_spend: Planned spending per day in the home currency.
        days: Number of days.
        exchange_rate: Units of the foreign currency per unit of the home currency.
        buffer_percent: Extra added on top, as a percentage.
    """
    positive(days=days, exchange_rate=exchange_rate)
    non_negative(daily_spend=daily_spend, buffer_percent=buffer_percent)
    home = daily_spend * days * (1 + buffer_percent / 100)
    return {"home_amount": round(home, 2), "foreign_amount": round(home * exchange_rate, 2)}


TOOLS = [
    split_trip_cost,
    trip_fuel_cost,
    trip_fuel_stops,
    haversine_distance,
    initial_compass_bearing,
    packing_list_for_climate,
    itinerary_day_count,
    trip_daily_budget,
    driving_time_estimate,
    flight_arrival_local_time,
    currency_cash_budget,
]
