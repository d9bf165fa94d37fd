"""The library's domains of part A: every tool runs, gives the right values, and rejects bad input clearly."""

from __future__ import annotations

import json

import pytest

from calltune.datagen.library import load_library
from calltune.tools import Toolbox, normalize_spec

DOMAINS = [
    "finance",
    "units",
    "dates_calendars",
    "text",
    "geometry",
    "statistics",
    "health",
    "math",
    "number_formats",
    "encoding",
    "colors",
    "physics",
    "chemistry",
    "cooking",
    "sports",
    "time_zones",
]
LIBRARY = load_library(DOMAINS)
EXECUTABLE = [t for t in LIBRARY if not t.simulated]
BOX = Toolbox([t.tool for t in EXECUTABLE])

P = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 3}, {"x": 0, "y": 3}]
SERVE = ["player1"] * 4

# (tool, arguments, expected: a dict whose items must all be in the result, or a key it must have)
VALID = [
    # finance
    (
        "compound_interest_balance",
        {"principal": 1000, "annual_rate_percent": 5, "years": 10, "compounds_per_year": 1},
        {"final_balance": 1628.89, "interest_earned": 628.89},
    ),
    (
        "simple_interest_on_principal",
        {"principal": 1000, "annual_rate_percent": 5, "years": 2},
        {"interest": 100.0, "total": 1100.0},
    ),
    (
        "loan_monthly_payment",
        {"principal": 200000, "annual_rate_percent": 6, "term_months": 360},
        {"monthly_payment": 1199.1},
    ),
    (
        "loan_total_interest",
        {"principal": 1200, "annual_rate_percent": 0, "term_months": 12},
        {"total_paid": 1200.0, "total_interest": 0.0},
    ),
    (
        "loan_amortization_schedule",
        {"principal": 1000, "annual_rate_percent": 12, "term_months": 3},
        {"monthly_payment": 340.02},
    ),
    ("net_present_value", {"discount_rate_percent": 10, "cash_flows": [-100, 60, 60]}, {"npv": 4.13}),
    ("internal_rate_of_return", {"cash_flows": [-100, 110]}, {"irr_percent": 10.0}),
    (
        "exchange_currency_amount",
        {"amount": 100, "from_currency": "USD", "to_currency": "EUR"},
        {"converted_amount": 92.0},
    ),
    ("list_exchange_rates", {"base_currency": "EUR"}, "rates"),
    (
        "savings_goal_monthly_deposit",
        {"target_amount": 12000, "annual_rate_percent": 0, "years": 1},
        {"monthly_deposit": 1000.0, "months": 12},
    ),
    (
        "inflation_adjusted_value",
        {"amount": 100, "annual_inflation_percent": 10, "years": 2, "direction": "present_value"},
        {"adjusted_amount": 82.64},
    ),
    # units
    ("convert_length", {"value": 5, "from_unit": "mile", "to_unit": "kilometer"}, {"value": 8.04672}),
    ("convert_mass", {"value": 1, "from_unit": "kilogram", "to_unit": "gram"}, {"value": 1000.0}),
    (
        "convert_temperature_scale",
        {"value": 100, "from_unit": "celsius", "to_unit": "fahrenheit"},
        {"value": 212.0},
    ),
    ("convert_volume", {"value": 1, "from_unit": "us_gallon", "to_unit": "liter"}, {"value": 3.78541}),
    ("convert_speed", {"value": 10, "from_unit": "knot", "to_unit": "kilometer_per_hour"}, {"value": 18.52}),
    ("convert_area", {"value": 1, "from_unit": "square_kilometer", "to_unit": "hectare"}, {"value": 100.0}),
    ("convert_duration", {"value": 2, "from_unit": "hour", "to_unit": "minute"}, {"value": 120.0}),
    ("convert_data_size", {"value": 1, "from_unit": "kibibyte", "to_unit": "byte"}, {"value": 1024.0}),
    ("convert_cooking_measure", {"value": 1, "from_unit": "cup", "to_unit": "tablespoon"}, {"value": 16.0}),
    (
        "convert_fuel_economy",
        {"value": 5, "from_unit": "liters_per_100km", "to_unit": "km_per_liter"},
        {"value": 20.0},
    ),
    (
        "list_supported_units",
        {"quantity": "temperature"},
        {"units": ["celsius", "fahrenheit", "kelvin", "rankine"]},
    ),
    # dates_calendars
    ("days_between_dates", {"start_date": "2024-01-01", "end_date": "2024-03-01"}, {"days": 60, "weeks": 8}),
    ("weekday_of_date", {"day": "2024-07-04"}, {"weekday": "thursday", "is_weekend": False}),
    ("add_days_to_date", {"start_date": "2024-01-31", "months": 1}, {"date": "2024-02-29"}),
    (
        "add_business_days",
        {"start_date": "2024-05-03", "business_days": 3, "holidays": ["2024-05-06"]},
        {"date": "2024-05-09"},
    ),
    ("count_business_days", {"start_date": "2024-05-01", "end_date": "2024-05-31"}, {"business_days": 23}),
    ("is_leap_year", {"year": 1900}, {"is_leap_year": False, "days_in_year": 365}),
    ("iso_week_of_date", {"day": "2021-01-03"}, {"iso_year": 2020, "iso_week": 53}),
    (
        "age_on_date",
        {"birth_date": "1990-06-15", "on_date": "2024-03-01"},
        {"years": 33, "months": 8, "days": 15},
    ),
    (
        "next_birthday",
        {"birth_date": "1990-06-15", "from_date": "2024-06-01"},
        {"date": "2024-06-15", "days_until": 14, "turning": 34},
    ),
    ("month_calendar", {"year": 2024, "month": 2}, {"days_in_month": 29}),
    (
        "nth_weekday_of_month",
        {"year": 2024, "month": 11, "weekday": "thursday", "occurrence": 4},
        {"date": "2024-11-28"},
    ),
    # text
    (
        "count_words",
        {"text": "Hello world. How are you?\n\nFine!"},
        {"words": 6, "sentences": 3, "paragraphs": 2},
    ),
    ("word_frequencies", {"text": "The cat and the hat", "top_n": 1}, {"top": [{"word": "the", "count": 2}]}),
    ("convert_text_case", {"text": "hello big World", "case": "snake"}, {"result": "hello_big_world"}),
    ("slugify_text", {"text": "Hello, Wörld & Friends!"}, {"slug": "hello-world-friends"}),
    ("is_palindrome", {"text": "A man, a plan, a canal: Panama"}, {"is_palindrome": True}),
    ("are_anagrams", {"first": "Listen", "second": "Silent"}, {"are_anagrams": True}),
    (
        "find_anagrams_in_list",
        {"word": "listen", "candidates": ["enlist", "google", "inlets", "listen"]},
        {"anagrams": ["enlist", "inlets"]},
    ),
    (
        "readability_scores",
        {"text": "The cat sat on the mat. It was a very happy cat."},
        {"words": 12, "sentences": 2},
    ),
    ("reverse_text", {"text": "one two three", "unit": "words"}, {"result": "three two one"}),
    (
        "truncate_text",
        {"text": "The quick brown fox jumps", "max_length": 12},
        {"result": "The quick…", "truncated": True},
    ),
    # geometry
    ("circle_measurements", {"radius": 1}, {"area": 3.141593, "diameter": 2.0}),
    ("rectangle_measurements", {"width": 3, "height": 4}, {"area": 12.0, "diagonal": 5.0}),
    ("triangle_area_from_sides", {"side_a": 3, "side_b": 4, "side_c": 5}, {"area": 6.0, "perimeter": 12.0}),
    ("triangle_angles_from_sides", {"side_a": 3, "side_b": 4, "side_c": 5}, {"angle_c": 90.0}),
    (
        "regular_polygon_properties",
        {"number_of_sides": 6, "side_length": 2},
        {"interior_angle_degrees": 120.0, "area": 10.392305},
    ),
    ("polygon_area_from_vertices", {"vertices": P}, {"area": 12.0, "centroid": {"x": 2.0, "y": 1.5}}),
    (
        "distance_between_points",
        {"point_a": {"x": 0, "y": 0, "z": 0}, "point_b": {"x": 1, "y": 2, "z": 2}},
        {"distance": 3.0},
    ),
    (
        "midpoint_and_slope",
        {"point_a": {"x": 0, "y": 1}, "point_b": {"x": 2, "y": 5}},
        {"slope": 2.0, "y_intercept": 1.0},
    ),
    ("convert_angle", {"value": 90, "from_unit": "degrees", "to_unit": "gradians"}, {"value": 100.0}),
    ("solid_volume_and_surface", {"shape": "cube", "length": 2}, {"volume": 8.0, "surface_area": 24.0}),
    # statistics
    (
        "descriptive_statistics",
        {"values": [2, 4, 4, 4, 5, 5, 7, 9], "sample": False},
        {"mean": 5.0, "median": 4.5, "modes": [4.0], "standard_deviation": 2.0},
    ),
    ("average_of_values", {"values": [1, 2, 4], "kind": "geometric"}, {"mean": 2.0}),
    ("percentile_of_values", {"values": [1, 2, 3, 4, 5], "percentile": 50}, {"value": 3.0}),
    ("percentile_rank_in_sample", {"values": [1, 2, 3, 4], "score": 3}, {"percentile_rank": 62.5}),
    ("z_score", {"value": 130, "mean": 100, "standard_deviation": 15}, {"z_score": 2.0}),
    ("standardize_values", {"values": [1, 2, 3]}, {"z_scores": [-1.0, 0.0, 1.0]}),
    ("normal_distribution_probability", {"x": 0}, {"probability": 0.5}),
    ("pearson_correlation", {"x": [1, 2, 3], "y": [3, 2, 1]}, {"r": -1.0, "strength": "strong"}),
    (
        "fit_regression_line",
        {"x": [1, 2, 3], "y": [2, 4, 6], "predict_at": [10]},
        {"slope": 2.0, "predictions": [{"x": 10.0, "y": 20.0}]},
    ),
    ("moving_average", {"values": [1, 2, 3, 4, 5], "window": 3}, {"averages": [2.0, 3.0, 4.0]}),
    (
        "frequency_table",
        {"items": ["a", "b", "a", "a"]},
        {"rows": [{"item": "a", "count": 3, "percent": 75.0}, {"item": "b", "count": 1, "percent": 25.0}]},
    ),
    # health
    ("body_mass_index", {"weight": 70, "height": 175}, {"bmi": 22.9, "category": "normal"}),
    ("healthy_weight_range", {"height_cm": 200}, {"min_kg": 74.0, "max_kg": 99.6}),
    (
        "basal_metabolic_rate",
        {"weight_kg": 70, "height_cm": 175, "age_years": 30, "sex": "male"},
        {"bmr_kcal_per_day": 1649},
    ),
    (
        "daily_calorie_needs",
        {
            "weight_kg": 70,
            "height_cm": 175,
            "age_years": 30,
            "sex": "male",
            "activity_level": "sedentary",
            "goal": "lose",
        },
        {"maintenance_kcal": 1978, "target_kcal": 1478},
    ),
    ("maximum_heart_rate", {"age_years": 40, "formula": "fox"}, {"max_heart_rate_bpm": 180}),
    (
        "target_heart_rate_zone",
        {"age_years": 40, "resting_heart_rate": 60},
        {"low_bpm": 120, "high_bpm": 162},
    ),
    ("daily_water_intake", {"weight_kg": 60}, {"liters_per_day": 2.1}),
    (
        "dose_by_body_weight",
        {"weight_kg": 20, "dose_mg_per_kg": 15, "doses_per_day": 3, "max_single_dose_mg": 250},
        {"single_dose_mg": 250.0, "daily_dose_mg": 750.0, "capped": True},
    ),
    (
        "body_fat_percentage",
        {"sex": "male", "height_cm": 178, "neck_cm": 38, "waist_cm": 86},
        "body_fat_percent",
    ),
    # math
    ("check_prime_number", {"n": 97}, {"is_prime": True, "previous_prime": 89, "next_prime": 101}),
    ("prime_factorization", {"n": 360}, {"product": "2^3 × 3^2 × 5"}),
    ("primes_in_range", {"start": 10, "end": 30}, {"count": 6, "primes": [11, 13, 17, 19, 23, 29]}),
    ("greatest_common_divisor", {"numbers": [12, 18, 30]}, {"gcd": 6}),
    ("least_common_multiple", {"numbers": [4, 6]}, {"lcm": 12}),
    ("factorial_and_double_factorial", {"n": 6}, {"factorial": "720", "double_factorial": "48"}),
    ("count_combinations", {"n": 5, "k": 2}, {"combinations": "10"}),
    ("count_permutations", {"n": 5, "k": 2}, {"permutations": "20"}),
    (
        "quadratic_equation_roots",
        {"a": 1, "b": 2, "c": 5},
        {"roots": ["-1+2i", "-1-2i"], "root_type": "two complex"},
    ),
    ("matrix_multiply", {"left": [[1, 2], [3, 4]], "right": [[5], [6]]}, {"product": [[17.0], [39.0]]}),
    (
        "matrix_properties",
        {"matrix": [[1, 2], [3, 4]]},
        {"determinant": -2.0, "inverse": [[-2.0, 1.0], [1.5, -0.5]], "rank": 2},
    ),
    ("fibonacci_numbers", {"count": 8}, {"terms": [0, 1, 1, 2, 3, 5, 8, 13]}),
    ("list_divisors", {"n": 28}, {"divisors": [1, 2, 4, 7, 14, 28], "is_perfect": True}),
    # number_formats
    ("integer_to_roman_numeral", {"number": 1994}, {"roman": "MCMXCIV"}),
    ("roman_numeral_to_integer", {"numeral": "mcmxciv"}, {"value": 1994}),
    (
        "convert_number_base",
        {"digits": "ff", "from_base": 16, "to_base": 2},
        {"result": "11111111", "decimal_value": 255},
    ),
    ("number_to_words", {"number": 42}, {"words": "forty-two"}),
    ("ordinal_with_suffix", {"number": 22}, {"ordinal": "22nd"}),
    (
        "format_scientific_notation",
        {"number": 123456, "style": "engineering"},
        {"mantissa": 123.0, "exponent": 3},
    ),
    ("parse_scientific_notation", {"text": "6.02e3"}, {"decimal": "6020", "value": 6020.0}),
    (
        "format_number_with_separators",
        {"number": 1234567.891, "thousands_separator": ".", "decimal_separator": ","},
        {"text": "1.234.567,89"},
    ),
    ("decimal_to_fraction", {"value": 2.75}, {"numerator": 11, "denominator": 4, "mixed_number": "2 3/4"}),
    # encoding
    ("base64_encode_text", {"text": "hello"}, {"encoded": "aGVsbG8="}),
    ("base64_decode_text", {"encoded": "aGVsbG8"}, {"text": "hello"}),
    ("url_encode_text", {"text": "a b&c"}, {"encoded": "a%20b%26c"}),
    ("url_decode_text", {"encoded": "a%20b+c"}, {"text": "a b c"}),
    (
        "build_query_string",
        {"parameters": {"q": "cats & dogs", "page": "2"}},
        {"query": "q=cats+%26+dogs&page=2"},
    ),
    (
        "compute_hash_digest",
        {"text": "abc"},
        {"digest": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    ),
    ("compute_hmac_signature", {"message": "m", "secret_key": "k"}, "signature"),
    ("crc32_checksum", {"text": "hello"}, {"hex": "3610a686"}),
    ("text_to_hex", {"text": "hi", "separator": " "}, {"hex": "68 69"}),
    ("luhn_check_digit", {"number": "4539 1488 0343 6467"}, {"valid": True}),
    ("validate_isbn", {"code": "0-306-40615-2"}, {"valid": True, "isbn13": "978-0-306-40615-7"}),
    ("validate_iban", {"account": "GB82 WEST 1234 5698 7654 32"}, {"valid": True, "country_code": "GB"}),
    # colors
    ("hex_to_rgb", {"hex_color": "#ff8000"}, {"red": 255, "green": 128, "blue": 0}),
    ("rgb_channels_to_hex", {"red": 255, "green": 128, "blue": 0}, {"hex": "#ff8000"}),
    ("rgb_to_hsl", {"red": 255, "green": 0, "blue": 0}, {"hue": 0.0, "saturation": 100.0, "lightness": 50.0}),
    ("hsl_to_rgb", {"hue": 120, "saturation": 100, "lightness": 50}, {"hex": "#00ff00"}),
    ("relative_luminance", {"hex_color": "#fff"}, {"luminance": 1.0}),
    (
        "contrast_ratio",
        {"foreground": "#000", "background": "#fff"},
        {"ratio": 21.0, "aaa_normal_text": True},
    ),
    ("mix_colors", {"colors": ["#ff0000", "#0000ff"]}, {"hex": "#800080"}),
    ("adjust_color_lightness", {"hex_color": "#336699", "amount_percent": 20}, {"hex": "#6699cc"}),
    ("color_harmony", {"hex_color": "#ff0000", "scheme": "triadic"}, {"colors": ["#00ff00", "#0000ff"]}),
    ("grayscale_color", {"hex_color": "#ffffff"}, {"hex": "#ffffff", "level": 255}),
    # physics
    (
        "velocity_after_acceleration",
        {"initial_velocity": 0, "acceleration": 9.8, "time_s": 2},
        {"final_velocity_mps": 19.6},
    ),
    (
        "displacement_under_acceleration",
        {"initial_velocity": 0, "acceleration": 2, "time_s": 3},
        {"displacement_m": 9.0},
    ),
    ("free_fall", {"height_m": 19.6133, "gravity": 9.80665}, {"fall_time_s": 2.0}),
    ("projectile_motion", {"initial_speed": 20, "launch_angle_degrees": 45}, {"range_m": 40.7886}),
    ("kinetic_energy", {"mass_kg": 2, "velocity_mps": 3}, {"kinetic_energy_j": 9.0, "momentum_kg_mps": 6.0}),
    (
        "gravitational_potential_energy",
        {"mass_kg": 10, "height_m": 5, "gravity": 10},
        {"potential_energy_j": 500.0},
    ),
    ("ohms_law", {"voltage_v": 12, "resistance_ohm": 4}, {"current_a": 3.0, "solved_for": "current_a"}),
    ("electrical_power", {"voltage_v": 230, "current_a": 2}, {"power_w": 460.0}),
    (
        "combine_resistors",
        {"resistances_ohm": [10, 10], "arrangement": "parallel"},
        {"equivalent_resistance_ohm": 5.0},
    ),
    ("pressure_from_force", {"force_n": 1000, "area_m2": 0.5, "unit": "kpa"}, {"pressure": 2.0}),
    ("hydrostatic_pressure", {"depth_m": 10}, {"pressure": 98.0665, "unit": "kpa"}),
    # chemistry
    ("molar_mass_of_formula", {"formula": "H2O"}, {"molar_mass_g_per_mol": 18.0153}),
    ("elemental_composition", {"formula": "CO2"}, {"empirical_formula": "CO2"}),
    ("grams_to_moles", {"formula": "H2O", "grams": 36.030574}, {"moles": 2.0}),
    ("moles_to_grams", {"formula": "H2O", "moles": 2}, {"grams": 36.0306}),
    (
        "solution_dilution",
        {"initial_concentration": 2, "initial_volume": 50, "final_volume": 200},
        {"solved_for": "final_concentration", "value": 0.5},
    ),
    (
        "solution_molarity",
        {"formula": "H2O", "solute_grams": 18.015287, "volume_liters": 0.5},
        {"molarity_mol_per_l": 2.0},
    ),
    (
        "ideal_gas_law",
        {"solve_for": "volume", "pressure_kpa": 101.325, "temperature_k": 273.15, "moles": 1},
        {"value": 22.414, "unit": "L"},
    ),
    ("ph_from_concentration", {"concentration_mol_per_l": 0.001}, {"ph": 3.0, "nature": "acidic"}),
    ("element_properties", {"symbol": "Fe"}, {"name": "Iron", "atomic_number": 26}),
    # cooking
    (
        "scale_recipe",
        {
            "ingredients": [{"name": "flour", "quantity": 200, "unit": "g"}, {"name": "eggs", "quantity": 2}],
            "original_servings": 4,
            "desired_servings": 6,
        },
        {
            "factor": 1.5,
            "ingredients": [
                {"name": "flour", "quantity": 300.0, "unit": "g"},
                {"name": "eggs", "quantity": 3.0, "unit": ""},
            ],
        },
    ),
    (
        "convert_oven_temperature",
        {"value": 350, "from_scale": "fahrenheit", "to_scale": "gas_mark"},
        {"value": 4},
    ),
    (
        "bakers_percentages",
        {"flour_grams": 500, "other_ingredients": [{"name": "water", "grams": 350}]},
        {"ingredients": [{"name": "water", "percent": 70.0}]},
    ),
    (
        "dough_from_hydration",
        {"flour_grams": 1000, "hydration_percent": 70},
        {"water_grams": 700.0, "total_dough_grams": 1730.0},
    ),
    ("ingredient_volume_to_weight", {"ingredient": "all_purpose_flour", "amount": 2}, {"grams": 250.0}),
    ("roast_cooking_time", {"meat": "beef", "weight_kg": 2, "doneness": "medium"}, {"roast_minutes": 120}),
    ("egg_boiling_time", {"doneness": "hard", "from_fridge": False}, {"minutes": 11}),
    ("ingredient_substitutes", {"ingredient": "egg"}, "substitutes"),
    # sports
    ("running_pace", {"distance": 10, "minutes": 50}, {"pace_per_km": "5:00", "speed_kmh": 12.0}),
    (
        "finish_time_from_pace",
        {"distance": 10, "pace_minutes": 5, "pace_seconds": 30},
        {"finish_time": "55:00"},
    ),
    (
        "predict_race_time",
        {"known_distance_km": 10, "known_time_seconds": 3000, "target_distance_km": 10},
        {"predicted_seconds": 3000},
    ),
    ("swimming_pace_per_100m", {"distance_m": 400, "total_seconds": 360}, {"pace_per_100m": "1:30"}),
    ("bowling_score", {"rolls": [10] * 12}, {"score": 300, "complete": True}),
    (
        "tennis_set_score",
        {"point_winners": SERVE * 5 + ["player2"] * 3 + ["player1"] * 3},
        {"games": {"player1": 5, "player2": 0}, "current_game": "deuce"},
    ),
    (
        "elo_rating_update",
        {"rating_a": 1500, "rating_b": 1500, "result_for_a": "win"},
        {"new_rating_a": 1516.0, "new_rating_b": 1484.0},
    ),
    (
        "league_standings",
        {"matches": [{"home_team": "A", "away_team": "B", "home_goals": 2, "away_goals": 1}]},
        "standings",
    ),
    ("cricket_run_rate", {"runs": 150, "overs": "20.3"}, {"run_rate": 7.32, "balls": 123}),
    # time_zones
    (
        "list_supported_cities",
        {"region": "oceania"},
        {"cities": ["Sydney", "Adelaide", "Auckland", "Honolulu"]},
    ),
    (
        "city_utc_offset",
        {"city": "new york", "on_date": "2024-07-01"},
        {"utc_offset_hours": -4.0, "daylight_saving": True},
    ),
    (
        "convert_time_between_cities",
        {"local_time": "18:00", "on_date": "2024-01-15", "from_city": "London", "to_city": "Tokyo"},
        {"time": "03:00", "date": "2024-01-16", "day_shift": 1},
    ),
    (
        "time_difference_between_cities",
        {"city_a": "London", "city_b": "Kathmandu", "on_date": "2024-01-15"},
        {"hours_b_ahead_of_a": 5.75},
    ),
    (
        "world_clock",
        {"utc_time": "12:00", "on_date": "2024-01-01", "cities": ["Sydney"]},
        {"cities": [{"city": "Sydney", "time": "23:00", "date": "2024-01-01", "abbreviation": "AEDT"}]},
    ),
    (
        "meeting_time_overlap",
        {"cities": ["London", "New York"], "on_date": "2024-06-03"},
        {"overlap": True, "hours": 3.0, "utc_from": "2024-06-03 13:00"},
    ),
    (
        "next_daylight_saving_change",
        {"city": "Berlin", "from_date": "2024-01-01"},
        {"date": "2024-03-31", "shift_hours": 1.0},
    ),
]

# (tool, bad arguments, words the error must contain)
INVALID = [
    ("internal_rate_of_return", {"cash_flows": [1, 2]}, "negative"),
    ("loan_monthly_payment", {"principal": -5, "annual_rate_percent": 5, "term_months": 12}, "principal"),
    (
        "convert_temperature_scale",
        {"value": -300, "from_unit": "celsius", "to_unit": "kelvin"},
        "absolute zero",
    ),
    ("convert_length", {"value": -1, "from_unit": "meter", "to_unit": "foot"}, "negative"),
    (
        "nth_weekday_of_month",
        {"year": 2024, "month": 11, "weekday": "thursday", "occurrence": 6},
        "occurrence",
    ),
    ("count_business_days", {"start_date": "2024-05-31", "end_date": "2024-05-01"}, "before"),
    ("age_on_date", {"birth_date": "2024-01-01", "on_date": "2023-01-01"}, "before"),
    ("slugify_text", {"text": "!!!"}, "no letters"),
    ("truncate_text", {"text": "abc", "max_length": 1}, "ellipsis"),
    ("triangle_area_from_sides", {"side_a": 1, "side_b": 2, "side_c": 5}, "do not form a triangle"),
    ("solid_volume_and_surface", {"shape": "cone", "radius": 1}, "missing height"),
    ("polygon_area_from_vertices", {"vertices": P[:2]}, "at least 3"),
    ("pearson_correlation", {"x": [1, 1, 1], "y": [1, 2, 3]}, "undefined"),
    ("percentile_of_values", {"values": [1, 2], "percentile": 120}, "between 0 and 100"),
    ("descriptive_statistics", {"values": [1]}, "at least 2"),
    ("body_fat_percentage", {"sex": "female", "height_cm": 165, "neck_cm": 32, "waist_cm": 70}, "hip_cm"),
    (
        "target_heart_rate_zone",
        {"age_years": 30, "low_intensity_percent": 90, "high_intensity_percent": 50},
        "intensities",
    ),
    ("prime_factorization", {"n": 1}, "between 2"),
    ("matrix_multiply", {"left": [[1, 2]], "right": [[1, 2]]}, "cannot multiply"),
    ("quadratic_equation_roots", {"a": 0, "b": 1, "c": 1}, "linear"),
    ("integer_to_roman_numeral", {"number": 5000}, "1 to 4999"),
    ("roman_numeral_to_integer", {"numeral": "IIII"}, "not a valid Roman numeral"),
    ("convert_number_base", {"digits": "12", "from_base": 2, "to_base": 10}, "not a number in base 2"),
    ("base64_decode_text", {"encoded": "###"}, "not valid Base64"),
    ("luhn_check_digit", {"number": "12ab"}, "only digits"),
    ("hex_to_rgb", {"hex_color": "red"}, "not a hex color"),
    ("mix_colors", {"colors": ["#000"]}, "at least two"),
    ("ohms_law", {"voltage_v": 12}, "exactly 2"),
    ("projectile_motion", {"initial_speed": 10, "launch_angle_degrees": 120}, "between 0 and 90"),
    ("molar_mass_of_formula", {"formula": "Xq2"}, "not a chemical formula"),
    ("ideal_gas_law", {"solve_for": "volume", "pressure_kpa": 100}, "needs temperature, moles"),
    ("element_properties", {"symbol": "Zz"}, "not an element symbol"),
    (
        "convert_oven_temperature",
        {"value": 11, "from_scale": "gas_mark", "to_scale": "celsius"},
        "gas marks are",
    ),
    ("roast_cooking_time", {"meat": "chicken", "weight_kg": 2, "doneness": "rare"}, "well_done"),
    ("bowling_score", {"rolls": [7, 5]}, "more than 10 pins"),
    ("cricket_run_rate", {"runs": 10, "overs": "3.7"}, "0 to 5 balls"),
    ("tennis_set_score", {"point_winners": SERVE * 7}, "already over"),
    ("city_utc_offset", {"city": "Atlantis", "on_date": "2024-01-01"}, "unknown city"),
    (
        "convert_time_between_cities",
        {"local_time": "25:00", "on_date": "2024-01-15", "from_city": "London", "to_city": "Tokyo"},
        "HH:MM",
    ),
    ("meeting_time_overlap", {"cities": ["London"], "on_date": "2024-01-15"}, "at least two"),
]


def _run(name: str, arguments: dict):
    return BOX.execute({"name": name, "arguments": arguments})


@pytest.mark.parametrize(("name", "arguments", "expected"), VALID, ids=[row[0] for row in VALID])
def test_valid_call(name: str, arguments: dict, expected: dict | str) -> None:
    obs = _run(name, arguments)
    assert obs.ok, obs.content
    result = json.loads(obs.content)
    if isinstance(expected, str):
        assert result[expected]
    else:
        assert {k: result.get(k) for k in expected} == expected


@pytest.mark.parametrize(("name", "arguments", "words"), INVALID, ids=[row[0] for row in INVALID])
def test_bad_input_is_a_clear_error(name: str, arguments: dict, words: str) -> None:
    obs = _run(name, arguments)
    assert not obs.ok
    assert obs.kind == "exception" and "ValueError" in obs.content, obs.content
    assert words in obs.content


def test_every_tool_is_exercised() -> None:
    names = {t.name for t in EXECUTABLE}
    assert {row[0] for row in VALID} == names
    assert {row[0] for row in INVALID} <= names
    assert {t.domain for t in EXECUTABLE if t.name in {row[0] for row in INVALID}} == set(DOMAINS)


def test_counts() -> None:
    assert {t.domain for t in LIBRARY} == set(DOMAINS)
    assert len(LIBRARY) >= 150
    assert len(EXECUTABLE) >= 0.8 * len(LIBRARY)
    for domain in DOMAINS:
        assert 6 <= sum(t.domain == domain for t in LIBRARY) <= 14, domain


@pytest.mark.parametrize("lt", [t for t in LIBRARY if t.simulated], ids=lambda t: t.name)
def test_specs_are_complete(lt) -> None:
    spec = normalize_spec(lt.tool.spec())["function"]
    assert spec["description"]
    props = spec["parameters"]["properties"]
    assert props and spec["parameters"]["required"]
    assert all(p.get("description") for p in props.values())
    assert lt.lang == "en"


def test_every_parameter_is_described() -> None:
    for lt in EXECUTABLE:
        assert lt.tool.description, lt.name
        for pname, schema in lt.tool.parameters["properties"].items():
            assert schema.get("description"), f"{lt.name}.{pname}"


def test_every_offered_unit_converts() -> None:
    from typing import get_args

    from calltune.datagen.library.domains import units

    for quantity, names in units._QUANTITIES.items():
        if quantity == "temperature":
            continue
        for name in get_args(names):
            tool = {"data_size": "convert_data_size", "cooking": "convert_cooking_measure"}.get(
                quantity, f"convert_{quantity}"
            )
            obs = _run(tool, {"value": 1, "from_unit": name, "to_unit": name})
            assert obs.ok and json.loads(obs.content)["value"] == 1.0, (quantity, name, obs.content)
