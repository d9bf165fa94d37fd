"""Physics: kinematics, free fall and projectiles, energy, Ohm's law, circuits and pressure (SI units)."""

from __future__ import annotations

import math
from typing import Literal

from ....tools import tool
from ._checks import non_negative, positive
from ._spec import array, function_spec, number, string

DOMAIN = "physics"

STANDARD_GRAVITY = 9.80665  # m/s²
_PA_PER = {"pa": 1.0, "kpa": 1e3, "bar": 1e5, "atm": 101325.0, "psi": 6894.757}


def _r(x: float) -> float:
    return round(x, 4)


def _solve_missing(known: dict[str, float | None], needed: int = 2) -> str:
    """The one name whose value is None, when exactly ``needed`` of the values are given."""
    missing = [k for k, v in known.items() if v is None]
    if len(known) - len(missing) != needed or len(missing) != 1:
        raise ValueError(f"give exactly {needed} of {', '.join(known)}")
    return missing[0]


@tool
def velocity_after_acceleration(initial_velocity: float, acceleration: float, time_s: float) -> dict:
    """Velocity after accelerating uniformly for some time (v = u + a·t).

    Args:
        initial_velocity: Starting velocity in meters per second.
        acceleration: Constant acceleration in meters per second squared.
        time_s: Duration in seconds.
    """
    non_negative(time_s=time_s)
    return {"final_velocity_mps": _r(initial_velocity + acceleration * time_s)}


@tool
def displacement_under_acceleration(initial_velocity: float, acceleration: float, time_s: float) -> dict:
    """Distance covered while accelerating uniformly (s = u·t + ½·a·t²).

    Args:
        initial_velocity: Starting velocity in meters per second.
        acceleration: Constant acceleration in meters per second squared.
        time_s: Duration in seconds.
    """
    non_negative(time_s=time_s)
    return {"displacement_m": _r(initial_velocity * time_s + 0.5 * acceleration * time_s**2)}


@tool
def free_fall(height_m: float, gravity: float = STANDARD_GRAVITY) -> dict:
    """Time to fall from a height without air resistance, and the speed on impact.

    Args:
        height_m: Drop height in meters.
        gravity: Gravitational acceleration in meters per second squared.
    """
    positive(height_m=height_m, gravity=gravity)
    t = math.sqrt(2 * height_m / gravity)
    return {"fall_time_s": _r(t), "impact_speed_mps": _r(gravity * t)}


@tool
def projectile_motion(
    initial_speed: float,
    launch_angle_degrees: float,
    launch_height_m: float = 0.0,
    gravity: float = STANDARD_GRAVITY,
) -> dict:
    """Range, peak height and flight time of a projectile without air resistance.

    Args:
        initial_speed: Launch speed in meters per second.
        launch_angle_degrees: Angle above the horizontal, in degrees.
        launch_height_m: Height of the launch point above the landing ground, in meters.
        gravity: Gravitational acceleration in meters per second squared.
    """
    positive(initial_speed=initial_speed, gravity=gravity)
    non_negative(launch_height_m=launch_height_m)
    if not 0 <= launch_angle_degrees <= 90:
        raise ValueError(f"launch_angle_degrees must be between 0 and 90, got {launch_angle_degrees}")
    a = math.radians(launch_angle_degrees)
    vx, vy = initial_speed * math.cos(a), initial_speed * math.sin(a)
    t = (vy + math.sqrt(vy * vy + 2 * gravity * launch_height_m)) / gravity
    return {
        "range_m": _r(vx * t),
        "max_height_m": _r(launch_height_m + vy * vy / (2 * gravity)),
        "flight_time_s": _r(t),
    }


@tool
def kinetic_energy(mass_kg: float, velocity_mps: float) -> dict:
    """Kinetic energy and momentum of a moving mass.

    Args:
        mass_kg: Mass in kilograms.
        velocity_mps: Speed in meters per second.
    """
    positive(mass_kg=mass_kg)
    return {
        "kinetic_energy_j": _r(0.5 * mass_kg * velocity_mps**2),
        "momentum_kg_mps": _r(mass_kg * velocity_mps),
    }


@tool
def gravitational_potential_energy(
    mass_kg: float, height_m: float, gravity: float = STANDARD_GRAVITY
) -> dict:
    """Potential energy of a mass raised to a height (E = m·g·h).

    Args:
        mass_kg: Mass in kilograms.
        height_m: Height above the reference level in meters.
        gravity: Gravitational acceleration in meters per second squared.
    """
    positive(mass_kg=mass_kg, gravity=gravity)
    return {"potential_energy_j": _r(mass_kg * gravity * height_m)}


@tool
def ohms_law(
    voltage_v: float | None = None, current_a: float | None = None, resistance_ohm: float | None = None
) -> dict:
    """Solve Ohm's law (V = I·R) for whichever of voltage, current and resistance is left out.

    Args:
        voltage_v: Voltage in volts.
        current_a: Current in amperes.
        resistance_ohm: Resistance in ohms.
    """
    missing = _solve_missing(
        {"voltage_v": voltage_v, "current_a": current_a, "resistance_ohm": resistance_ohm}
    )
    if missing == "voltage_v":
        voltage_v = current_a * resistance_ohm  # type: ignore[operator]
    elif missing == "current_a":
        positive(resistance_ohm=resistance_ohm)  # type: ignore[arg-type]
        current_a = voltage_v / resistance_ohm  # type: ignore[operator]
    else:
        if not current_a:
            raise ValueError("current_a must not be zero when solving for resistance")
        resistance_ohm = voltage_v / current_a  # type: ignore[operator]
    return {
        "voltage_v": _r(voltage_v),
        "current_a": _r(current_a),
        "resistance_ohm": _r(resistance_ohm),
        "solved_for": missing,
    }  # type: ignore[arg-type]


@tool
def electrical_power(
    voltage_v: float | None = None, current_a: float | None = None, resistance_ohm: float | None = None
) -> dict:
    """Electrical power in watts from any two of voltage, current and resistance.

    Args:
        voltage_v: Voltage in volts.
        current_a: Current in amperes.
        resistance_ohm: Resistance in ohms.
    """
    missing = _solve_missing(
        {"voltage_v": voltage_v, "current_a": current_a, "resistance_ohm": resistance_ohm}
    )
    if missing == "resistance_ohm":
        watts = voltage_v * current_a  # type: ignore[operator]
    elif missing == "voltage_v":
        watts = current_a**2 * resistance_ohm  # type: ignore[operator]
    else:
        positive(resistance_ohm=resistance_ohm)  # type: ignore[arg-type]
        watts = voltage_v**2 / resistance_ohm  # type: ignore[operator]
    return {"power_w": _r(watts)}


@tool
def combine_resistors(resistances_ohm: list[float], arrangement: Literal["series", "parallel"]) -> dict:
    """Equivalent resistance of resistors connected in series or in parallel.

    Args:
        resistances_ohm: Each resistor's resistance in ohms.
        arrangement: How the resistors are connected.
    """
    if not resistances_ohm or min(resistances_ohm) <= 0:
        raise ValueError("resistances_ohm must be one or more positive values")
    total = sum(resistances_ohm) if arrangement == "series" else 1 / sum(1 / r for r in resistances_ohm)
    return {"equivalent_resistance_ohm": _r(total), "arrangement": arrangement}


@tool
def pressure_from_force(
    force_n: float, area_m2: float, unit: Literal["pa", "kpa", "bar", "atm", "psi"] = "pa"
) -> dict:
    """Pressure exerted by a force spread over an area.

    Args:
        force_n: Force in newtons.
        area_m2: Area in square meters.
        unit: Unit of the result.
    """
    positive(area_m2=area_m2)
    return {"pressure": _r(force_n / area_m2 / _PA_PER[unit]), "unit": unit}


@tool
def hydrostatic_pressure(
    depth_m: float,
    fluid_density_kg_m3: float = 1000.0,
    include_atmosphere: bool = False,
    unit: Literal["pa", "kpa", "bar", "atm", "psi"] = "kpa",
) -> dict:
    """Pressure at a depth in a still fluid (p = ρ·g·h), optionally plus atmospheric pressure.

    Args:
        depth_m: Depth below the surface in meters.
        fluid_density_kg_m3: Density of the fluid in kilograms per cubic meter.
        include_atmosphere: Add standard atmospheric pressure (absolute rather than gauge pressure).
        unit: Unit of the result.
    """
    non_negative(depth_m=depth_m)
    positive(fluid_density_kg_m3=fluid_density_kg_m3)
    pa = fluid_density_kg_m3 * STANDARD_GRAVITY * depth_m + (101325.0 if include_atmosphere else 0.0)
    return {"pressure": _r(pa / _PA_PER[unit]), "unit": unit}


TOOLS = [
    velocity_after_acceleration,
    displacement_under_acceleration,
    free_fall,
    projectile_motion,
    kinetic_energy,
    gravitational_potential_energy,
    ohms_law,
    electrical_power,
    combine_resistors,
    pressure_from_force,
    hydrostatic_pressure,
]

SPECS = [
    function_spec(
        "lookup_material_properties",
        "Physical properties of an engineering material: density, melting point, thermal conductivity and more.",
        {
            "material": string("Name of the material."),
            "properties": array(
                "Which properties to return; all when left out.",
                {
                    "type": "string",
                    "enum": [
                        "density",
                        "melting_point",
                        "thermal_conductivity",
                        "specific_heat",
                        "youngs_modulus",
                        "resistivity",
                    ],
                },
            ),
            "temperature_c": number("Temperature the values apply at, in degrees Celsius.", default=20),
        },
        ["material"],
    ),
]
