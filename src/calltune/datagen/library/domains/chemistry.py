"""Chemistry: molar masses and composition from formulas, moles, dilution, molarity, ideal gases and pH.

Formulas are parsed by molmass, whose element table (standard atomic weights) is a fixed offline table.
"""

from __future__ import annotations

import math
from typing import Literal

from molmass import ELEMENTS, Formula, FormulaError

from ....tools import tool
from ._checks import positive
from ._spec import array, function_spec, string

DOMAIN = "chemistry"

GAS_CONSTANT = 8.314462618  # J/(mol·K) = kPa·L/(mol·K)


def _formula(formula: str) -> Formula:
    try:
        f = Formula(formula.strip())
        f.mass  # noqa: B018 - parsing is lazy: touch the mass to validate
        return f
    except FormulaError as e:
        raise ValueError(f"{formula!r} is not a chemical formula: {str(e).splitlines()[0]}") from e


@tool
def molar_mass_of_formula(formula: str) -> dict:
    """Molar mass in grams per mole of a chemical formula, parentheses and hydrates included.

    Args:
        formula: The chemical formula, with element symbols in their usual capitalisation.
    """
    f = _formula(formula)
    return {"formula": f.formula, "molar_mass_g_per_mol": round(f.mass, 4)}


@tool
def elemental_composition(formula: str) -> dict:
    """Each element's atom count and share of the mass in a chemical formula.

    Args:
        formula: The chemical formula.
    """
    f = _formula(formula)
    items = f.composition().values()
    return {
        "elements": [
            {"symbol": i.symbol, "atoms": i.count, "mass_percent": round(i.fraction * 100, 3)} for i in items
        ],
        "empirical_formula": f.empirical,
    }


@tool
def grams_to_moles(formula: str, grams: float) -> dict:
    """Amount of substance in moles for a mass of a compound, and the number of molecules.

    Args:
        formula: The compound's chemical formula.
        grams: Mass of the sample in grams.
    """
    positive(grams=grams)
    moles = grams / _formula(formula).mass
    return {"moles": round(moles, 6), "molecules": f"{moles * 6.02214076e23:.4e}"}


@tool
def moles_to_grams(formula: str, moles: float) -> dict:
    """Mass in grams of an amount of a compound given in moles.

    Args:
        formula: The compound's chemical formula.
        moles: Amount of substance in moles.
    """
    positive(moles=moles)
    return {"grams": round(moles * _formula(formula).mass, 4)}


@tool
def solution_dilution(
    initial_concentration: float | None = None,
    initial_volume: float | None = None,
    final_concentration: float | None = None,
    final_volume: float | None = None,
) -> dict:
    """Solve the dilution equation C1·V1 = C2·V2 for whichever of the four values is left out.

    Args:
        initial_concentration: Concentration of the stock solution.
        initial_volume: Volume of stock solution used.
        final_concentration: Concentration after dilution, in the stock's unit.
        final_volume: Volume after dilution, in the same unit as the initial volume.
    """
    values = {
        "initial_concentration": initial_concentration,
        "initial_volume": initial_volume,
        "final_concentration": final_concentration,
        "final_volume": final_volume,
    }
    missing = [k for k, v in values.items() if v is None]
    if len(missing) != 1:
        raise ValueError("leave out exactly one of the four values: the one to solve for")
    positive(**{k: v for k, v in values.items() if v is not None})
    c1, v1, c2, v2 = values.values()
    solved = {
        "initial_concentration": lambda: c2 * v2 / v1,
        "initial_volume": lambda: c2 * v2 / c1,
        "final_concentration": lambda: c1 * v1 / v2,
        "final_volume": lambda: c1 * v1 / c2,
    }[missing[0]]()
    return {"solved_for": missing[0], "value": round(solved, 6)}


@tool
def solution_molarity(formula: str, solute_grams: float, volume_liters: float) -> dict:
    """Molar concentration of a solution made by dissolving a mass of a compound to a final volume.

    Args:
        formula: The solute's chemical formula.
        solute_grams: Mass of solute in grams.
        volume_liters: Final volume of the solution in liters.
    """
    positive(solute_grams=solute_grams, volume_liters=volume_liters)
    moles = solute_grams / _formula(formula).mass
    return {"molarity_mol_per_l": round(moles / volume_liters, 6), "moles": round(moles, 6)}


@tool
def ideal_gas_law(
    solve_for: Literal["pressure", "volume", "temperature", "moles"],
    pressure_kpa: float | None = None,
    volume_liters: float | None = None,
    temperature_k: float | None = None,
    moles: float | None = None,
) -> dict:
    """Solve PV = nRT for pressure, volume, temperature or amount of gas, given the other three.

    Args:
        solve_for: The quantity to compute.
        pressure_kpa: Pressure in kilopascals.
        volume_liters: Volume in liters.
        temperature_k: Temperature in kelvin.
        moles: Amount of gas in moles.
    """
    given = {"pressure": pressure_kpa, "volume": volume_liters, "temperature": temperature_k, "moles": moles}
    others = {k: v for k, v in given.items() if k != solve_for}
    lacking = [k for k, v in others.items() if v is None]
    if lacking:
        raise ValueError(f"solving for {solve_for} needs {', '.join(lacking)}")
    positive(**others)  # type: ignore[arg-type]
    p, v, t, n = (given[k] or 0.0 for k in ("pressure", "volume", "temperature", "moles"))
    r = GAS_CONSTANT
    value = {
        "pressure": lambda: n * r * t / v,
        "volume": lambda: n * r * t / p,
        "temperature": lambda: p * v / (n * r),
        "moles": lambda: p * v / (r * t),
    }[solve_for]()
    unit = {"pressure": "kPa", "volume": "L", "temperature": "K", "moles": "mol"}[solve_for]
    return {"solved_for": solve_for, "value": round(value, 4), "unit": unit}


@tool
def ph_from_concentration(
    concentration_mol_per_l: float, ion: Literal["hydrogen", "hydroxide"] = "hydrogen"
) -> dict:
    """pH and pOH of an aqueous solution at 25 °C from its hydrogen or hydroxide ion concentration.

    Args:
        concentration_mol_per_l: Ion concentration in moles per liter.
        ion: Which ion the concentration is of.
    """
    positive(concentration_mol_per_l=concentration_mol_per_l)
    p = -math.log10(concentration_mol_per_l)
    ph = p if ion == "hydrogen" else 14 - p
    nature = "acidic" if ph < 7 else "basic" if ph > 7 else "neutral"
    return {"ph": round(ph, 3), "poh": round(14 - ph, 3), "nature": nature}


@tool
def element_properties(symbol: str) -> dict:
    """Name, atomic number, standard atomic weight and group of a chemical element, from its symbol.

    Args:
        symbol: The element's symbol.
    """
    try:
        e = ELEMENTS[symbol.strip()]
    except KeyError as err:
        raise ValueError(f"{symbol!r} is not an element symbol") from err
    return {
        "symbol": e.symbol,
        "name": e.name,
        "atomic_number": e.number,
        "atomic_mass": round(e.mass, 4),
        "group": e.group,
        "period": e.period,
    }


TOOLS = [
    molar_mass_of_formula,
    elemental_composition,
    grams_to_moles,
    moles_to_grams,
    solution_dilution,
    solution_molarity,
    ideal_gas_law,
    ph_from_concentration,
    element_properties,
]

SPECS = [
    function_spec(
        "fetch_safety_data_sheet",
        "Hazard statements, handling precautions and first-aid measures from a chemical's safety data sheet.",
        {
            "chemical": string("Common name or CAS number of the chemical."),
            "sections": array(
                "Which sections to return; all when left out.",
                {"type": "string", "enum": ["hazards", "handling", "first_aid", "storage", "disposal"]},
            ),
            "language": string("Language of the sheet.", default="en"),
        },
        ["chemical"],
    ),
]
