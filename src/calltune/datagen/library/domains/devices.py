"""Smart-home devices: lights, thermostats, locks, vacuums and cameras (mostly simulated), plus power arithmetic."""

from __future__ import annotations

from typing import Literal

from ....tools import tool
from ._checks import non_negative, percent, positive
from ._spec import array, boolean, function_spec, number, string

DOMAIN = "devices"


@tool
def dimmer_level_to_lumens(
    max_lumens: float, level_percent: float, curve: Literal["linear", "square"] = "linear"
) -> dict:
    """Light output of a dimmable lamp at a dimmer level.

    Args:
        max_lumens: The lamp's output at full brightness, in lumens.
        level_percent: Dimmer setting as a percentage.
        curve: Dimming curve, either linear or square (perceived-brightness dimmers).
    """
    positive(max_lumens=max_lumens)
    percent(level_percent=level_percent)
    share = level_percent / 100
    return {"lumens": round(max_lumens * (share if curve == "linear" else share**2), 1)}


@tool
def device_standby_cost(
    standby_watts: float, price_per_kwh: float, hours_per_day: float = 24, days: int = 365
) -> dict:
    """Energy and money a device uses while on standby over a period.

    Args:
        standby_watts: The device's standby draw in watts.
        price_per_kwh: Electricity price per kWh.
        hours_per_day: Hours per day the device sits on standby.
        days: Number of days counted.
    """
    non_negative(standby_watts=standby_watts, price_per_kwh=price_per_kwh)
    positive(days=days)
    if not 0 <= hours_per_day <= 24:
        raise ValueError(f"hours_per_day must be between 0 and 24, got {hours_per_day}")
    kwh = standby_watts * hours_per_day * days / 1000
    return {"kwh": round(kwh, 2), "cost": round(kwh * price_per_kwh, 2)}


@tool
def battery_runtime_hours(capacity_mah: float, draw_ma: float, efficiency: float = 0.85) -> dict:
    """How long a battery-powered device runs on one charge.

    Args:
        capacity_mah: Battery capacity in mAh.
        draw_ma: Average current the device draws in mA.
        efficiency: Usable share of the capacity, between 0 and 1.
    """
    positive(capacity_mah=capacity_mah, draw_ma=draw_ma)
    if not 0 < efficiency <= 1:
        raise ValueError(f"efficiency must be in (0, 1], got {efficiency}")
    hours = capacity_mah * efficiency / draw_ma
    return {"hours": round(hours, 2), "days": round(hours / 24, 2)}


TOOLS = [dimmer_level_to_lumens, device_standby_cost, battery_runtime_hours]

_DEVICE_ID = string("Identifier of the device in the home.")
SPECS = [
    function_spec(
        "set_light_state",
        "Switch a smart light on or off and optionally set its brightness and colour.",
        {
            "device_id": _DEVICE_ID,
            "on": boolean("Whether the light should be on."),
            "brightness_percent": number("Brightness as a percentage.", integer=True, minimum=0, maximum=100),
            "color": string("Colour name or hex code for colour bulbs."),
        },
        ["device_id", "on"],
    ),
    function_spec(
        "set_thermostat_target",
        "Set a thermostat's target temperature and operating mode.",
        {
            "device_id": _DEVICE_ID,
            "target_celsius": number("Target temperature in degrees Celsius.", minimum=5, maximum=35),
            "mode": string("Operating mode.", enum=["heat", "cool", "auto", "off"], default="auto"),
            "hold_hours": number("Hours to hold the setting before the schedule resumes.", integer=True),
        },
        ["device_id", "target_celsius"],
    ),
    function_spec(
        "control_door_lock",
        "Lock or unlock a smart door lock.",
        {
            "lock_id": string("Identifier of the lock."),
            "action": string("What to do.", enum=["lock", "unlock"]),
            "pin_code": string("PIN code, required by some locks to unlock."),
        },
        ["lock_id", "action"],
    ),
    function_spec(
        "get_device_status",
        "Current state of one smart-home device: power, connectivity, battery and its readings.",
        {"device_id": _DEVICE_ID},
        ["device_id"],
    ),
    function_spec(
        "list_home_devices",
        "List the smart-home devices, optionally only those in one room or of one kind.",
        {
            "room": string("Room name to filter by."),
            "kind": string(
                "Kind of device.", enum=["light", "thermostat", "lock", "camera", "plug", "vacuum", "speaker"]
            ),
            "online_only": boolean("Only list devices that are online.", default=False),
        },
        [],
    ),
    function_spec(
        "activate_home_scene",
        "Run a saved home scene (a group of device settings), now or after a delay.",
        {
            "scene_name": string("Name of the saved scene."),
            "delay_minutes": number("Minutes to wait before running it.", integer=True, minimum=0, default=0),
        },
        ["scene_name"],
    ),
    function_spec(
        "start_robot_vacuum",
        "Start a robot vacuum cleaner, optionally in selected rooms and with a cleaning mode.",
        {
            "device_id": _DEVICE_ID,
            "rooms": array("Rooms to clean; all rooms when omitted.", string("Room name.")),
            "mode": string("Cleaning mode.", enum=["quiet", "standard", "turbo", "mop"], default="standard"),
        },
        ["device_id"],
    ),
    function_spec(
        "get_camera_events",
        "Motion and person events recorded by a security camera since a given time.",
        {
            "camera_id": string("Identifier of the camera."),
            "since": string("Start of the period, ISO 8601 date-time.", fmt="date-time"),
            "event_type": string(
                "Only events of this type.", enum=["motion", "person", "vehicle", "package"]
            ),
            "limit": number("Most events to return.", integer=True, minimum=1, default=20),
        },
        ["camera_id", "since"],
    ),
]
