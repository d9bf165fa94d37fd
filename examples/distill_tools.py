"""Plant-care tools, the kind of small tool set a user has: distil a student that calls them.

    calltune distill --tools examples/distill_tools.py --out runs/plant-caller --n 300
    calltune serve --model runs/plant-caller/student

Everything is computed from the table below (no network, no state), so a request always gets
the same result. ``next_watering_date`` / ``next_fertilizing_date`` and ``watering_amount`` /
``fertilizer_dose`` are near-miss siblings: a request for one that is offered only the other
is one the right answer makes no call for (the ``no_fit`` requests of the data).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from calltune import tool

#: plant → (water every N days, fertilize every N days, light, lux range, ml of water per cm of
#: pot diameter, toxic to cats, toxic to dogs)
PLANTS: dict[str, tuple[int, int, str, tuple[int, int], int, bool, bool]] = {
    "monstera": (7, 30, "bright indirect", (10_000, 20_000), 25, True, True),
    "snake plant": (14, 60, "low to bright indirect", (2_000, 20_000), 12, True, True),
    "boston fern": (3, 30, "medium indirect", (5_000, 15_000), 20, False, False),
    "pothos": (7, 45, "low to medium indirect", (2_000, 15_000), 18, True, True),
    "peace lily": (5, 45, "medium indirect", (5_000, 12_000), 22, True, True),
    "basil": (2, 14, "full sun", (20_000, 50_000), 15, False, False),
    "tomato": (2, 14, "full sun", (30_000, 70_000), 40, True, True),
    "orchid": (7, 14, "bright indirect", (10_000, 25_000), 8, False, False),
    "aloe vera": (21, 90, "bright", (15_000, 40_000), 10, True, True),
    "fiddle leaf fig": (7, 30, "bright indirect", (12_000, 25_000), 30, True, True),
}
STRENGTH = {"full": 5.0, "half": 2.5, "quarter": 1.25}  # ml of liquid fertilizer per litre


def _plant(name: str) -> tuple[int, int, str, tuple[int, int], int, bool, bool]:
    key = " ".join(name.strip().casefold().split())
    if key not in PLANTS:
        raise ValueError(f"unknown plant {name!r}; known: {', '.join(sorted(PLANTS))}")
    return PLANTS[key]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date written YYYY-MM-DD") from None


#: the plants the tools know, offered as an enum: with a free string the teacher invented plants
#: the tools then refused (127 of 300 trajectories of the first real run failed execution so)
PlantName = Literal[tuple(PLANTS)]
PlantArg = Annotated[PlantName, "The plant's common name"]


@tool
def plant_care_card(plant: PlantArg) -> dict:
    """How to care for a houseplant: watering and fertilizing intervals, light, pet safety."""
    water, feed, light, (lo, hi), _, cats, dogs = _plant(plant)
    return {
        "plant": plant,
        "water_every_days": water,
        "fertilize_every_days": feed,
        "light": light,
        "lux": [lo, hi],
        "toxic_to_cats": cats,
        "toxic_to_dogs": dogs,
    }


@tool
def next_watering_date(
    plant: PlantArg, last_watered: Annotated[str, "When it was last watered, YYYY-MM-DD"]
) -> dict:
    """The date a plant needs water next, from the day it was last watered."""
    water = _plant(plant)[0]
    return {"plant": plant, "next_watering": (_date(last_watered) + dt.timedelta(days=water)).isoformat()}


@tool
def next_fertilizing_date(
    plant: PlantArg, last_fertilized: Annotated[str, "When it was last fertilized, YYYY-MM-DD"]
) -> dict:
    """The date a plant should be fertilized next, from the day it was last fertilized."""
    feed = _plant(plant)[1]
    return {
        "plant": plant,
        "next_fertilizing": (_date(last_fertilized) + dt.timedelta(days=feed)).isoformat(),
    }


@tool
def watering_amount(
    plant: PlantArg, pot_diameter_cm: Annotated[int, "Diameter of the pot in centimetres"]
) -> dict:
    """How much water (ml) to give a plant at each watering, for its pot size."""
    if pot_diameter_cm <= 0:
        raise ValueError("the pot diameter must be positive")
    return {"plant": plant, "water_ml": _plant(plant)[4] * pot_diameter_cm}


@tool
def fertilizer_dose(
    water_liters: Annotated[float, "Litres of water the fertilizer is mixed into"],
    strength: Literal["full", "half", "quarter"] = "half",
) -> dict:
    """How much liquid fertilizer (ml) to mix into the watering can."""
    if water_liters <= 0:
        raise ValueError("the amount of water must be positive")
    return {"fertilizer_ml": round(STRENGTH[strength] * water_liters, 2), "strength": strength}


@tool
def watering_schedule(
    plant: PlantArg,
    start_date: Annotated[str, "The first watering day, YYYY-MM-DD"],
    weeks: Annotated[int, "How many weeks to plan"] = 4,
) -> dict:
    """The watering days of a plant for the coming weeks."""
    if not 1 <= weeks <= 26:
        raise ValueError("plan between 1 and 26 weeks")
    water, start = _plant(plant)[0], _date(start_date)
    days = range(0, weeks * 7, water)
    return {"plant": plant, "watering_days": [(start + dt.timedelta(days=d)).isoformat() for d in days]}


@tool
def check_light(
    plant: PlantArg, lux: Annotated[int, "Light measured where the plant stands, in lux"]
) -> dict:
    """Whether the light where a plant stands suits it (too dark, right, too bright)."""
    lo, hi = _plant(plant)[3]
    verdict = "too dark" if lux < lo else "too bright" if lux > hi else "right"
    return {"plant": plant, "lux": lux, "verdict": verdict, "wants_lux": [lo, hi]}


@tool
def is_pet_safe(plant: PlantArg, pet: Literal["cat", "dog"] = "cat") -> dict:
    """Whether a plant is safe to keep around a cat or a dog."""
    *_, cats, dogs = _plant(plant)
    toxic = cats if pet == "cat" else dogs
    return {"plant": plant, "pet": pet, "safe": not toxic}
