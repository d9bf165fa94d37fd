"""Cooking: recipe scaling, oven temperatures (gas marks included), baker's percentages, cup-to-gram conversion and cooking times.

Gas marks, ingredient densities, roasting times, egg timings and substitutions are fixed offline tables of
common kitchen rules of thumb.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import non_negative, positive
from ._spec import array, function_spec, number, string

DOMAIN = "cooking"

#: grams per US cup (a fixed offline table)
GRAMS_PER_CUP = {
    "all_purpose_flour": 125,
    "bread_flour": 130,
    "granulated_sugar": 200,
    "brown_sugar": 220,
    "powdered_sugar": 120,
    "butter": 227,
    "rolled_oats": 90,
    "white_rice": 185,
    "water": 237,
    "milk": 245,
    "honey": 340,
    "cocoa_powder": 85,
    "table_salt": 292,
}
#: oven temperature in °C of each British gas mark (a fixed offline table)
GAS_MARK_CELSIUS = {
    0.25: 110,
    0.5: 120,
    1: 140,
    2: 150,
    3: 170,
    4: 180,
    5: 190,
    6: 200,
    7: 220,
    8: 230,
    9: 240,
    10: 260,
}
_CUPS_PER = {"cup": 1.0, "tablespoon": 1 / 16, "teaspoon": 1 / 48, "milliliter": 1 / 236.588}
#: minutes per kilogram at 180 °C, by meat and doneness (a fixed offline table)
ROAST_MIN_PER_KG = {
    "beef": {"rare": 40, "medium": 50, "well_done": 60},
    "lamb": {"rare": 45, "medium": 55, "well_done": 65},
    "pork": {"medium": 60, "well_done": 70},
    "chicken": {"well_done": 45},
    "turkey": {"well_done": 40},
}
#: minutes in boiling water for a large egg, by doneness (a fixed offline table)
EGG_MINUTES = {"soft": 6, "medium": 8, "hard": 11}
#: substitutions per unit of the original ingredient (a fixed offline table)
SUBSTITUTES = {
    "buttermilk": [
        "1 cup milk + 1 tbsp lemon juice or vinegar, rested 5 minutes",
        "3/4 cup plain yogurt + 1/4 cup milk",
    ],
    "egg": [
        "1 tbsp ground flaxseed + 3 tbsp water",
        "1/4 cup unsweetened applesauce",
        "1/4 cup mashed banana",
    ],
    "butter": ["7/8 cup vegetable oil per cup", "1 cup coconut oil per cup"],
    "baking_powder": ["1/4 tsp baking soda + 1/2 tsp cream of tartar per tsp"],
    "brown_sugar": ["1 cup white sugar + 1 tbsp molasses per cup"],
    "sour_cream": ["1 cup plain Greek yogurt per cup"],
    "cake_flour": ["1 cup all-purpose flour minus 2 tbsp, plus 2 tbsp cornstarch"],
    "heavy_cream": ["3/4 cup milk + 1/4 cup melted butter per cup"],
}


class Ingredient(BaseModel):
    """One line of a recipe."""

    name: str = Field(description="Ingredient name.")
    quantity: float = Field(description="Amount used in the original recipe.")
    unit: str = Field(default="", description="Unit of the amount; empty for whole items.")


class WeighedIngredient(BaseModel):
    """An ingredient weighed in grams, for baker's percentages."""

    name: str = Field(description="Ingredient name.")
    grams: float = Field(description="Weight in grams.")


@tool
def scale_recipe(ingredients: list[Ingredient], original_servings: int, desired_servings: int) -> dict:
    """Scale every ingredient of a recipe from its original number of servings to a new one.

    Args:
        ingredients: The recipe's ingredient lines.
        original_servings: Servings the recipe makes as written.
        desired_servings: Servings wanted.
    """
    positive(original_servings=original_servings, desired_servings=desired_servings)
    if not ingredients:
        raise ValueError("ingredients must not be empty")
    factor = desired_servings / original_servings
    scaled = [
        {"name": i.name, "quantity": round(i.quantity * factor, 2), "unit": i.unit} for i in ingredients
    ]
    return {"factor": round(factor, 4), "ingredients": scaled}


Scale = Literal["celsius", "fahrenheit", "gas_mark"]


@tool
def convert_oven_temperature(value: float, from_scale: Scale, to_scale: Scale) -> dict:
    """Convert an oven setting between Celsius, Fahrenheit and British gas marks, with its usual name.

    Args:
        value: The oven setting.
        from_scale: Scale the setting is given on.
        to_scale: Scale wanted.
    """
    if from_scale == "gas_mark":
        if value not in GAS_MARK_CELSIUS:
            raise ValueError(f"gas marks are {', '.join(f'{m:g}' for m in GAS_MARK_CELSIUS)}; got {value:g}")
        celsius = float(GAS_MARK_CELSIUS[value])
    else:
        celsius = value if from_scale == "celsius" else (value - 32) * 5 / 9
    if not 50 <= celsius <= 300:
        raise ValueError(f"{value} {from_scale} is outside the range of a home oven")
    if to_scale == "gas_mark":
        result: float = min(GAS_MARK_CELSIUS, key=lambda m: abs(GAS_MARK_CELSIUS[m] - celsius))
    else:
        result = round(celsius if to_scale == "celsius" else celsius * 9 / 5 + 32)
    name = (
        "very slow"
        if celsius < 130
        else "slow"
        if celsius < 160
        else "moderate"
        if celsius < 190
        else "hot"
        if celsius < 220
        else "very hot"
    )
    return {"value": result, "scale": to_scale, "description": name}


@tool
def bakers_percentages(flour_grams: float, other_ingredients: list[WeighedIngredient]) -> dict:
    """Each ingredient's weight as a percentage of the flour weight, as bakers write formulas.

    Args:
        flour_grams: Total flour weight in grams (100 %).
        other_ingredients: The other ingredients with their weights.
    """
    positive(flour_grams=flour_grams)
    rows = [{"name": i.name, "percent": round(100 * i.grams / flour_grams, 1)} for i in other_ingredients]
    return {"flour_percent": 100.0, "ingredients": rows}


@tool
def dough_from_hydration(
    flour_grams: float, hydration_percent: float, salt_percent: float = 2.0, yeast_percent: float = 1.0
) -> dict:
    """Water, salt and yeast weights for a bread dough of a given flour weight and hydration.

    Args:
        flour_grams: Flour weight in grams.
        hydration_percent: Water as a percentage of the flour weight.
        salt_percent: Salt as a percentage of the flour weight.
        yeast_percent: Instant yeast as a percentage of the flour weight.
    """
    positive(flour_grams=flour_grams, hydration_percent=hydration_percent)
    non_negative(salt_percent=salt_percent, yeast_percent=yeast_percent)
    water, salt, yeast = (flour_grams * p / 100 for p in (hydration_percent, salt_percent, yeast_percent))
    return {
        "water_grams": round(water, 1),
        "salt_grams": round(salt, 1),
        "yeast_grams": round(yeast, 1),
        "total_dough_grams": round(flour_grams + water + salt + yeast, 1),
    }


@tool
def ingredient_volume_to_weight(
    ingredient: Literal[
        "all_purpose_flour",
        "bread_flour",
        "granulated_sugar",
        "brown_sugar",
        "powdered_sugar",
        "butter",
        "rolled_oats",
        "white_rice",
        "water",
        "milk",
        "honey",
        "cocoa_powder",
        "table_salt",
    ],
    amount: float,
    unit: Literal["cup", "tablespoon", "teaspoon", "milliliter"] = "cup",
) -> dict:
    """Weight in grams of a volume measure of a common ingredient, from a fixed offline density table.

    Args:
        ingredient: The ingredient.
        amount: How many units.
        unit: Volume measure of the amount.
    """
    positive(amount=amount)
    grams = GRAMS_PER_CUP[ingredient] * amount * _CUPS_PER[unit]
    return {"grams": round(grams, 1), "ounces": round(grams / 28.3495, 2)}


@tool
def roast_cooking_time(
    meat: Literal["beef", "lamb", "pork", "chicken", "turkey"],
    weight_kg: float,
    doneness: Literal["rare", "medium", "well_done"] = "well_done",
) -> dict:
    """Roasting time at 180 °C for a joint of meat by weight and doneness, plus resting time (a fixed offline table).

    Args:
        meat: Kind of meat.
        weight_kg: Weight of the joint in kilograms.
        doneness: How well cooked; poultry is only cooked through.
    """
    positive(weight_kg=weight_kg)
    table = ROAST_MIN_PER_KG[meat]
    if doneness not in table:
        raise ValueError(f"{meat} is roasted {' or '.join(table)}, not {doneness}")
    minutes = round(table[doneness] * weight_kg + 20)
    return {"oven_celsius": 180, "roast_minutes": minutes, "rest_minutes": 15 if weight_kg < 3 else 30}


@tool
def egg_boiling_time(
    doneness: Literal["soft", "medium", "hard"],
    size: Literal["medium", "large", "extra_large"] = "large",
    from_fridge: bool = True,
) -> dict:
    """Minutes to boil an egg in already boiling water for the wanted yolk (a fixed offline table).

    Args:
        doneness: How set the yolk should be.
        size: Egg size.
        from_fridge: The egg goes in straight from the refrigerator.
    """
    minutes = (
        EGG_MINUTES[doneness]
        + {"medium": -0.5, "large": 0, "extra_large": 1}[size]
        + (0.5 if from_fridge else 0)
    )
    return {"minutes": minutes, "then": "cool in ice water for 2 minutes"}


@tool
def ingredient_substitutes(
    ingredient: Literal[
        "buttermilk",
        "egg",
        "butter",
        "baking_powder",
        "brown_sugar",
        "sour_cream",
        "cake_flour",
        "heavy_cream",
    ],
) -> dict:
    """Common kitchen substitutes for an ingredient you do not have (a fixed offline table).

    Args:
        ingredient: The missing ingredient.
    """
    return {"ingredient": ingredient, "substitutes": SUBSTITUTES[ingredient]}


TOOLS = [
    scale_recipe,
    convert_oven_temperature,
    bakers_percentages,
    dough_from_hydration,
    ingredient_volume_to_weight,
    roast_cooking_time,
    egg_boiling_time,
    ingredient_substitutes,
]

SPECS = [
    function_spec(
        "search_recipe_collection",
        "Recipes from a recipe collection that match a query, a diet and a time limit.",
        {
            "query": string("Dish, ingredient or cuisine to look for."),
            "diet": string(
                "Dietary restriction the recipes must meet.",
                enum=["any", "vegetarian", "vegan", "gluten_free", "dairy_free", "low_carb"],
                default="any",
            ),
            "max_total_minutes": number("Longest preparation plus cooking time.", integer=True),
            "exclude_ingredients": array("Ingredients the recipes must not contain.", {"type": "string"}),
        },
        ["query"],
    ),
    function_spec(
        "lookup_nutrition_facts",
        "Calories, macronutrients and key vitamins of a food portion.",
        {
            "food": string("The food, as plainly named as possible."),
            "grams": number("Portion weight in grams.", default=100),
            "preparation": string(
                "How the food is prepared.",
                enum=["raw", "boiled", "fried", "baked", "grilled"],
                default="raw",
            ),
        },
        ["food"],
    ),
]
