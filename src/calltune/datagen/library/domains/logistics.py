"""Logistics: volumetric and chargeable weight, route times and distances, pallet and truck load planning."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import non_negative, not_empty, positive
from ._earth import great_circle_km

DOMAIN = "logistics"


class RouteLeg(BaseModel):
    """One leg of a route: its distance and the average speed driven on it."""

    distance_km: float = Field(description="Length of the leg in kilometres.")
    speed_kmh: float = Field(description="Average speed on the leg in km/h.")


class Stop(BaseModel):
    """A stop on a route, with its coordinates."""

    name: str = Field(description="Name of the stop.")
    latitude: float = Field(description="Latitude in decimal degrees.")
    longitude: float = Field(description="Longitude in decimal degrees.")


class LoadItem(BaseModel):
    """An item to be loaded."""

    name: str = Field(description="Name of the item.")
    weight_kg: float = Field(description="Weight in kilograms.")
    volume_m3: float = Field(description="Volume in cubic metres.")


def _volumetric(length_cm: float, width_cm: float, height_cm: float, divisor: float) -> float:
    positive(length_cm=length_cm, width_cm=width_cm, height_cm=height_cm, divisor=divisor)
    return length_cm * width_cm * height_cm / divisor


@tool
def volumetric_weight(length_cm: float, width_cm: float, height_cm: float, divisor: float = 5000) -> dict:
    """Volumetric (dimensional) weight of a parcel: its volume in cm³ divided by the carrier's divisor.

    Args:
        length_cm: Length in centimetres.
        width_cm: Width in centimetres.
        height_cm: Height in centimetres.
        divisor: The carrier's volumetric divisor in cm³ per kg.
    """
    return {"volumetric_weight_kg": round(_volumetric(length_cm, width_cm, height_cm, divisor), 2)}


@tool
def chargeable_weight(
    actual_weight_kg: float, length_cm: float, width_cm: float, height_cm: float, divisor: float = 5000
) -> dict:
    """The weight a carrier bills: the greater of actual and volumetric weight, rounded up to the next half kilo.

    Args:
        actual_weight_kg: Weight on the scale in kilograms.
        length_cm: Length in centimetres.
        width_cm: Width in centimetres.
        height_cm: Height in centimetres.
        divisor: The carrier's volumetric divisor in cm³ per kg.
    """
    positive(actual_weight_kg=actual_weight_kg)
    vol = _volumetric(length_cm, width_cm, height_cm, divisor)
    billed = math.ceil(max(actual_weight_kg, vol) * 2) / 2
    return {"chargeable_kg": billed, "basis": "volumetric" if vol > actual_weight_kg else "actual"}


@tool
def route_total_time(legs: list[RouteLeg], stops: int = 0, minutes_per_stop: float = 0) -> dict:
    """Total travel time of a route from its legs' distances and speeds plus time spent at stops.

    Args:
        legs: The legs of the route.
        stops: Number of stops made along the route.
        minutes_per_stop: Time spent at each stop in minutes.
    """
    not_empty(legs=legs)
    non_negative(stops=stops, minutes_per_stop=minutes_per_stop)
    for leg in legs:
        positive(distance_km=leg.distance_km, speed_kmh=leg.speed_kmh)
    minutes = sum(leg.distance_km / leg.speed_kmh * 60 for leg in legs) + stops * minutes_per_stop
    return {
        "total_minutes": round(minutes),
        "hours": round(minutes / 60, 2),
        "distance_km": sum(leg.distance_km for leg in legs),
    }


@tool
def route_distance_through_stops(stops: list[Stop], return_to_start: bool = False) -> dict:
    """Straight-line (great-circle) length of a route visiting stops in the given order.

    Args:
        stops: The stops in visiting order; at least two.
        return_to_start: Add the way back from the last stop to the first.
    """
    if len(stops) < 2:
        raise ValueError("give at least two stops")
    path = stops + [stops[0]] if return_to_start else stops
    legs = [
        {
            "from": a.name,
            "to": b.name,
            "km": round(great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude), 1),
        }
        for a, b in itertools.pairwise(path)
    ]
    return {"legs": legs, "total_km": round(sum(leg["km"] for leg in legs), 1)}


@tool
def plan_truck_loads(items: list[LoadItem], max_weight_kg: float, max_volume_m3: float) -> dict:
    """Assign items to as few trucks as a first-fit-decreasing plan needs, within weight and volume limits.

    Args:
        items: The items to load.
        max_weight_kg: Payload limit of one truck in kilograms.
        max_volume_m3: Cargo volume of one truck in cubic metres.
    """
    not_empty(items=items)
    positive(max_weight_kg=max_weight_kg, max_volume_m3=max_volume_m3)
    trucks: list[dict] = []
    for it in sorted(
        items, key=lambda i: (i.weight_kg / max_weight_kg, i.volume_m3 / max_volume_m3), reverse=True
    ):
        if it.weight_kg > max_weight_kg or it.volume_m3 > max_volume_m3:
            raise ValueError(f"item {it.name!r} does not fit in an empty truck")
        for t in trucks:
            if (
                t["weight_kg"] + it.weight_kg <= max_weight_kg
                and t["volume_m3"] + it.volume_m3 <= max_volume_m3
            ):
                break
        else:
            t = {"items": [], "weight_kg": 0.0, "volume_m3": 0.0}
            trucks.append(t)
        t["items"].append(it.name)
        t["weight_kg"] = round(t["weight_kg"] + it.weight_kg, 3)
        t["volume_m3"] = round(t["volume_m3"] + it.volume_m3, 3)
    return {"truck_count": len(trucks), "trucks": trucks}


@tool
def boxes_per_pallet_layer(
    pallet_length_cm: float, pallet_width_cm: float, box_length_cm: float, box_width_cm: float
) -> dict:
    """How many boxes fit on one layer of a pallet in a simple grid, trying both box orientations.

    Args:
        pallet_length_cm: Pallet length in centimetres.
        pallet_width_cm: Pallet width in centimetres.
        box_length_cm: Box length in centimetres.
        box_width_cm: Box width in centimetres.
    """
    positive(
        pallet_length_cm=pallet_length_cm,
        pallet_width_cm=pallet_width_cm,
        box_length_cm=box_length_cm,
        box_width_cm=box_width_cm,
    )
    straight = int(pallet_length_cm // box_length_cm) * int(pallet_width_cm // box_width_cm)
    turned = int(pallet_length_cm // box_width_cm) * int(pallet_width_cm // box_length_cm)
    return {
        "boxes_per_layer": max(straight, turned),
        "orientation": "turned" if turned > straight else "straight",
    }


@tool
def pallets_needed(box_count: int, boxes_per_layer: int, layers_per_pallet: int) -> dict:
    """Number of pallets needed for a number of boxes, and how full the last one is.

    Args:
        box_count: Boxes to ship.
        boxes_per_layer: Boxes on one layer.
        layers_per_pallet: Layers stacked on one pallet.
    """
    positive(box_count=box_count, boxes_per_layer=boxes_per_layer, layers_per_pallet=layers_per_pallet)
    per = boxes_per_layer * layers_per_pallet
    pallets = math.ceil(box_count / per)
    return {
        "pallets": pallets,
        "boxes_per_pallet": per,
        "boxes_on_last_pallet": box_count - (pallets - 1) * per,
    }


# inside dimensions of ISO shipping containers: usable volume m³, max payload kg (fixed table)
_CONTAINERS = {"20ft": (33.2, 28_200), "40ft": (67.7, 26_700), "40ft_high_cube": (76.3, 26_500)}


@tool
def container_capacity_check(
    container: Literal["20ft", "40ft", "40ft_high_cube"],
    unit_volume_m3: float,
    unit_weight_kg: float,
    fill_factor: float = 0.85,
) -> dict:
    """How many identical units fit in a shipping container by volume and by payload (fixed table of container sizes).

    Args:
        container: Container type.
        unit_volume_m3: Volume of one unit in cubic metres.
        unit_weight_kg: Weight of one unit in kilograms.
        fill_factor: Share of the volume that can really be used, between 0 and 1.
    """
    positive(unit_volume_m3=unit_volume_m3, unit_weight_kg=unit_weight_kg)
    if not 0 < fill_factor <= 1:
        raise ValueError(f"fill_factor must be in (0, 1], got {fill_factor}")
    volume, payload = _CONTAINERS[container]
    by_volume = int(volume * fill_factor // unit_volume_m3)
    by_weight = int(payload // unit_weight_kg)
    return {
        "units": min(by_volume, by_weight),
        "limited_by": "volume" if by_volume <= by_weight else "weight",
    }


@tool
def delivery_eta(
    dispatch_time: datetime, distance_km: float, average_speed_kmh: float, driving_hours_per_day: float = 9
) -> dict:
    """Arrival time of a road delivery when the driver may only drive so many hours a day (rest overnight).

    Args:
        dispatch_time: When the vehicle leaves.
        distance_km: Distance to drive in kilometres.
        average_speed_kmh: Average driving speed in km/h.
        driving_hours_per_day: Longest driving time per day; the rest of each 24 hours is rest.
    """
    positive(distance_km=distance_km, average_speed_kmh=average_speed_kmh)
    if not 0 < driving_hours_per_day <= 24:
        raise ValueError("driving_hours_per_day must be in (0, 24]")
    hours = distance_km / average_speed_kmh
    full_days, rest = divmod(hours, driving_hours_per_day)
    if rest == 0 and full_days:
        full_days, rest = full_days - 1, driving_hours_per_day
    arrival = dispatch_time + timedelta(days=full_days, hours=rest)
    return {
        "driving_hours": round(hours, 2),
        "rest_stops": int(full_days),
        "arrival": arrival.isoformat(timespec="minutes"),
    }


TOOLS = [
    volumetric_weight,
    chargeable_weight,
    route_total_time,
    route_distance_through_stops,
    plan_truck_loads,
    boxes_per_pallet_layer,
    pallets_needed,
    container_capacity_check,
    delivery_eta,
]
