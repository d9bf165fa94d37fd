"""Great-circle distance, shared by the domains that measure between coordinates."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
KM_PER_UNIT = {"km": 1.0, "mi": 1.609344, "nm": 1.852}


def check_coordinates(lat: float, lon: float) -> None:
    """Raise ValueError unless ``lat`` is in [-90, 90] and ``lon`` in [-180, 180]."""
    if not -90 <= lat <= 90:
        raise ValueError(f"latitude must be between -90 and 90, got {lat}")
    if not -180 <= lon <= 180:
        raise ValueError(f"longitude must be between -180 and 180, got {lon}")


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres between two points given in decimal degrees."""
    check_coordinates(lat1, lon1)
    check_coordinates(lat2, lon2)
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def in_unit(km: float, unit: str) -> float:
    """``km`` kilometres expressed in ``unit`` (``km``, ``mi`` or ``nm``), rounded to 0.1."""
    return round(km / KM_PER_UNIT[unit], 1)
