"""The shipped tool library, part B: every tool runs on a valid call, rejects bad input clearly,
and the simulated specs are well-formed."""

from __future__ import annotations

import json

import pytest

from calltune.datagen.library import load_library
from calltune.tools import Toolbox, normalize_spec

DOMAINS = [
    "travel", "commerce", "devices", "files_paths", "networking", "education", "weather", "music",
    "geography", "language", "security", "scheduling", "logistics", "real_estate", "energy",
    "payroll_hr", "zh_services", "media", "social", "legal",
]  # fmt: skip
SIMULATED_ONLY = {"weather", "media", "social", "legal"}

TOOLS = load_library(DOMAINS)
EXECUTABLE = [t for t in TOOLS if not t.simulated]
SIMULATED = [t for t in TOOLS if t.simulated]
BOX = Toolbox([t.tool for t in EXECUTABLE])

CAL = [
    {"person": "Ann", "busy": [{"start": "09:00", "end": "10:30"}, {"start": "13:00", "end": "14:00"}]},
    {"person": "Bo", "busy": [{"start": "10:00", "end": "11:00"}, {"start": "16:30", "end": "17:30"}]},
]
BLOCKS = [{"start": "09:00", "end": "10:00"}, {"start": "09:30", "end": "11:00"}]

# (tool, arguments, expected): a dict is a subset of the JSON result, a str the exact text,
# a callable a check on the parsed result
VALID = [
    # travel
    ("split_trip_cost", {"total_cost": 300, "travelers": 3}, {"per_traveler": [100.0, 100.0, 100.0]}),
    ("split_trip_cost", {"total_cost": 300, "travelers": 2, "shares": [2, 1]}, {"per_traveler": [200.0, 100.0]}),
    ("trip_fuel_cost", {"distance_km": 250, "consumption_l_per_100km": 6, "fuel_price_per_litre": 1.8, "round_trip": True},
     {"distance_km": 500, "litres": 30.0, "cost": 54.0}),
    ("trip_fuel_stops", {"distance_km": 1500, "consumption_l_per_100km": 8, "tank_litres": 50}, {"refuel_stops": 2, "range_per_tank_km": 562.5}),
    ("haversine_distance", {"lat1": 48.8566, "lon1": 2.3522, "lat2": 51.5072, "lon2": -0.1276},
     lambda r: 340 < r["distance"] < 347 and r["unit"] == "km"),
    ("initial_compass_bearing", {"lat1": 0, "lon1": 0, "lat2": 0, "lon2": 10}, {"bearing_degrees": 90.0, "compass_point": "E"}),
    ("packing_list_for_climate", {"climate": "cold", "days": 5, "activities": ["skiing"]},
     lambda r: "insulated jacket" in r["items"] and "ski goggles" in r["items"]),
    ("itinerary_day_count", {"start_date": "2025-05-02", "end_date": "2025-05-05"}, {"days": 4, "nights": 3, "weekend_days": 2}),
    ("trip_daily_budget", {"total_budget": 1100, "start_date": "2025-05-01", "end_date": "2025-05-10"},
     {"days": 10, "per_day": 99.0, "reserve": 110.0}),
    ("driving_time_estimate", {"distance_km": 300, "average_speed_kmh": 100, "breaks": 2},
     {"total_minutes": 210, "hours": 3, "minutes": 30}),
    ("flight_arrival_local_time", {"departure_local": "2025-03-01T22:00", "duration_minutes": 600,
                                   "origin_utc_offset_hours": 1, "destination_utc_offset_hours": 8},
     {"arrival_local": "2025-03-02T15:00", "day_change": 1}),
    ("currency_cash_budget", {"daily_spend": 50, "days": 4, "exchange_rate": 7.5, "buffer_percent": 10},
     {"home_amount": 220.0, "foreign_amount": 1650.0}),
    # commerce
    ("apply_percentage_discount", {"price": 80, "discount_percent": 25, "quantity": 2}, {"unit_price": 60.0, "total": 120.0, "saved": 40.0}),
    ("stack_sequential_discounts", {"price": 100, "discounts_percent": [20, 10]}, {"final_price": 72.0, "effective_discount_percent": 28.0}),
    ("apply_coupon_code", {"subtotal": 120, "coupon_code": "save20", "shipping_fee": 5}, {"discount": 24.0, "total": 101.0}),
    ("sales_tax_amount", {"amount": 119, "tax_rate_percent": 19, "tax_included": True}, {"net": 100.0, "tax": 19.0}),
    ("price_with_country_vat", {"net_price": 100, "country_code": "FR"}, {"vat_rate_percent": 20, "gross": 120.0}),
    ("shipping_cost_by_tier", {"weight_kg": 3.2, "tier": "express"}, {"fee": 23.0, "delivery_days": "1"}),
    ("free_shipping_gap", {"cart_total": 42.5}, {"qualifies": False, "amount_missing": 7.5}),
    ("compare_unit_prices", {"offers": [{"label": "big", "price": 6, "quantity": 3}, {"label": "small", "price": 2.5, "quantity": 1}]},
     {"cheapest": "big"}),
    ("cart_total", {"items": [{"name": "pen", "unit_price": 2, "quantity": 5}, {"name": "pad", "unit_price": 10}],
                    "discount_percent": 10, "tax_rate_percent": 10, "shipping_fee": 4}, {"subtotal": 20.0, "total": 23.8}),
    ("price_from_target_margin", {"cost": 60, "margin_percent": 40}, {"price": 100.0, "profit": 40.0}),
    ("profit_margin_of_sale", {"cost": 60, "selling_price": 80}, {"profit": 20.0, "margin_percent": 25.0}),
    ("installment_plan", {"total_price": 1200, "installments": 12, "fee_percent": 5, "down_payment": 200},
     {"per_installment": 87.5, "total_paid": 1250.0}),
    # devices
    ("dimmer_level_to_lumens", {"max_lumens": 800, "level_percent": 50}, {"lumens": 400.0}),
    ("dimmer_level_to_lumens", {"max_lumens": 800, "level_percent": 50, "curve": "square"}, {"lumens": 200.0}),
    ("device_standby_cost", {"standby_watts": 5, "price_per_kwh": 0.3}, {"kwh": 43.8, "cost": 13.14}),
    ("battery_runtime_hours", {"capacity_mah": 2000, "draw_ma": 100, "efficiency": 1}, {"hours": 20.0}),
    # files_paths
    ("join_path_parts", {"parts": ["usr", "local", "bin"]}, "usr/local/bin"),
    ("join_path_parts", {"parts": ["C:\\", "Users", "ann"], "style": "windows"}, "C:\\Users\\ann"),
    ("split_path_parts", {"path": "/srv/data/report.final.csv"},
     {"parent": "/srv/data", "name": "report.final.csv", "stem": "report.final", "extension": ".csv"}),
    ("file_extension_of", {"filename": "backup.tar.gz", "all_suffixes": True}, {"extension": ".tar.gz"}),
    ("change_file_extension", {"filename": "notes/readme.txt", "new_extension": "md"}, "notes/readme.md"),
    ("format_file_size", {"num_bytes": 1536, "system": "iec"}, "1.5 KiB"),
    ("parse_file_size", {"text": "2.5 MB"}, {"bytes": 2_500_000}),
    ("match_glob_pattern", {"pattern": "*.py", "names": ["a.py", "b.txt", "c.PY"], "case_sensitive": False},
     {"matches": ["a.py", "c.PY"], "count": 2}),
    ("filter_names_by_extension", {"names": ["a.JPG", "b.png", "c.txt"], "extensions": ["jpg", ".png"]}, {"names": ["a.JPG", "b.png"]}),
    ("normalize_path_text", {"path": "a//b/./c/../d"}, "a/b/d"),
    ("relative_path_between", {"path": "/srv/app/static/css", "start": "/srv/app/templates"}, "../static/css"),
    ("common_parent_directory", {"paths": ["/home/ann/docs/a.txt", "/home/ann/pics/b.png"]}, "/home/ann"),
    # networking
    ("cidr_block_details", {"cidr": "192.168.10.77/26"},
     {"network": "192.168.10.64", "broadcast": "192.168.10.127", "usable_hosts": 62, "first_host": "192.168.10.65"}),
    ("subnet_mask_for_prefix", {"prefix_length": 20}, {"netmask": "255.255.240.0", "wildcard": "0.0.15.255"}),
    ("prefix_length_for_mask", {"netmask": "255.255.255.224"}, {"prefix_length": 27}),
    ("smallest_prefix_for_hosts", {"host_count": 63}, {"prefix_length": 25, "usable_hosts": 126}),
    ("ip_in_network", {"ip": "10.1.2.3", "cidr": "10.0.0.0/8"}, {"inside": True}),
    ("split_network_into_subnets", {"cidr": "10.0.0.0/24", "new_prefix": 26},
     {"subnet_count": 4, "subnets": ["10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26", "10.0.0.192/26"]}),
    ("summarize_address_range", {"first_ip": "10.0.0.0", "last_ip": "10.0.0.11"}, {"blocks": ["10.0.0.0/29", "10.0.0.8/30"]}),
    ("ipv4_address_facts", {"ip": "127.0.0.1"}, {"integer": 2130706433, "loopback": True}),
    ("service_for_port", {"port": 443}, {"service": "https"}),
    ("ports_for_service", {"service": "DNS"}, {"ports": [{"port": 53, "protocol": "tcp"}, {"port": 53, "protocol": "udp"}]}),
    ("parse_url_components", {"url": "https://shop.example.org:8443/cart?id=7&q=red#top"},
     {"host": "shop.example.org", "port": 8443, "path": "/cart", "query": {"id": "7", "q": "red"}, "fragment": "top"}),
    ("add_query_parameters", {"url": "https://a.example/s?q=old", "params": {"q": "new shoes", "page": "2"}},
     "https://a.example/s?q=new+shoes&page=2"),
    # education
    ("average_grade", {"scores": [70, 80, 90, 40], "drop_lowest": 1}, {"average": 80.0, "counted": 3}),
    ("weighted_grade_average", {"components": [{"name": "exam", "score": 80, "weight": 60}, {"name": "hw", "score": 90, "weight": 40}]},
     {"weighted_average": 84.0}),
    ("gpa_from_letter_grades", {"courses": [{"name": "Math", "grade": "A", "credits": 3}, {"name": "Art", "grade": "B+", "credits": 2}]},
     {"gpa": 3.72, "credits": 5.0}),
    ("letter_grade_for_score", {"score": 88.5}, {"letter": "B+", "passing": True}),
    ("letter_grade_for_score", {"score": 88.5, "plus_minus": False}, {"letter": "B"}),
    ("score_quiz_answers", {"answer_key": ["a", "b", "c", "d"], "responses": ["a", "c", "", "D"], "penalty_per_wrong": 0.25},
     {"correct": 2, "wrong": 1, "blank": 1, "score": 1.75}),
    ("required_final_exam_score", {"current_percent": 80, "final_weight_percent": 25, "target_percent": 85},
     {"required_percent": 100.0, "achievable": True}),
    ("curve_scores_to_mean", {"scores": [60, 70, 95], "target_mean": 80}, {"shift": 5.0, "curved": [65.0, 75.0, 100.0]}),
    ("attendance_rate", {"sessions_held": 30, "sessions_attended": 23}, {"attendance_percent": 76.7, "meets_requirement": False}),
    # music
    ("beat_duration_ms", {"bpm": 120, "note_value": "eighth", "dotted": True}, {"milliseconds": 375.0}),
    ("tempo_from_tap_times", {"tap_times_seconds": [0, 0.5, 1.0, 1.5]}, {"bpm": 120.0}),
    ("song_length_from_bars", {"bars": 64, "bpm": 128}, {"seconds": 120.0, "formatted": "2:00"}),
    ("note_frequency_hz", {"note": "C4"}, {"frequency_hz": 261.63, "midi_number": 60}),
    ("nearest_note_for_frequency", {"frequency_hz": 445}, {"note": "A4", "cents_off": 19.6}),
    ("interval_between_notes", {"lower_note": "C4", "upper_note": "G4"}, {"semitones": 7, "interval": "perfect fifth"}),
    ("transpose_note", {"note": "A4", "semitones": 3}, "C5"),
    ("spell_chord", {"root": "Bb", "quality": "dominant7"}, {"notes": ["Bb", "D", "F", "Ab"]}),
    ("scale_notes", {"tonic": "A", "mode": "natural_minor"}, {"notes": ["A", "B", "C", "D", "E", "F", "G"]}),
    # geography
    ("country_capital_city", {"country": "Australia"}, {"capital": "Canberra"}),
    ("country_population", {"country": "jp"}, {"country": "Japan", "population": 124_500_000}),
    ("country_currency", {"country": "Poland"}, {"currency_code": "PLN"}),
    ("countries_using_currency", {"currency_code": "eur"}, {"countries": ["France", "Germany", "Italy", "Spain"]}),
    ("country_profile", {"country": "Kenya"}, {"capital": "Nairobi", "continent": "Africa", "iso_code": "KE"}),
    ("countries_on_continent", {"continent": "Oceania", "sort_by": "area"}, {"countries": ["Australia", "New Zealand"]}),
    ("population_density", {"country": "Germany"}, lambda r: 230 < r["people_per_km2"] < 240),
    ("rank_countries_by_population", {"countries": ["Norway", "India", "Brazil"]},
     lambda r: [x["country"] for x in r["ranking"]] == ["India", "Brazil", "Norway"]),
    ("country_for_capital", {"capital": "ottawa"}, {"country": "Canada"}),
    ("distance_between_cities", {"city_a": "Tokyo", "city_b": "Osaka"}, lambda r: 390 < r["distance"] < 410),
    ("city_coordinates", {"city": "Lagos"}, {"country": "Nigeria", "latitude": 6.5244}),
    # language
    ("count_vowels", {"text": "Équipe"}, {"vowels": 4, "per_vowel": {"a": 0, "e": 2, "i": 1, "o": 0, "u": 1}}),
    ("to_pig_latin", {"text": "Hello apple"}, "Ellohay appleway"),
    ("transliterate_cyrillic", {"text": "Москва"}, "Moskva"),
    ("strip_diacritics", {"text": "Crème brûlée, señor"}, "Creme brulee, senor"),
    ("pluralize_noun", {"noun": "child", "count": 3}, {"form": "children", "phrase": "3 children"}),
    ("pluralize_noun", {"noun": "box", "count": 1}, {"phrase": "1 box"}),
    ("singularize_noun", {"noun": "mice"}, "mouse"),
    ("join_words_as_list", {"words": ["tea", "coffee", "juice"], "conjunction": "or"}, "tea, coffee, or juice"),
    ("reading_time_minutes", {"text": "word " * 460}, {"words": 460, "minutes": 2.0}),
    ("nato_phonetic_spelling", {"text": "AB9"}, {"spelling": ["Alfa", "Bravo", "Niner"]}),
    ("morse_code", {"text": "SOS"}, "... --- ..."),
    ("morse_code", {"text": "... --- ...", "direction": "decode"}, "sos"),
    # security
    ("password_entropy_bits", {"password": "abcd1234"}, {"charset_size": 36, "entropy_bits": 41.4}),
    ("passphrase_entropy_bits", {"word_count": 6}, {"entropy_bits": 77.5}),
    ("password_strength_report", {"password": "hunter2"}, lambda r: r["rating"] == "very weak" and "add symbols" in r["suggestions"]),
    ("password_policy_check", {"password": "summer2024", "forbidden_words": ["Summer"]},
     {"compliant": False, "violations": ["no uppercase letter", "contains 'Summer'"]}),
    ("password_policy_check", {"password": "Blue-Kettle-7", "require_symbol": True}, {"compliant": True, "violations": []}),
    ("generate_seeded_password", {"seed": 42, "length": 20}, lambda r: len(r["password"]) == 20),
    ("crack_time_estimate", {"entropy_bits": 40}, {"readable": "55.0 seconds"}),
    ("caesar_cipher", {"text": "Hello, World", "shift": 3}, "Khoor, Zruog"),
    ("caesar_cipher", {"text": "Khoor", "shift": 3, "mode": "decrypt"}, "Hello"),
    ("rot13_transform", {"text": "Uryyb"}, "Hello"),
    ("vigenere_cipher", {"text": "ATTACK AT DAWN", "key": "LEMON"}, "LXFOPV EF RNHR"),
    # scheduling
    ("find_common_free_slots", {"calendars": CAL, "duration_minutes": 60},
     {"slots": [{"start": "11:00", "end": "13:00"}, {"start": "14:00", "end": "16:30"}], "count": 2}),
    ("earliest_common_meeting_slot", {"calendars": CAL, "duration_minutes": 150}, {"found": True, "start": "14:00", "end": "16:30"}),
    ("merge_busy_blocks", {"blocks": BLOCKS}, {"blocks": [{"start": "09:00", "end": "11:00"}]}),
    ("total_time_block_hours", {"blocks": BLOCKS, "count_overlap_once": False}, {"total_minutes": 150, "hours": 2.5}),
    ("build_shift_rota", {"staff": ["A", "B", "C"], "start_date": "2025-03-01", "days": 2, "shifts": ["early", "late"]},
     {"shifts_per_person": {"A": 2, "B": 1, "C": 1}}),
    ("recurring_event_dates", {"start_date": "2025-01-31", "frequency": "monthly", "count": 3},
     {"dates": ["2025-01-31", "2025-02-28", "2025-03-31"]}),
    ("find_schedule_conflicts", {"events": [{"title": "x", "start": "2025-01-01T10:00", "end": "2025-01-01T11:00"},
                                            {"title": "y", "start": "2025-01-01T10:30", "end": "2025-01-01T12:00"}]},
     {"count": 1, "conflicts": [{"first": "x", "second": "y", "overlap_minutes": 30}]}),
    ("split_into_time_blocks", {"start": "09:00", "end": "11:00", "block_minutes": 25, "break_minutes": 5},
     {"count": 4, "work_minutes": 100, "blocks": [{"start": "09:00", "end": "09:25"}, {"start": "09:30", "end": "09:55"},
                                                 {"start": "10:00", "end": "10:25"}, {"start": "10:30", "end": "10:55"}]}),
    # logistics
    ("volumetric_weight", {"length_cm": 50, "width_cm": 40, "height_cm": 30}, {"volumetric_weight_kg": 12.0}),
    ("chargeable_weight", {"actual_weight_kg": 2.2, "length_cm": 40, "width_cm": 30, "height_cm": 20},
     {"chargeable_kg": 5.0, "basis": "volumetric"}),
    ("route_total_time", {"legs": [{"distance_km": 120, "speed_kmh": 80}, {"distance_km": 30, "speed_kmh": 40}], "stops": 2,
                          "minutes_per_stop": 15}, {"total_minutes": 165, "distance_km": 150.0}),
    ("route_distance_through_stops", {"stops": [{"name": "A", "latitude": 0, "longitude": 0}, {"name": "B", "latitude": 0, "longitude": 1}],
                                      "return_to_start": True}, lambda r: len(r["legs"]) == 2 and 222 < r["total_km"] < 223),
    ("plan_truck_loads", {"items": [{"name": "a", "weight_kg": 700, "volume_m3": 3}, {"name": "b", "weight_kg": 500, "volume_m3": 5},
                                    {"name": "c", "weight_kg": 400, "volume_m3": 2}], "max_weight_kg": 1000, "max_volume_m3": 8},
     {"truck_count": 2}),
    ("boxes_per_pallet_layer", {"pallet_length_cm": 120, "pallet_width_cm": 80, "box_length_cm": 40, "box_width_cm": 30},
     {"boxes_per_layer": 8}),
    ("pallets_needed", {"box_count": 100, "boxes_per_layer": 8, "layers_per_pallet": 5}, {"pallets": 3, "boxes_on_last_pallet": 20}),
    ("container_capacity_check", {"container": "20ft", "unit_volume_m3": 1.2, "unit_weight_kg": 500},
     {"units": 23, "limited_by": "volume"}),
    ("delivery_eta", {"dispatch_time": "2025-03-01T08:00", "distance_km": 1500, "average_speed_kmh": 75},
     {"driving_hours": 20.0, "rest_stops": 2, "arrival": "2025-03-03T10:00"}),
    # real_estate
    ("mortgage_monthly_housing_cost", {"home_price": 400000, "down_payment": 80000, "annual_rate_percent": 6,
                                       "property_tax_percent": 1.2, "insurance_per_year": 1200},
     {"loan_amount": 320000, "principal_and_interest": 1918.56, "total_monthly": 2418.56}),
    ("mortgage_yearly_amortization", {"principal": 300000, "annual_rate_percent": 5},
     {"monthly_payment": 1610.46, "months_to_payoff": 360}),
    ("mortgage_yearly_amortization", {"principal": 300000, "annual_rate_percent": 5, "extra_monthly_payment": 500},
     lambda r: r["months_to_payoff"] < 360),
    ("affordable_home_price", {"monthly_budget": 2000, "annual_rate_percent": 6, "down_payment": 50000},
     {"max_loan": 333583.23, "max_home_price": 383583.23}),
    ("rent_vs_buy_comparison", {"home_price": 400000, "monthly_rent": 2000, "annual_rate_percent": 6, "horizon_years": 10},
     {"cheaper": "buy", "total_rent": 275133.1}),
    ("price_per_area", {"price": 500000, "area": 100}, {"per_m2": 5000.0, "per_ft2": 464.52}),
    ("rental_yield", {"property_price": 300000, "monthly_rent": 1500, "yearly_costs": 3000, "vacancy_percent": 5},
     {"gross_yield_percent": 6.0, "net_yield_percent": 4.7}),
    ("down_payment_and_closing", {"home_price": 300000, "down_payment_percent": 10},
     {"down_payment": 30000.0, "closing_costs": 9000.0, "cash_needed": 39000.0}),
    ("loan_to_value_ratio", {"loan_amount": 250000, "appraised_value": 300000}, {"ltv_percent": 83.33, "above_80_percent": True}),
    # energy
    ("appliance_energy_cost", {"watts": 1500, "hours_per_day": 2, "price_per_kwh": 0.25}, {"kwh": 90.0, "cost": 22.5}),
    ("tiered_electricity_bill", {"kwh_used": 350, "fixed_charge": 5, "tiers": [{"up_to_kwh": 100, "price_per_kwh": 0.1},
                                 {"up_to_kwh": 300, "price_per_kwh": 0.2}, {"price_per_kwh": 0.3}]}, {"energy_cost": 65.0, "total": 70.0}),
    ("solar_output_estimate", {"system_kw": 5, "peak_sun_hours": 4, "days": 30, "system_losses_percent": 10}, {"kwh": 540.0}),
    ("solar_payback_years", {"system_cost": 10000, "yearly_kwh": 5000, "price_per_kwh": 0.3, "incentive": 1000}, {"payback_years": 6.0}),
    ("trip_carbon_footprint", {"distance_km": 100, "mode": "car_petrol", "passengers": 2}, {"kg_co2e_total": 16.4, "kg_co2e_per_person": 8.2}),
    ("fuel_combustion_co2", {"litres": 40, "fuel": "diesel"}, {"kg_co2": 107.2}),
    ("convert_energy_units", {"value": 1, "from_unit": "therm", "to_unit": "kwh"}, {"value": 29.3071}),
    ("led_upgrade_savings", {"old_watts": 60, "new_watts": 10, "bulbs": 10, "hours_per_day": 4, "price_per_kwh": 0.3},
     {"kwh_per_year": 730.0, "money_per_year": 219.0}),
    ("ev_charging_cost", {"battery_kwh": 60, "price_per_kwh": 0.3}, {"grid_kwh": 40.0, "cost": 12.0}),
    ("ev_charging_time", {"battery_kwh": 60, "charger_kw": 11, "from_percent": 10, "to_percent": 100, "charger_efficiency": 1},
     {"minutes": 295, "hours": 4, "remaining_minutes": 55}),
    # payroll_hr
    ("net_pay_from_gross", {"gross_pay": 5000, "income_tax_percent": 20, "social_security_percent": 10, "pre_tax_deductions": 500},
     {"taxable_pay": 4500.0, "income_tax": 900.0, "social_security": 500.0, "net_pay": 3100.0}),
    ("overtime_pay", {"hourly_rate": 20, "hours_worked": 45}, {"overtime_hours": 5.0, "total_pay": 950.0}),
    ("weekly_overtime_hours", {"daily_hours": [10, 10, 8, 8, 8, 4], "daily_limit": 8}, {"overtime_hours": 8.0, "regular_hours": 40.0}),
    ("progressive_tax_amount", {"taxable_income": 50000, "brackets": [{"up_to": 10000, "rate_percent": 0},
                                {"up_to": 40000, "rate_percent": 20}, {"rate_percent": 40}]}, {"tax": 10000.0, "effective_rate_percent": 20.0}),
    ("leave_balance_accrued", {"start_date": "2024-01-15", "as_of_date": "2024-07-20", "days_per_year": 24, "days_taken": 3},
     {"months_completed": 6, "earned": 12.0, "balance": 9.0}),
    ("prorated_salary", {"annual_salary": 73000, "start_date": "2025-01-01", "end_date": "2025-01-10"}, {"days": 10, "amount": 2000.0}),
    ("annual_salary_to_hourly", {"annual_salary": 52000}, {"hourly": 25.0, "weekly": 1000.0}),
    ("hourly_rate_to_annual", {"hourly_rate": 25, "hours_per_week": 30}, {"annual": 39000.0}),
    ("employer_total_cost", {"gross_salary": 60000, "employer_contribution_percent": 20, "benefits_per_year": 3000},
     {"employer_contributions": 12000.0, "total_cost": 75000.0}),
    # zh_services
    ("计算个税", {"monthly_income": 20000, "social_insurance": 2000, "special_deductions": 1000}, {"应纳税所得额": 12000.0, "应纳税额": 990.0}),
    ("年终奖个税", {"bonus": 36000}, {"税率": "3%", "应纳税额": 1080.0}),
    ("人民币大写金额", {"金额": 1234.5}, "壹仟贰佰叁拾肆元伍角"),
    ("数字转中文", {"数字": 2025, "大写": True}, "贰仟零贰拾伍"),
    ("中文数字转阿拉伯数字", {"text": "三万五千"}, {"数值": 35000}),
    ("查询生肖", {"year": 2024}, {"生肖": "龙"}),
    ("干支纪年", {"year": 1984}, {"干支": "甲子年", "生肖": "鼠"}),
    ("汉字笔画数", {"text": "王明"}, {"笔画": {"王": 4, "明": 8}, "合计": 12}),
    ("按姓氏笔画排序", {"names": ["张三", "王五", "丁一"]}, {"排序结果": ["丁一", "王五", "张三"]}),
    ("快递费估算", {"weight_kg": 2.3, "region": "跨省", "保价金额": 1000}, {"运费": 22, "保价费": 10.0, "合计": 32.0}),
    ("身份证号码解析", {"id_number": "11010519491231002X"}, {"出生日期": "1949-12-31", "性别": "女", "地区代码": "110105"}),
    ("身份证校验码计算", {"first_17_digits": "11010519491231002"}, {"校验码": "X"}),
]  # fmt: skip

# (tool, bad arguments, words the error must contain)
INVALID = [
    ("split_trip_cost", {"total_cost": 100, "travelers": 2, "shares": [1]}, "shares"),
    ("trip_fuel_cost", {"distance_km": -5, "consumption_l_per_100km": 6, "fuel_price_per_litre": 1.8}, "distance_km"),
    ("trip_fuel_stops", {"distance_km": 100, "consumption_l_per_100km": 6, "tank_litres": 40, "reserve_percent": 100}, "reserve_percent"),
    ("haversine_distance", {"lat1": 95, "lon1": 0, "lat2": 0, "lon2": 0}, "latitude"),
    ("initial_compass_bearing", {"lat1": 0, "lon1": 200, "lat2": 0, "lon2": 0}, "longitude"),
    ("packing_list_for_climate", {"climate": "arctic", "days": 3}, "climate"),
    ("itinerary_day_count", {"start_date": "2025-05-05", "end_date": "2025-05-01"}, "before"),
    ("trip_daily_budget", {"total_budget": 100, "start_date": "2025-05-01", "end_date": "2025-05-02", "reserve_percent": 150},
     "reserve_percent"),
    ("driving_time_estimate", {"distance_km": 100, "average_speed_kmh": 0}, "average_speed_kmh"),
    ("flight_arrival_local_time", {"departure_local": "2025-03-01T22:00", "duration_minutes": 60, "origin_utc_offset_hours": 20,
                                   "destination_utc_offset_hours": 0}, "offset"),
    ("currency_cash_budget", {"daily_spend": 50, "days": 0, "exchange_rate": 1.1}, "days"),
    ("apply_percentage_discount", {"price": 10, "discount_percent": 120}, "discount_percent"),
    ("stack_sequential_discounts", {"price": 10, "discounts_percent": []}, "discounts_percent"),
    ("apply_coupon_code", {"subtotal": 40, "coupon_code": "NOPE"}, "unknown coupon"),
    ("apply_coupon_code", {"subtotal": 40, "coupon_code": "SAVE20"}, "at least 100"),
    ("sales_tax_amount", {"amount": -1, "tax_rate_percent": 10}, "amount"),
    ("price_with_country_vat", {"net_price": 10, "country_code": "XX"}, "country_code"),
    ("shipping_cost_by_tier", {"weight_kg": 0}, "weight_kg"),
    ("free_shipping_gap", {"cart_total": -3}, "cart_total"),
    ("compare_unit_prices", {"offers": [{"label": "one", "price": 1, "quantity": 1}]}, "at least two"),
    ("cart_total", {"items": []}, "items"),
    ("price_from_target_margin", {"cost": 10, "margin_percent": 100}, "margin_percent"),
    ("profit_margin_of_sale", {"cost": 10, "selling_price": 0}, "selling_price"),
    ("dimmer_level_to_lumens", {"max_lumens": 800, "level_percent": 150}, "level_percent"),
    ("device_standby_cost", {"standby_watts": 5, "price_per_kwh": 0.3, "hours_per_day": 30}, "hours_per_day"),
    ("battery_runtime_hours", {"capacity_mah": 2000, "draw_ma": 100, "efficiency": 2}, "efficiency"),
    ("join_path_parts", {"parts": []}, "parts"),
    ("split_path_parts", {"path": " "}, "path"),
    ("file_extension_of", {"filename": ""}, "filename"),
    ("change_file_extension", {"filename": "a.txt", "new_extension": "."}, "extension"),
    ("format_file_size", {"num_bytes": -1}, "num_bytes"),
    ("parse_file_size", {"text": "lots"}, "cannot read"),
    ("match_glob_pattern", {"pattern": "", "names": ["a"]}, "pattern"),
    ("filter_names_by_extension", {"names": ["a.txt"], "extensions": []}, "extensions"),
    ("normalize_path_text", {"path": ""}, "path"),
    ("relative_path_between", {"path": "/a/b", "start": "c"}, "absolute"),
    ("common_parent_directory", {"paths": ["/a"]}, "at least two"),
    ("cidr_block_details", {"cidr": "300.1.1.1/24"}, "CIDR"),
    ("subnet_mask_for_prefix", {"prefix_length": 33}, "prefix_length"),
    ("prefix_length_for_mask", {"netmask": "255.0.255.0"}, "subnet mask"),
    ("ip_in_network", {"ip": "1.2.3", "cidr": "10.0.0.0/8"}, "IPv4 address"),
    ("split_network_into_subnets", {"cidr": "10.0.0.0/24", "new_prefix": 20}, "new_prefix"),
    ("summarize_address_range", {"first_ip": "10.0.0.9", "last_ip": "10.0.0.1"}, "before"),
    ("ipv4_address_facts", {"ip": "localhost"}, "IPv4 address"),
    ("service_for_port", {"port": 4444}, "no well-known service"),
    ("ports_for_service", {"service": "gopherx"}, "unknown service"),
    ("parse_url_components", {"url": "not a url"}, "absolute URL"),
    ("add_query_parameters", {"url": "/relative", "params": {"a": "1"}}, "absolute URL"),
    ("average_grade", {"scores": [80], "drop_lowest": 1}, "drop_lowest"),
    ("weighted_grade_average", {"components": [{"name": "x", "score": 80, "weight": 0}]}, "total_weight"),
    ("gpa_from_letter_grades", {"courses": [{"name": "x", "grade": "E", "credits": 3}]}, "grade"),
    ("letter_grade_for_score", {"score": 120}, "score"),
    ("score_quiz_answers", {"answer_key": ["a", "b"], "responses": ["a"]}, "responses"),
    ("required_final_exam_score", {"current_percent": 80, "final_weight_percent": 0, "target_percent": 85}, "final_weight_percent"),
    ("curve_scores_to_mean", {"scores": [], "target_mean": 80}, "scores"),
    ("beat_duration_ms", {"bpm": 0}, "bpm"),
    ("tempo_from_tap_times", {"tap_times_seconds": [1.0, 0.5]}, "increase"),
    ("song_length_from_bars", {"bars": 0, "bpm": 120}, "bars"),
    ("note_frequency_hz", {"note": "H2"}, "not a note"),
    ("nearest_note_for_frequency", {"frequency_hz": 0}, "frequency_hz"),
    ("interval_between_notes", {"lower_note": "G4", "upper_note": "C4"}, "lower"),
    ("transpose_note", {"note": "C4", "semitones": 200}, "MIDI range"),
    ("spell_chord", {"root": "C", "quality": "power"}, "quality"),
    ("scale_notes", {"tonic": "X"}, "not a note"),
    ("country_capital_city", {"country": "Atlantis"}, "not in the country table"),
    ("country_population", {"country": "Narnia"}, "not in the country table"),
    ("country_currency", {"country": "Oz"}, "not in the country table"),
    ("country_profile", {"country": "Lilliput"}, "not in the country table"),
    ("countries_on_continent", {"continent": "Antarctica"}, "continent"),
    ("population_density", {"country": "Wakanda"}, "not in the country table"),
    ("rank_countries_by_population", {"countries": []}, "countries"),
    ("country_for_capital", {"capital": "Gotham"}, "not a capital"),
    ("distance_between_cities", {"city_a": "Paris", "city_b": "Springfield"}, "not in the city table"),
    ("city_coordinates", {"city": "Springfield"}, "not in the city table"),
    ("count_vowels", {}, "text"),
    ("to_pig_latin", {"text": ""}, "text"),
    ("transliterate_cyrillic", {"text": 5}, "text"),
    ("strip_diacritics", {"text": None}, "text"),
    ("pluralize_noun", {"noun": ""}, "noun"),
    ("singularize_noun", {"noun": " "}, "noun"),
    ("join_words_as_list", {"words": []}, "words"),
    ("reading_time_minutes", {"text": "a b", "words_per_minute": 0}, "words_per_minute"),
    ("nato_phonetic_spelling", {"text": "!!"}, "no letters"),
    ("morse_code", {"text": "café"}, "no Morse code"),
    ("password_entropy_bits", {"password": ""}, "password"),
    ("passphrase_entropy_bits", {"word_count": 4, "wordlist_size": 1}, "wordlist_size"),
    ("password_strength_report", {"password": ""}, "password"),
    ("generate_seeded_password", {"seed": 1, "length": 2}, "length"),
    ("crack_time_estimate", {"entropy_bits": 40, "guesses_per_second": 0}, "guesses_per_second"),
    ("caesar_cipher", {"text": "abc"}, "shift"),
    ("rot13_transform", {}, "text"),
    ("vigenere_cipher", {"text": "abc", "key": "k3y"}, "key"),
    ("find_common_free_slots", {"calendars": CAL, "duration_minutes": 0}, "duration_minutes"),
    ("earliest_common_meeting_slot", {"calendars": CAL, "duration_minutes": 30, "day_start": "18:00", "day_end": "09:00"}, "day_end"),
    ("merge_busy_blocks", {"blocks": [{"start": "10:00", "end": "09:00"}]}, "ends before"),
    ("total_time_block_hours", {"blocks": []}, "blocks"),
    ("build_shift_rota", {"staff": ["A"], "start_date": "2025-03-01", "days": 2, "shifts": ["early", "late"]}, "not enough staff"),
    ("recurring_event_dates", {"start_date": "2025-01-01", "frequency": "weekly", "count": 0}, "count"),
    ("find_schedule_conflicts", {"events": []}, "at least two"),
    ("volumetric_weight", {"length_cm": 0, "width_cm": 1, "height_cm": 1}, "length_cm"),
    ("chargeable_weight", {"actual_weight_kg": 0, "length_cm": 1, "width_cm": 1, "height_cm": 1}, "actual_weight_kg"),
    ("route_total_time", {"legs": [{"distance_km": 10, "speed_kmh": 0}]}, "speed_kmh"),
    ("route_distance_through_stops", {"stops": [{"name": "A", "latitude": 0, "longitude": 0}]}, "at least two"),
    ("plan_truck_loads", {"items": [{"name": "huge", "weight_kg": 2000, "volume_m3": 1}], "max_weight_kg": 1000, "max_volume_m3": 8},
     "does not fit"),
    ("boxes_per_pallet_layer", {"pallet_length_cm": 120, "pallet_width_cm": 80, "box_length_cm": 0, "box_width_cm": 30}, "box_length_cm"),
    ("pallets_needed", {"box_count": 10, "boxes_per_layer": 0, "layers_per_pallet": 5}, "boxes_per_layer"),
    ("container_capacity_check", {"container": "20ft", "unit_volume_m3": 1, "unit_weight_kg": 1, "fill_factor": 1.5}, "fill_factor"),
    ("delivery_eta", {"dispatch_time": "2025-03-01T08:00", "distance_km": 100, "average_speed_kmh": 50, "driving_hours_per_day": 0},
     "driving_hours_per_day"),
    ("mortgage_monthly_housing_cost", {"home_price": 100000, "down_payment": 100000, "annual_rate_percent": 5}, "down_payment"),
    ("mortgage_yearly_amortization", {"principal": 0, "annual_rate_percent": 5}, "principal"),
    ("affordable_home_price", {"monthly_budget": 0, "annual_rate_percent": 5}, "monthly_budget"),
    ("rent_vs_buy_comparison", {"home_price": 1, "monthly_rent": 1, "annual_rate_percent": 5, "horizon_years": 40}, "horizon_years"),
    ("price_per_area", {"price": 100, "area": 0}, "area"),
    ("rental_yield", {"property_price": 0, "monthly_rent": 1}, "property_price"),
    ("down_payment_and_closing", {"home_price": 100, "down_payment_percent": 120}, "down_payment_percent"),
    ("loan_to_value_ratio", {"loan_amount": 1, "appraised_value": 0}, "appraised_value"),
    ("appliance_energy_cost", {"watts": 100, "hours_per_day": 25, "price_per_kwh": 0.2}, "hours_per_day"),
    ("tiered_electricity_bill", {"kwh_used": 10, "tiers": [{"up_to_kwh": 100, "price_per_kwh": 0.1}]}, "last tier"),
    ("solar_output_estimate", {"system_kw": 0, "peak_sun_hours": 4}, "system_kw"),
    ("solar_payback_years", {"system_cost": 0, "yearly_kwh": 1, "price_per_kwh": 1}, "system_cost"),
    ("trip_carbon_footprint", {"distance_km": 10, "mode": "teleport"}, "mode"),
    ("fuel_combustion_co2", {"litres": -1}, "litres"),
    ("convert_energy_units", {"value": 1, "from_unit": "kwh", "to_unit": "joule"}, "to_unit"),
    ("led_upgrade_savings", {"old_watts": 9, "new_watts": 60, "bulbs": 1, "hours_per_day": 1, "price_per_kwh": 1}, "new_watts"),
    ("net_pay_from_gross", {"gross_pay": 100, "income_tax_percent": 150}, "income_tax_percent"),
    ("overtime_pay", {"hourly_rate": 20, "hours_worked": 45, "overtime_multiplier": 0.5}, "overtime_multiplier"),
    ("weekly_overtime_hours", {"daily_hours": [8] * 8}, "at most 7"),
    ("progressive_tax_amount", {"taxable_income": 100, "brackets": [{"up_to": 50, "rate_percent": 10}]}, "top bracket"),
    ("leave_balance_accrued", {"start_date": "2025-01-01", "as_of_date": "2024-01-01", "days_per_year": 20}, "before"),
    ("prorated_salary", {"annual_salary": 1000, "start_date": "2025-02-01", "end_date": "2025-01-01"}, "before"),
    ("annual_salary_to_hourly", {"annual_salary": 0}, "annual_salary"),
    ("hourly_rate_to_annual", {"hourly_rate": -2}, "hourly_rate"),
    ("employer_total_cost", {"gross_salary": 1000, "employer_contribution_percent": 200}, "employer_contribution_percent"),
    ("计算个税", {"monthly_income": -1}, "monthly_income"),
    ("年终奖个税", {"bonus": -1}, "bonus"),
    ("人民币大写金额", {"金额": -5}, "金额"),
    ("数字转中文", {"数字": "很多"}, "数字"),
    ("中文数字转阿拉伯数字", {"text": "hello"}, "无法识别"),
    ("查询生肖", {"year": 0}, "year"),
    ("干支纪年", {"year": -3}, "year"),
    ("汉字笔画数", {"text": "龘"}, "笔画表中没有"),
    ("按姓氏笔画排序", {"names": []}, "names"),
    ("快递费估算", {"weight_kg": 1, "region": "海外"}, "region"),
    ("身份证号码解析", {"id_number": "110105194912310021"}, "身份证号码无效"),
    ("身份证校验码计算", {"first_17_digits": "123"}, "17"),
    ("installment_plan", {"total_price": 100, "installments": 4, "down_payment": 150}, "down_payment"),
    ("smallest_prefix_for_hosts", {"host_count": 0}, "host_count"),
    ("attendance_rate", {"sessions_held": 10, "sessions_attended": 12}, "exceed"),
    ("countries_using_currency", {"currency_code": "XYZ"}, "no country"),
    ("password_policy_check", {"password": "x", "min_length": 0}, "min_length"),
    ("split_into_time_blocks", {"start": "11:00", "end": "09:00", "block_minutes": 25}, "end must be after"),
    ("ev_charging_cost", {"battery_kwh": 60, "price_per_kwh": 0.3, "from_percent": 80, "to_percent": 20}, "to_percent"),
    ("ev_charging_time", {"battery_kwh": 60, "charger_kw": 0}, "charger_kw"),
]  # fmt: skip


def _check(expected, content: str) -> None:
    if isinstance(expected, str):
        assert content == expected
        return
    result = json.loads(content)
    if callable(expected):
        assert expected(result), result
    else:
        for key, value in expected.items():
            assert result[key] == value, (key, result)


@pytest.mark.parametrize(
    ("name", "arguments", "expected"), VALID, ids=[f"{c[0]}-{i}" for i, c in enumerate(VALID)]
)
def test_valid_call(name, arguments, expected):
    obs = BOX.execute({"name": name, "arguments": arguments})
    assert obs.ok, obs.content
    _check(expected, obs.content)


@pytest.mark.parametrize(
    ("name", "arguments", "words"), INVALID, ids=[f"{c[0]}-{i}" for i, c in enumerate(INVALID)]
)
def test_bad_input_is_a_clear_error(name, arguments, words):
    obs = BOX.execute({"name": name, "arguments": arguments})
    assert not obs.ok
    assert obs.content.startswith("Error:")
    assert words in obs.content, obs.content


def test_every_executable_tool_has_a_valid_and_an_invalid_case():
    names = {t.name for t in EXECUTABLE}
    assert names == {c[0] for c in VALID}
    assert names == {c[0] for c in INVALID}


def test_seeded_password_is_reproducible_and_uses_every_class():
    a = BOX.execute({"name": "generate_seeded_password", "arguments": {"seed": 7, "length": 12}}).content
    b = BOX.execute({"name": "generate_seeded_password", "arguments": {"seed": 7, "length": 12}}).content
    c = BOX.execute({"name": "generate_seeded_password", "arguments": {"seed": 8, "length": 12}}).content
    assert a == b != c
    pw = json.loads(a)["password"]
    assert (
        any(ch.islower() for ch in pw) and any(ch.isupper() for ch in pw) and any(ch.isdigit() for ch in pw)
    )


def test_ciphers_round_trip():
    text = "Meet me at Noon, 12:00!"
    enc = BOX.execute({"name": "vigenere_cipher", "arguments": {"text": text, "key": "Secret"}}).content
    dec = BOX.execute(
        {"name": "vigenere_cipher", "arguments": {"text": enc, "key": "Secret", "mode": "decrypt"}}
    ).content
    assert enc != text and dec == text


@pytest.mark.parametrize("lt", SIMULATED, ids=lambda t: t.name)
def test_simulated_specs_are_well_formed(lt):
    spec = normalize_spec(lt.tool.spec())
    params = spec["function"]["parameters"]
    assert spec["function"]["description"]
    assert params["properties"]
    assert set(params.get("required", [])) <= set(params["properties"])
    for name, schema in params["properties"].items():
        assert schema.get("description"), f"{lt.name}.{name} has no description"
    obs = Toolbox([lt.tool]).execute({"name": lt.name, "arguments": {}})
    assert not obs.ok  # no implementation: the teacher simulates the result


@pytest.mark.parametrize("lt", EXECUTABLE, ids=lambda t: t.name)
def test_executable_tools_document_every_parameter(lt):
    assert lt.tool.description
    for name, schema in lt.tool.parameters["properties"].items():
        assert schema.get("description"), f"{lt.name}.{name} has no description"


def test_counts_and_shares():
    assert {t.domain for t in TOOLS} == set(DOMAINS)
    assert len(TOOLS) >= 150
    assert len(EXECUTABLE) >= 0.8 * len(TOOLS)
    for domain in DOMAINS:
        tools = [t for t in TOOLS if t.domain == domain]
        assert 6 <= len(tools) <= 14, (domain, len(tools))
        if domain in SIMULATED_ONLY:
            assert all(t.simulated for t in tools), domain
    assert {t.domain for t in TOOLS if t.lang == "zh"} == {"zh_services"}
    assert all(t.lang == "zh" for t in TOOLS if t.domain == "zh_services")
