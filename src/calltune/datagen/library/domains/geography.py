"""Geography: a small fixed offline table of countries and cities (capitals, populations, currencies).

Populations are rounded mid-2020s estimates; areas in km²; coordinates in decimal degrees.
"""

from __future__ import annotations

from typing import Literal

from ....tools import tool
from ._checks import not_empty
from ._earth import great_circle_km, in_unit

DOMAIN = "geography"

Continent = Literal["Africa", "Asia", "Europe", "North America", "South America", "Oceania"]

# name: (ISO code, capital, population, area km², currency code, currency name, continent)
_COUNTRIES: dict[str, tuple[str, str, int, int, str, str, str]] = {
    "Argentina": ("AR", "Buenos Aires", 46_000_000, 2_780_400, "ARS", "Argentine peso", "South America"),
    "Australia": ("AU", "Canberra", 26_600_000, 7_692_024, "AUD", "Australian dollar", "Oceania"),
    "Brazil": ("BR", "Brasília", 203_000_000, 8_515_767, "BRL", "Brazilian real", "South America"),
    "Canada": ("CA", "Ottawa", 40_100_000, 9_984_670, "CAD", "Canadian dollar", "North America"),
    "Chile": ("CL", "Santiago", 19_600_000, 756_102, "CLP", "Chilean peso", "South America"),
    "China": ("CN", "Beijing", 1_410_000_000, 9_596_961, "CNY", "Renminbi", "Asia"),
    "Egypt": ("EG", "Cairo", 105_000_000, 1_002_450, "EGP", "Egyptian pound", "Africa"),
    "France": ("FR", "Paris", 68_200_000, 551_695, "EUR", "Euro", "Europe"),
    "Germany": ("DE", "Berlin", 84_400_000, 357_588, "EUR", "Euro", "Europe"),
    "India": ("IN", "New Delhi", 1_430_000_000, 3_287_263, "INR", "Indian rupee", "Asia"),
    "Indonesia": ("ID", "Jakarta", 278_000_000, 1_904_569, "IDR", "Indonesian rupiah", "Asia"),
    "Italy": ("IT", "Rome", 59_000_000, 301_340, "EUR", "Euro", "Europe"),
    "Japan": ("JP", "Tokyo", 124_500_000, 377_975, "JPY", "Japanese yen", "Asia"),
    "Kenya": ("KE", "Nairobi", 55_100_000, 580_367, "KES", "Kenyan shilling", "Africa"),
    "Mexico": ("MX", "Mexico City", 129_000_000, 1_964_375, "MXN", "Mexican peso", "North America"),
    "Morocco": ("MA", "Rabat", 37_000_000, 446_550, "MAD", "Moroccan dirham", "Africa"),
    "New Zealand": ("NZ", "Wellington", 5_200_000, 268_021, "NZD", "New Zealand dollar", "Oceania"),
    "Nigeria": ("NG", "Abuja", 224_000_000, 923_768, "NGN", "Nigerian naira", "Africa"),
    "Norway": ("NO", "Oslo", 5_500_000, 385_207, "NOK", "Norwegian krone", "Europe"),
    "Peru": ("PE", "Lima", 34_000_000, 1_285_216, "PEN", "Peruvian sol", "South America"),
    "Poland": ("PL", "Warsaw", 36_700_000, 312_696, "PLN", "Polish złoty", "Europe"),
    "South Africa": ("ZA", "Pretoria", 62_000_000, 1_221_037, "ZAR", "South African rand", "Africa"),
    "South Korea": ("KR", "Seoul", 51_700_000, 100_363, "KRW", "South Korean won", "Asia"),
    "Spain": ("ES", "Madrid", 48_300_000, 505_990, "EUR", "Euro", "Europe"),
    "Sweden": ("SE", "Stockholm", 10_500_000, 450_295, "SEK", "Swedish krona", "Europe"),
    "Thailand": ("TH", "Bangkok", 71_700_000, 513_120, "THB", "Thai baht", "Asia"),
    "Turkey": ("TR", "Ankara", 85_300_000, 783_562, "TRY", "Turkish lira", "Asia"),
    "United Kingdom": ("GB", "London", 68_300_000, 242_495, "GBP", "Pound sterling", "Europe"),
    "United States": ("US", "Washington, D.C.", 335_000_000, 9_833_520, "USD", "US dollar", "North America"),
    "Vietnam": ("VN", "Hanoi", 100_300_000, 331_212, "VND", "Vietnamese đồng", "Asia"),
}

# city: (country, latitude, longitude)
_CITIES: dict[str, tuple[str, float, float]] = {
    "Buenos Aires": ("Argentina", -34.6037, -58.3816), "Canberra": ("Australia", -35.2809, 149.13),
    "Sydney": ("Australia", -33.8688, 151.2093), "Brasília": ("Brazil", -15.7939, -47.8828),
    "São Paulo": ("Brazil", -23.5505, -46.6333), "Ottawa": ("Canada", 45.4215, -75.6972),
    "Toronto": ("Canada", 43.6532, -79.3832), "Santiago": ("Chile", -33.4489, -70.6693),
    "Beijing": ("China", 39.9042, 116.4074), "Shanghai": ("China", 31.2304, 121.4737),
    "Cairo": ("Egypt", 30.0444, 31.2357), "Paris": ("France", 48.8566, 2.3522),
    "Berlin": ("Germany", 52.52, 13.405), "Munich": ("Germany", 48.1351, 11.582),
    "New Delhi": ("India", 28.6139, 77.209), "Mumbai": ("India", 19.076, 72.8777),
    "Jakarta": ("Indonesia", -6.2088, 106.8456), "Rome": ("Italy", 41.9028, 12.4964),
    "Tokyo": ("Japan", 35.6762, 139.6503), "Osaka": ("Japan", 34.6937, 135.5023),
    "Nairobi": ("Kenya", -1.2921, 36.8219), "Mexico City": ("Mexico", 19.4326, -99.1332),
    "Rabat": ("Morocco", 34.0209, -6.8416), "Wellington": ("New Zealand", -41.2865, 174.7762),
    "Abuja": ("Nigeria", 9.0765, 7.3986), "Lagos": ("Nigeria", 6.5244, 3.3792),
    "Oslo": ("Norway", 59.9139, 10.7522), "Lima": ("Peru", -12.0464, -77.0428),
    "Warsaw": ("Poland", 52.2297, 21.0122), "Pretoria": ("South Africa", -25.7479, 28.2293),
    "Cape Town": ("South Africa", -33.9249, 18.4241), "Seoul": ("South Korea", 37.5665, 126.978),
    "Madrid": ("Spain", 40.4168, -3.7038), "Barcelona": ("Spain", 41.3874, 2.1686),
    "Stockholm": ("Sweden", 59.3293, 18.0686), "Bangkok": ("Thailand", 13.7563, 100.5018),
    "Ankara": ("Turkey", 39.9334, 32.8597), "Istanbul": ("Turkey", 41.0082, 28.9784),
    "London": ("United Kingdom", 51.5072, -0.1276), "Washington, D.C.": ("United States", 38.9072, -77.0369),
    "New York": ("United States", 40.7128, -74.006), "Los Angeles": ("United States", 34.0522, -118.2437),
    "Hanoi": ("Vietnam", 21.0278, 105.8342),
}  # fmt: skip


def _country(name: str) -> tuple[str, tuple[str, str, int, int, str, str, str]]:
    key = name.strip().lower()
    for country, row in _COUNTRIES.items():
        if key in (country.lower(), row[0].lower()):
            return country, row
    raise ValueError(f"{name!r} is not in the country table; known: {', '.join(_COUNTRIES)}")


def _city(name: str) -> tuple[str, tuple[str, float, float]]:
    key = name.strip().lower()
    for city, row in _CITIES.items():
        if city.lower() == key:
            return city, row
    raise ValueError(f"{name!r} is not in the city table; known: {', '.join(_CITIES)}")


@tool
def country_capital_city(country: str) -> dict:
    """The capital city of a country (fixed offline table).

    Args:
        country: Country name in English or its two-letter ISO code.
    """
    name, row = _country(country)
    return {"country": name, "capital": row[1]}


@tool
def country_population(country: str) -> dict:
    """The population of a country, a rounded recent estimate (fixed offline table).

    Args:
        country: Country name in English or its two-letter ISO code.
    """
    name, row = _country(country)
    return {"country": name, "population": row[2]}


@tool
def country_currency(country: str) -> dict:
    """The currency a country uses: ISO code and name (fixed offline table).

    Args:
        country: Country name in English or its two-letter ISO code.
    """
    name, row = _country(country)
    return {"country": name, "currency_code": row[4], "currency_name": row[5]}


@tool
def country_profile(country: str) -> dict:
    """Everything the offline country table holds about a country.

    Args:
        country: Country name in English or its two-letter ISO code.
    """
    name, (iso, capital, pop, area, code, cur, cont) = _country(country)
    return {
        "country": name,
        "iso_code": iso,
        "capital": capital,
        "population": pop,
        "area_km2": area,
        "currency_code": code,
        "currency_name": cur,
        "continent": cont,
    }


@tool
def countries_on_continent(
    continent: Continent, sort_by: Literal["name", "population", "area"] = "name"
) -> dict:
    """The countries of the offline table on one continent, sorted by name, population or area.

    Args:
        continent: The continent.
        sort_by: Sort key; population and area sort largest first.
    """
    rows = [(n, r) for n, r in _COUNTRIES.items() if r[6] == continent]
    key = {"name": lambda x: x[0], "population": lambda x: -x[1][2], "area": lambda x: -x[1][3]}[sort_by]
    return {"continent": continent, "countries": [n for n, _ in sorted(rows, key=key)]}


@tool
def countries_using_currency(currency_code: str) -> dict:
    """The countries of the offline table that use a currency.

    Args:
        currency_code: Three-letter ISO currency code.
    """
    code = currency_code.strip().upper()
    hits = [n for n, r in _COUNTRIES.items() if r[4] == code]
    if not hits:
        raise ValueError(f"no country in the table uses {currency_code!r}")
    return {"currency_code": code, "countries": hits}


@tool
def population_density(country: str) -> dict:
    """People per square kilometre of a country (offline table's population and area).

    Args:
        country: Country name in English or its two-letter ISO code.
    """
    name, row = _country(country)
    return {"country": name, "people_per_km2": round(row[2] / row[3], 1)}


@tool
def rank_countries_by_population(countries: list[str], descending: bool = True) -> dict:
    """Order several countries by population (offline table).

    Args:
        countries: Country names or ISO codes.
        descending: Largest first; smallest first when false.
    """
    not_empty(countries=countries)
    rows = [(n, r[2]) for n, r in (_country(c) for c in countries)]
    rows.sort(key=lambda x: x[1], reverse=descending)
    return {"ranking": [{"country": n, "population": p} for n, p in rows]}


@tool
def country_for_capital(capital: str) -> dict:
    """Which country has the given city as its capital (offline table).

    Args:
        capital: Name of the capital city.
    """
    key = capital.strip().lower()
    for name, row in _COUNTRIES.items():
        if row[1].lower() == key:
            return {"capital": row[1], "country": name}
    raise ValueError(f"{capital!r} is not a capital in the table")


@tool
def distance_between_cities(city_a: str, city_b: str, unit: Literal["km", "mi"] = "km") -> dict:
    """Great-circle distance between two cities of the offline city table.

    Args:
        city_a: Name of the first city.
        city_b: Name of the second city.
        unit: Kilometres or miles.
    """
    (a, (_, lat1, lon1)), (b, (_, lat2, lon2)) = _city(city_a), _city(city_b)
    return {
        "from": a,
        "to": b,
        "distance": in_unit(great_circle_km(lat1, lon1, lat2, lon2), unit),
        "unit": unit,
    }


@tool
def city_coordinates(city: str) -> dict:
    """Latitude, longitude and country of a city in the offline city table.

    Args:
        city: Name of the city.
    """
    name, (country, lat, lon) = _city(city)
    return {"city": name, "country": country, "latitude": lat, "longitude": lon}


TOOLS = [
    country_capital_city,
    country_population,
    country_currency,
    countries_using_currency,
    country_profile,
    countries_on_continent,
    population_density,
    rank_countries_by_population,
    country_for_capital,
    distance_between_cities,
    city_coordinates,
]
