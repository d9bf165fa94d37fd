"""Health: body mass index, energy needs, heart-rate zones, hydration, body fat and weight-based doses.

These are the standard published formulas (WHO BMI classes, Mifflin-St Jeor, Harris-Benedict,
Karvonen, US Navy body fat); the results are estimates, not medical advice.
"""

from __future__ import annotations

import math
from typing import Literal

from ....tools import tool
from ._checks import non_negative, positive
from ._spec import array, boolean, function_spec, number, string

DOMAIN = "health"

Sex = Literal["female", "male"]
ActivityLevel = Literal["sedentary", "light", "moderate", "active", "very_active"]
_ACTIVITY_FACTOR = {"sedentary": 1.2, "light": 1.375, "moderate": 1.55, "active": 1.725, "very_active": 1.9}
_LB_PER_KG, _CM_PER_IN = 2.2046226218, 2.54


def _bmi_class(bmi: float) -> str:
    for limit, label in (
        (18.5, "underweight"),
        (25, "normal"),
        (30, "overweight"),
        (35, "obese class I"),
        (40, "obese class II"),
    ):
        if bmi < limit:
            return label
    return "obese class III"


def _bmr(weight_kg: float, height_cm: float, age_years: int, sex: str, formula: str) -> float:
    positive(weight_kg=weight_kg, height_cm=height_cm, age_years=age_years)
    if formula == "mifflin_st_jeor":
        return 10 * weight_kg + 6.25 * height_cm - 5 * age_years + (5 if sex == "male" else -161)
    if sex == "male":
        return 88.362 + 13.397 * weight_kg + 4.799 * height_cm - 5.677 * age_years
    return 447.593 + 9.247 * weight_kg + 3.098 * height_cm - 4.330 * age_years


@tool
def body_mass_index(
    weight: float, height: float, unit_system: Literal["metric", "imperial"] = "metric"
) -> dict:
    """Body mass index and its WHO weight class.

    Args:
        weight: Body weight, in kilograms (metric) or pounds (imperial).
        height: Height, in centimeters (metric) or inches (imperial).
        unit_system: Which units weight and height are given in.
    """
    positive(weight=weight, height=height)
    kg = weight if unit_system == "metric" else weight / _LB_PER_KG
    m = (height if unit_system == "metric" else height * _CM_PER_IN) / 100
    bmi = kg / (m * m)
    return {"bmi": round(bmi, 1), "category": _bmi_class(bmi)}


@tool
def healthy_weight_range(height_cm: float) -> dict:
    """The body weights, in kilograms, that give a normal BMI (18.5 to 24.9) at a given height.

    Args:
        height_cm: Height in centimeters.
    """
    positive(height_cm=height_cm)
    m2 = (height_cm / 100) ** 2
    return {"min_kg": round(18.5 * m2, 1), "max_kg": round(24.9 * m2, 1)}


@tool
def basal_metabolic_rate(
    weight_kg: float,
    height_cm: float,
    age_years: int,
    sex: Sex,
    formula: Literal["mifflin_st_jeor", "harris_benedict"] = "mifflin_st_jeor",
) -> dict:
    """Calories burned per day at complete rest (basal metabolic rate).

    Args:
        weight_kg: Body weight in kilograms.
        height_cm: Height in centimeters.
        age_years: Age in years.
        sex: Sex used by the formula.
        formula: Which published equation to use.
    """
    return {
        "bmr_kcal_per_day": round(_bmr(weight_kg, height_cm, age_years, sex, formula)),
        "formula": formula,
    }


@tool
def daily_calorie_needs(
    weight_kg: float,
    height_cm: float,
    age_years: int,
    sex: Sex,
    activity_level: ActivityLevel,
    goal: Literal["maintain", "lose", "gain"] = "maintain",
) -> dict:
    """Daily calories to maintain, lose or gain weight, from the basal rate and the activity level.

    Args:
        weight_kg: Body weight in kilograms.
        height_cm: Height in centimeters.
        age_years: Age in years.
        sex: Sex used by the formula.
        activity_level: Usual amount of exercise.
        goal: maintain keeps the weight; lose and gain shift the total by 500 kcal a day.
    """
    tdee = _bmr(weight_kg, height_cm, age_years, sex, "mifflin_st_jeor") * _ACTIVITY_FACTOR[activity_level]
    target = tdee + {"maintain": 0, "lose": -500, "gain": 500}[goal]
    return {"maintenance_kcal": round(tdee), "target_kcal": round(target), "goal": goal}


@tool
def maximum_heart_rate(age_years: int, formula: Literal["fox", "tanaka", "gellish"] = "tanaka") -> dict:
    """Estimated maximum heart rate, in beats per minute, for an age.

    Args:
        age_years: Age in years.
        formula: fox is 220 minus age; tanaka and gellish are later regression formulas.
    """
    positive(age_years=age_years)
    hr = {"fox": 220 - age_years, "tanaka": 208 - 0.7 * age_years, "gellish": 207 - 0.7 * age_years}[formula]
    return {"max_heart_rate_bpm": round(hr), "formula": formula}


@tool
def target_heart_rate_zone(
    age_years: int,
    resting_heart_rate: int | None = None,
    low_intensity_percent: float = 50.0,
    high_intensity_percent: float = 85.0,
) -> dict:
    """The heart-rate range for exercise at a given intensity, by the Karvonen method when the resting rate is known.

    Args:
        age_years: Age in years.
        resting_heart_rate: Resting pulse in beats per minute; without it the zone is a share of the maximum.
        low_intensity_percent: Lower end of the zone, in percent.
        high_intensity_percent: Upper end of the zone, in percent.
    """
    positive(age_years=age_years)
    if not 0 < low_intensity_percent < high_intensity_percent <= 100:
        raise ValueError("intensities must satisfy 0 < low_intensity_percent < high_intensity_percent <= 100")
    max_hr = 220 - age_years
    rest = resting_heart_rate or 0
    if not 0 <= rest < max_hr:
        raise ValueError(f"resting_heart_rate must be below the maximum heart rate {max_hr}")

    def at(pct: float) -> int:
        return round(rest + (max_hr - rest) * pct / 100)

    method = "karvonen" if resting_heart_rate else "percent_of_max"
    return {
        "low_bpm": at(low_intensity_percent),
        "high_bpm": at(high_intensity_percent),
        "max_bpm": max_hr,
        "method": method,
    }


@tool
def daily_water_intake(
    weight_kg: float, exercise_minutes: int = 0, climate: Literal["temperate", "hot"] = "temperate"
) -> dict:
    """A rough daily fluid target: 35 ml per kilogram, plus extra for exercise and hot weather.

    Args:
        weight_kg: Body weight in kilograms.
        exercise_minutes: Minutes of exercise that day.
        climate: Hot weather adds half a liter.
    """
    positive(weight_kg=weight_kg)
    non_negative(exercise_minutes=exercise_minutes)
    ml = 35 * weight_kg + 12 * exercise_minutes + (500 if climate == "hot" else 0)
    return {"liters_per_day": round(ml / 1000, 2), "cups_per_day": round(ml / 240, 1)}


@tool
def dose_by_body_weight(
    weight_kg: float, dose_mg_per_kg: float, doses_per_day: int = 1, max_single_dose_mg: float | None = None
) -> dict:
    """A medication dose scaled to body weight, capped at a maximum single dose when one is given.

    Args:
        weight_kg: Patient body weight in kilograms.
        dose_mg_per_kg: Prescribed milligrams per kilogram for one dose.
        doses_per_day: How many doses are taken per day.
        max_single_dose_mg: Highest single dose allowed, in milligrams.
    """
    positive(weight_kg=weight_kg, dose_mg_per_kg=dose_mg_per_kg, doses_per_day=doses_per_day)
    single = weight_kg * dose_mg_per_kg
    capped = max_single_dose_mg is not None and single > max_single_dose_mg
    if capped:
        single = float(max_single_dose_mg)  # type: ignore[arg-type]
    return {
        "single_dose_mg": round(single, 2),
        "daily_dose_mg": round(single * doses_per_day, 2),
        "capped": capped,
    }


@tool
def body_fat_percentage(
    sex: Sex, height_cm: float, neck_cm: float, waist_cm: float, hip_cm: float | None = None
) -> dict:
    """Estimated body fat percentage from tape measurements (US Navy method).

    Args:
        sex: Sex used by the formula.
        height_cm: Height in centimeters.
        neck_cm: Neck circumference in centimeters.
        waist_cm: Waist circumference in centimeters.
        hip_cm: Hip circumference in centimeters, required for women.
    """
    positive(height_cm=height_cm, neck_cm=neck_cm, waist_cm=waist_cm)
    if sex == "female":
        if hip_cm is None:
            raise ValueError("hip_cm is required for women")
        girth = waist_cm + hip_cm - neck_cm
        fat = 495 / (1.29579 - 0.35004 * math.log10(girth) + 0.22100 * math.log10(height_cm)) - 450
    else:
        if waist_cm <= neck_cm:
            raise ValueError("waist_cm must be larger than neck_cm")
        girth = waist_cm - neck_cm
        fat = 495 / (1.0324 - 0.19077 * math.log10(girth) + 0.15456 * math.log10(height_cm)) - 450
    return {"body_fat_percent": round(fat, 1)}


TOOLS = [
    body_mass_index,
    healthy_weight_range,
    basal_metabolic_rate,
    daily_calorie_needs,
    maximum_heart_rate,
    target_heart_rate_zone,
    daily_water_intake,
    dose_by_body_weight,
    body_fat_percentage,
]

SPECS = [
    function_spec(
        "check_medication_interactions",
        "Known interactions between medications, with their severity.",
        {
            "medications": array("Generic names of the medications taken together.", {"type": "string"}),
            "include_supplements": boolean("Also check common dietary supplements.", default=False),
        },
        ["medications"],
    ),
    function_spec(
        "find_open_pharmacies",
        "Pharmacies near a place that are open at a given time.",
        {
            "location": string("Address, district or city."),
            "radius_km": number("Search radius in kilometers.", default=2),
            "open_at": string("Local date and time, ISO 8601; now when left out."),
            "services": array(
                "Services the pharmacy must offer.",
                {"type": "string", "enum": ["vaccination", "compounding", "delivery", "night_service"]},
            ),
        },
        ["location"],
    ),
]
