"""Energy: electricity costs (flat and tiered), solar output and payback, carbon footprints, energy units."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import non_negative, not_empty, percent, positive

DOMAIN = "energy"

TravelMode = Literal[
    "car_petrol", "car_diesel", "car_electric", "bus", "rail", "flight_short_haul", "flight_long_haul"
]
# kg CO2e per passenger-km (car: per vehicle-km), rounded from the UK government conversion factors (fixed table)
_TRIP_FACTORS = {
    "car_petrol": 0.164, "car_diesel": 0.168, "car_electric": 0.047, "bus": 0.097, "rail": 0.035,
    "flight_short_haul": 0.151, "flight_long_haul": 0.148,
}  # fmt: skip
# kg CO2 per litre burnt (fixed table)
_FUEL_FACTORS = {"petrol": 2.31, "diesel": 2.68, "lpg": 1.51}
# megajoules per unit (fixed table of definitions)
_MJ = {"kwh": 3.6, "mj": 1.0, "btu": 0.001055056, "therm": 105.505585, "kcal": 0.0041868, "toe": 41868.0}


class PriceTier(BaseModel):
    """One block of a tiered electricity tariff."""

    up_to_kwh: float | None = Field(
        None, description="Upper end of the block in kWh per period; empty for the last block."
    )
    price_per_kwh: float = Field(description="Price of each kWh in this block.")


@tool
def appliance_energy_cost(watts: float, hours_per_day: float, price_per_kwh: float, days: int = 30) -> dict:
    """Energy use and running cost of an appliance from its power draw and daily use.

    Args:
        watts: Power draw while running, in watts.
        hours_per_day: Hours per day it runs.
        price_per_kwh: Electricity price per kWh.
        days: Number of days counted.
    """
    positive(watts=watts, days=days)
    non_negative(price_per_kwh=price_per_kwh)
    if not 0 <= hours_per_day <= 24:
        raise ValueError(f"hours_per_day must be between 0 and 24, got {hours_per_day}")
    kwh = watts * hours_per_day * days / 1000
    return {"kwh": round(kwh, 2), "cost": round(kwh * price_per_kwh, 2)}


@tool
def tiered_electricity_bill(kwh_used: float, tiers: list[PriceTier], fixed_charge: float = 0) -> dict:
    """Electricity bill under a tiered (block) tariff: each block of consumption has its own price.

    Args:
        kwh_used: Consumption in the billing period, in kWh.
        tiers: The tariff's blocks in increasing order; the last one has no upper end.
        fixed_charge: Standing charge for the period.
    """
    non_negative(kwh_used=kwh_used, fixed_charge=fixed_charge)
    not_empty(tiers=tiers)
    if tiers[-1].up_to_kwh is not None:
        raise ValueError("the last tier must have no upper end")
    lower, left, lines = 0.0, kwh_used, []
    for t in tiers:
        top = float("inf") if t.up_to_kwh is None else t.up_to_kwh
        if top <= lower:
            raise ValueError("tier upper ends must increase")
        used = min(left, top - lower)
        if used > 0:
            lines.append(
                {
                    "kwh": round(used, 3),
                    "price_per_kwh": t.price_per_kwh,
                    "cost": round(used * t.price_per_kwh, 2),
                }
            )
        left, lower = left - used, top
    energy = sum(line["cost"] for line in lines)
    return {"energy_cost": round(energy, 2), "total": round(energy + fixed_charge, 2), "blocks": lines}


@tool
def solar_output_estimate(
    system_kw: float, peak_sun_hours: float, days: int = 30, system_losses_percent: float = 14
) -> dict:
    """Expected energy from a solar PV system over a period, from its size, the site's peak sun hours and losses.

    Args:
        system_kw: Rated (peak) power of the panels in kW.
        peak_sun_hours: Average daily peak sun hours at the site.
        days: Number of days.
        system_losses_percent: Inverter, wiring, soiling and temperature losses, in percent.
    """
    positive(system_kw=system_kw, days=days)
    non_negative(peak_sun_hours=peak_sun_hours)
    percent(system_losses_percent=system_losses_percent)
    kwh = system_kw * peak_sun_hours * days * (1 - system_losses_percent / 100)
    return {"kwh": round(kwh, 1), "per_day_kwh": round(kwh / days, 2)}


@tool
def solar_payback_years(
    system_cost: float,
    yearly_kwh: float,
    price_per_kwh: float,
    incentive: float = 0,
    yearly_price_rise_percent: float = 0,
) -> dict:
    """Years until a solar system's savings repay its cost (net of incentives).

    Args:
        system_cost: Installed cost of the system.
        yearly_kwh: Energy it produces per year, in kWh.
        price_per_kwh: Electricity price per kWh now.
        incentive: Grants or tax credits that reduce the cost.
        yearly_price_rise_percent: Yearly rise of the electricity price, in percent.
    """
    positive(system_cost=system_cost, yearly_kwh=yearly_kwh, price_per_kwh=price_per_kwh)
    non_negative(incentive=incentive, yearly_price_rise_percent=yearly_price_rise_percent)
    net, saved, year = max(0.0, system_cost - incentive), 0.0, 0
    while saved < net and year < 100:
        saving = yearly_kwh * price_per_kwh * (1 + yearly_price_rise_percent / 100) ** year
        year += 1
        if saved + saving >= net:
            return {"payback_years": round(year - 1 + (net - saved) / saving, 1), "net_cost": round(net, 2)}
        saved += saving
    return {"payback_years": 0.0 if net == 0 else None, "net_cost": round(net, 2)}


@tool
def trip_carbon_footprint(
    distance_km: float, mode: TravelMode, passengers: int = 1, round_trip: bool = False
) -> dict:
    """CO2-equivalent emissions of a trip by a mode of transport (fixed table of emission factors).

    Cars are counted per vehicle and shared between the passengers; other modes per passenger.

    Args:
        distance_km: One-way distance in kilometres.
        mode: Mode of transport.
        passengers: Number of people travelling together.
        round_trip: Count the way back too.
    """
    positive(distance_km=distance_km, passengers=passengers)
    km = distance_km * (2 if round_trip else 1)
    factor = _TRIP_FACTORS[mode]
    total = km * factor * (1 if mode.startswith("car") else passengers)
    return {"kg_co2e_total": round(total, 2), "kg_co2e_per_person": round(total / passengers, 2)}


@tool
def fuel_combustion_co2(litres: float, fuel: Literal["petrol", "diesel", "lpg"] = "petrol") -> dict:
    """CO2 released by burning an amount of fuel (fixed table of factors).

    Args:
        litres: Fuel burnt, in litres.
        fuel: Kind of fuel.
    """
    positive(litres=litres)
    return {"kg_co2": round(litres * _FUEL_FACTORS[fuel], 2)}


@tool
def convert_energy_units(
    value: float,
    from_unit: Literal["kwh", "mj", "btu", "therm", "kcal", "toe"],
    to_unit: Literal["kwh", "mj", "btu", "therm", "kcal", "toe"],
) -> dict:
    """Convert an amount of energy between kWh, megajoules, BTU, therms, kilocalories and tonnes of oil equivalent.

    Args:
        value: The amount to convert.
        from_unit: Unit of the amount.
        to_unit: Unit wanted.
    """
    return {"value": float(f"{value * _MJ[from_unit] / _MJ[to_unit]:.6g}"), "unit": to_unit}


@tool
def led_upgrade_savings(
    old_watts: float,
    new_watts: float,
    bulbs: int,
    hours_per_day: float,
    price_per_kwh: float,
    cost_per_new_bulb: float = 0,
) -> dict:
    """Yearly energy and money saved by swapping bulbs for more efficient ones, and the payback time.

    Args:
        old_watts: Power of each old bulb in watts.
        new_watts: Power of each new bulb in watts.
        bulbs: Number of bulbs replaced.
        hours_per_day: Hours per day the lights are on.
        price_per_kwh: Electricity price per kWh.
        cost_per_new_bulb: Price of one new bulb.
    """
    positive(old_watts=old_watts, new_watts=new_watts, bulbs=bulbs)
    non_negative(
        hours_per_day=hours_per_day, price_per_kwh=price_per_kwh, cost_per_new_bulb=cost_per_new_bulb
    )
    if new_watts >= old_watts:
        raise ValueError("new_watts must be lower than old_watts")
    kwh = (old_watts - new_watts) * bulbs * hours_per_day * 365 / 1000
    money = kwh * price_per_kwh
    months = round(12 * cost_per_new_bulb * bulbs / money, 1) if money else None
    return {"kwh_per_year": round(kwh, 1), "money_per_year": round(money, 2), "payback_months": months}


def _charge_kwh(
    battery_kwh: float, from_percent: float, to_percent: float, charger_efficiency: float
) -> float:
    positive(battery_kwh=battery_kwh)
    percent(from_percent=from_percent, to_percent=to_percent)
    if to_percent <= from_percent:
        raise ValueError("to_percent must be above from_percent")
    if not 0 < charger_efficiency <= 1:
        raise ValueError(f"charger_efficiency must be in (0, 1], got {charger_efficiency}")
    return battery_kwh * (to_percent - from_percent) / 100 / charger_efficiency


@tool
def ev_charging_cost(
    battery_kwh: float,
    price_per_kwh: float,
    from_percent: float = 20,
    to_percent: float = 80,
    charger_efficiency: float = 0.9,
) -> dict:
    """Energy drawn from the grid and money paid to charge an electric car between two battery levels.

    Args:
        battery_kwh: Usable battery capacity in kWh.
        price_per_kwh: Electricity price per kWh.
        from_percent: Battery level before charging, in percent.
        to_percent: Battery level wanted, in percent.
        charger_efficiency: Share of the drawn energy that reaches the battery, between 0 and 1.
    """
    non_negative(price_per_kwh=price_per_kwh)
    kwh = _charge_kwh(battery_kwh, from_percent, to_percent, charger_efficiency)
    return {"grid_kwh": round(kwh, 2), "cost": round(kwh * price_per_kwh, 2)}


@tool
def ev_charging_time(
    battery_kwh: float,
    charger_kw: float,
    from_percent: float = 20,
    to_percent: float = 80,
    charger_efficiency: float = 0.9,
) -> dict:
    """Time to charge an electric car between two battery levels on a charger of a given power (constant power assumed).

    Args:
        battery_kwh: Usable battery capacity in kWh.
        charger_kw: Charger power in kW.
        from_percent: Battery level before charging, in percent.
        to_percent: Battery level wanted, in percent.
        charger_efficiency: Share of the drawn energy that reaches the battery, between 0 and 1.
    """
    positive(charger_kw=charger_kw)
    minutes = round(_charge_kwh(battery_kwh, from_percent, to_percent, charger_efficiency) / charger_kw * 60)
    return {"minutes": minutes, "hours": minutes // 60, "remaining_minutes": minutes % 60}


TOOLS = [
    appliance_energy_cost,
    tiered_electricity_bill,
    solar_output_estimate,
    solar_payback_years,
    trip_carbon_footprint,
    fuel_combustion_co2,
    convert_energy_units,
    led_upgrade_savings,
    ev_charging_cost,
    ev_charging_time,
]
