"""Geometry: areas and perimeters, volumes, distances, angles and polygons."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import positive
from ._spec import function_spec, string

DOMAIN = "geometry"


class Point(BaseModel):
    """A point in the plane, or in space when z is given."""

    x: float = Field(description="Horizontal coordinate.")
    y: float = Field(description="Vertical coordinate.")
    z: float | None = Field(default=None, description="Depth coordinate, for points in space.")


def _r(x: float) -> float:
    return round(x, 6)


def _coords(p: Point) -> tuple[float, ...]:
    return (p.x, p.y, p.z or 0.0)


@tool
def circle_measurements(radius: float) -> dict:
    """Area, circumference and diameter of a circle.

    Args:
        radius: Radius of the circle.
    """
    positive(radius=radius)
    return {
        "area": _r(math.pi * radius**2),
        "circumference": _r(2 * math.pi * radius),
        "diameter": 2 * radius,
    }


@tool
def rectangle_measurements(width: float, height: float) -> dict:
    """Area, perimeter and diagonal of a rectangle.

    Args:
        width: Length of one side.
        height: Length of the adjacent side.
    """
    positive(width=width, height=height)
    return {
        "area": _r(width * height),
        "perimeter": _r(2 * (width + height)),
        "diagonal": _r(math.hypot(width, height)),
    }


def _check_triangle(a: float, b: float, c: float) -> None:
    positive(side_a=a, side_b=b, side_c=c)
    x, y, z = sorted((a, b, c))
    if x + y <= z:
        raise ValueError(f"sides {a}, {b} and {c} do not form a triangle")


@tool
def triangle_area_from_sides(side_a: float, side_b: float, side_c: float) -> dict:
    """Area and perimeter of a triangle from the lengths of its three sides (Heron's formula).

    Args:
        side_a: Length of the first side.
        side_b: Length of the second side.
        side_c: Length of the third side.
    """
    _check_triangle(side_a, side_b, side_c)
    s = (side_a + side_b + side_c) / 2
    area = math.sqrt(s * (s - side_a) * (s - side_b) * (s - side_c))
    return {"area": _r(area), "perimeter": _r(2 * s)}


@tool
def triangle_angles_from_sides(side_a: float, side_b: float, side_c: float) -> dict:
    """The three interior angles of a triangle, in degrees, from its side lengths (law of cosines).

    Args:
        side_a: Length of the side opposite angle A.
        side_b: Length of the side opposite angle B.
        side_c: Length of the side opposite angle C.
    """
    _check_triangle(side_a, side_b, side_c)

    def angle(opposite: float, p: float, q: float) -> float:
        return round(math.degrees(math.acos((p * p + q * q - opposite * opposite) / (2 * p * q))), 4)

    a, b = angle(side_a, side_b, side_c), angle(side_b, side_a, side_c)
    return {"angle_a": a, "angle_b": b, "angle_c": round(180 - a - b, 4)}


@tool
def regular_polygon_properties(number_of_sides: int, side_length: float) -> dict:
    """Area, perimeter, interior angle and apothem of a regular polygon.

    Args:
        number_of_sides: How many equal sides the polygon has, at least 3.
        side_length: Length of each side.
    """
    if number_of_sides < 3:
        raise ValueError(f"a polygon needs at least 3 sides, got {number_of_sides}")
    positive(side_length=side_length)
    apothem = side_length / (2 * math.tan(math.pi / number_of_sides))
    perimeter = number_of_sides * side_length
    return {
        "area": _r(perimeter * apothem / 2),
        "perimeter": _r(perimeter),
        "interior_angle_degrees": _r((number_of_sides - 2) * 180 / number_of_sides),
        "apothem": _r(apothem),
    }


@tool
def polygon_area_from_vertices(vertices: list[Point]) -> dict:
    """Area, perimeter and centroid of a simple polygon given its corner points in order (shoelace formula).

    Args:
        vertices: Corner points in drawing order, clockwise or counter-clockwise; z is ignored.
    """
    if len(vertices) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices, got {len(vertices)}")
    pts = [(v.x, v.y) for v in vertices]
    pairs = list(zip(pts, pts[1:] + pts[:1], strict=True))
    cross = [x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs]
    signed = sum(cross) / 2
    if signed == 0:
        raise ValueError("the vertices are collinear: the polygon has no area")
    cx = sum((x1 + x2) * c for ((x1, _), (x2, _)), c in zip(pairs, cross, strict=True)) / (6 * signed)
    cy = sum((y1 + y2) * c for ((_, y1), (_, y2)), c in zip(pairs, cross, strict=True)) / (6 * signed)
    perimeter = sum(math.dist(p, q) for p, q in pairs)
    return {"area": _r(abs(signed)), "perimeter": _r(perimeter), "centroid": {"x": _r(cx), "y": _r(cy)}}


@tool
def distance_between_points(
    point_a: Point, point_b: Point, metric: Literal["euclidean", "manhattan", "chebyshev"] = "euclidean"
) -> dict:
    """Distance between two points in the plane or in space.

    Args:
        point_a: The first point.
        point_b: The second point.
        metric: How distance is measured: straight line, sum of axis differences, or largest axis difference.
    """
    diffs = [abs(p - q) for p, q in zip(_coords(point_a), _coords(point_b), strict=True)]
    value = {"euclidean": math.hypot(*diffs), "manhattan": sum(diffs), "chebyshev": max(diffs)}[metric]
    return {"distance": _r(value), "metric": metric}


@tool
def midpoint_and_slope(point_a: Point, point_b: Point) -> dict:
    """Midpoint, slope, y-intercept and inclination angle of the line through two points of the plane.

    Args:
        point_a: The first point.
        point_b: The second point.
    """
    dx, dy = point_b.x - point_a.x, point_b.y - point_a.y
    if dx == dy == 0:
        raise ValueError("the two points are the same: they define no line")
    slope = None if dx == 0 else _r(dy / dx)
    return {
        "midpoint": {"x": _r((point_a.x + point_b.x) / 2), "y": _r((point_a.y + point_b.y) / 2)},
        "slope": slope,
        "y_intercept": None if slope is None else _r(point_a.y - dy / dx * point_a.x),
        "angle_degrees": _r(math.degrees(math.atan2(dy, dx)) % 180),
    }


@tool
def convert_angle(
    value: float,
    from_unit: Literal["degrees", "radians", "gradians", "turns"],
    to_unit: Literal["degrees", "radians", "gradians", "turns"],
) -> dict:
    """Convert an angle between degrees, radians, gradians and turns.

    Args:
        value: The angle to convert.
        from_unit: Unit the angle is in.
        to_unit: Unit to convert to.
    """
    per_turn = {"degrees": 360.0, "radians": math.tau, "gradians": 400.0, "turns": 1.0}
    return {"value": _r(value / per_turn[from_unit] * per_turn[to_unit]), "unit": to_unit}


Solid = Literal["cube", "rectangular_box", "sphere", "cylinder", "cone", "square_pyramid"]


@tool
def solid_volume_and_surface(
    shape: Solid,
    length: float | None = None,
    width: float | None = None,
    height: float | None = None,
    radius: float | None = None,
) -> dict:
    """Volume and total surface area of a common solid.

    Args:
        shape: The solid. A cube needs length; a rectangular box length, width and height; a sphere radius;
            a cylinder and a cone radius and height; a square pyramid length (base side) and height.
        length: Edge or base side length.
        width: Width of a rectangular box.
        height: Height of a box, cylinder, cone or pyramid.
        radius: Radius of a sphere, or of the base of a cylinder or cone.
    """
    needs = {
        "cube": ("length",),
        "rectangular_box": ("length", "width", "height"),
        "sphere": ("radius",),
        "cylinder": ("radius", "height"),
        "cone": ("radius", "height"),
        "square_pyramid": ("length", "height"),
    }[shape]
    given = {"length": length, "width": width, "height": height, "radius": radius}
    missing = [n for n in needs if given[n] is None]
    if missing:
        raise ValueError(f"a {shape} needs {', '.join(needs)}; missing {', '.join(missing)}")
    positive(**{n: given[n] for n in needs})
    a, w, h, r = length or 0.0, width or 0.0, height or 0.0, radius or 0.0
    if shape == "cube":
        volume, surface = a**3, 6 * a * a
    elif shape == "rectangular_box":
        volume, surface = a * w * h, 2 * (a * w + a * h + w * h)
    elif shape == "sphere":
        volume, surface = 4 / 3 * math.pi * r**3, 4 * math.pi * r * r
    elif shape == "cylinder":
        volume, surface = math.pi * r * r * h, 2 * math.pi * r * (r + h)
    elif shape == "cone":
        volume, surface = math.pi * r * r * h / 3, math.pi * r * (r + math.hypot(r, h))
    else:
        volume, surface = a * a * h / 3, a * a + 2 * a * math.hypot(a / 2, h)
    return {"shape": shape, "volume": _r(volume), "surface_area": _r(surface)}


TOOLS = [
    circle_measurements,
    rectangle_measurements,
    triangle_area_from_sides,
    triangle_angles_from_sides,
    regular_polygon_properties,
    polygon_area_from_vertices,
    distance_between_points,
    midpoint_and_slope,
    convert_angle,
    solid_volume_and_surface,
]

SPECS = [
    function_spec(
        "measure_land_parcel",
        "Boundary length and area of a registered land parcel, looked up by its cadastral identifier.",
        {
            "parcel_id": string("Cadastral identifier of the parcel."),
            "area_unit": string(
                "Unit for the area.", enum=["square_meters", "hectares", "acres"], default="square_meters"
            ),
        },
        ["parcel_id"],
    ),
]
