"""Time zones: UTC offsets of cities, time conversion, differences, daylight saving and meeting overlaps.

Cities map to IANA zones through a fixed offline table; offsets on a given date come from the
tz database (:mod:`zoneinfo`), so daylight saving is applied. No tool reads the clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from ....tools import tool
from ._spec import array, boolean, function_spec, number, string

DOMAIN = "time_zones"

#: city → IANA time zone (a fixed offline table)
CITY_ZONES = {
    "London": "Europe/London",
    "Paris": "Europe/Paris",
    "Berlin": "Europe/Berlin",
    "Madrid": "Europe/Madrid",
    "Moscow": "Europe/Moscow",
    "Istanbul": "Europe/Istanbul",
    "Cairo": "Africa/Cairo",
    "Lagos": "Africa/Lagos",
    "Nairobi": "Africa/Nairobi",
    "Johannesburg": "Africa/Johannesburg",
    "Dubai": "Asia/Dubai",
    "Mumbai": "Asia/Kolkata",
    "Kathmandu": "Asia/Kathmandu",
    "Bangkok": "Asia/Bangkok",
    "Singapore": "Asia/Singapore",
    "Beijing": "Asia/Shanghai",
    "Shanghai": "Asia/Shanghai",
    "Hong Kong": "Asia/Hong_Kong",
    "Tokyo": "Asia/Tokyo",
    "Seoul": "Asia/Seoul",
    "Sydney": "Australia/Sydney",
    "Adelaide": "Australia/Adelaide",
    "Auckland": "Pacific/Auckland",
    "Honolulu": "Pacific/Honolulu",
    "Anchorage": "America/Anchorage",
    "Los Angeles": "America/Los_Angeles",
    "Denver": "America/Denver",
    "Chicago": "America/Chicago",
    "New York": "America/New_York",
    "Toronto": "America/Toronto",
    "Mexico City": "America/Mexico_City",
    "Bogota": "America/Bogota",
    "Sao Paulo": "America/Sao_Paulo",
    "Buenos Aires": "America/Argentina/Buenos_Aires",
    "Reykjavik": "Atlantic/Reykjavik",
}
_REGIONS = {
    "Europe": "europe",
    "Africa": "africa",
    "Asia": "asia",
    "Australia": "oceania",
    "Pacific": "oceania",
    "America": "americas",
    "Atlantic": "europe",
}


def _zone(city: str) -> ZoneInfo:
    key = {c.casefold(): z for c, z in CITY_ZONES.items()}.get(city.strip().casefold())
    if key is None:
        raise ValueError(f"unknown city {city!r}; known cities: {', '.join(CITY_ZONES)}")
    return ZoneInfo(key)


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError as e:
        raise ValueError(f"{text!r} is not a time of day in 24-hour HH:MM form") from e


def _offset_hours(moment: datetime) -> float:
    return moment.utcoffset().total_seconds() / 3600  # type: ignore[union-attr]


def _local(city: str, on_date: date, at: time = time(12)) -> datetime:
    return datetime.combine(on_date, at, tzinfo=_zone(city))


@tool
def list_supported_cities(
    region: Literal["all", "europe", "africa", "asia", "oceania", "americas"] = "all",
) -> dict:
    """The cities the time-zone tools know, optionally only one region's.

    Args:
        region: Part of the world to list.
    """
    cities = [c for c, z in CITY_ZONES.items() if region == "all" or _REGIONS[z.split("/")[0]] == region]
    return {"region": region, "cities": cities}


@tool
def city_utc_offset(city: str, on_date: date) -> dict:
    """A city's UTC offset, zone abbreviation and daylight-saving status on a given date.

    Args:
        city: City name from the supported list.
        on_date: The date the offset applies to.
    """
    local = _local(city, on_date)
    return {
        "city": city,
        "zone": str(local.tzinfo),
        "utc_offset_hours": _offset_hours(local),
        "abbreviation": local.tzname(),
        "daylight_saving": bool(local.dst()),
    }


@tool
def convert_time_between_cities(local_time: str, on_date: date, from_city: str, to_city: str) -> dict:
    """The local time in one city that corresponds to a given local time in another.

    Args:
        local_time: Time of day in the first city, 24-hour HH:MM.
        on_date: Date in the first city.
        from_city: The city whose local time is given.
        to_city: The city to convert to.
    """
    start = _local(from_city, on_date, _clock(local_time))
    there = start.astimezone(_zone(to_city))
    return {
        "time": there.strftime("%H:%M"),
        "date": there.date().isoformat(),
        "day_shift": (there.date() - on_date).days,
    }


@tool
def time_difference_between_cities(city_a: str, city_b: str, on_date: date) -> dict:
    """How many hours one city's clocks are ahead of another's on a given date.

    Args:
        city_a: The first city.
        city_b: The second city.
        on_date: The date (daylight saving may change the answer).
    """
    diff = _offset_hours(_local(city_b, on_date)) - _offset_hours(_local(city_a, on_date))
    return {
        "hours_b_ahead_of_a": diff,
        "summary": f"{city_b} is {abs(diff):g} h {'ahead of' if diff >= 0 else 'behind'} {city_a}",
    }


@tool
def world_clock(utc_time: str, on_date: date, cities: list[str]) -> dict:
    """The local date and time in several cities at one moment given in UTC.

    Args:
        utc_time: Time of day in UTC, 24-hour HH:MM.
        on_date: Date in UTC.
        cities: The cities to show.
    """
    if not cities:
        raise ValueError("cities must not be empty")
    moment = datetime.combine(on_date, _clock(utc_time), tzinfo=ZoneInfo("UTC"))
    rows = []
    for c in cities:
        local = moment.astimezone(_zone(c))
        rows.append(
            {
                "city": c,
                "time": local.strftime("%H:%M"),
                "date": local.date().isoformat(),
                "abbreviation": local.tzname(),
            }
        )
    return {"utc": moment.strftime("%Y-%m-%d %H:%M"), "cities": rows}


@tool
def meeting_time_overlap(
    cities: list[str], on_date: date, workday_start: str = "09:00", workday_end: str = "17:00"
) -> dict:
    """The hours of a date when working hours overlap in every given city, in UTC and in each city's local time.

    Args:
        cities: The participants' cities.
        on_date: The date of the meeting (each city's local date).
        workday_start: Start of working hours, local 24-hour HH:MM.
        workday_end: End of working hours, local 24-hour HH:MM.
    """
    if len(cities) < 2:
        raise ValueError("give at least two cities")
    start_t, end_t = _clock(workday_start), _clock(workday_end)
    if end_t <= start_t:
        raise ValueError("workday_end must be after workday_start")
    starts = [_local(c, on_date, start_t).astimezone(ZoneInfo("UTC")) for c in cities]
    ends = [_local(c, on_date, end_t).astimezone(ZoneInfo("UTC")) for c in cities]
    begin, finish = max(starts), min(ends)
    if finish <= begin:
        return {"overlap": False, "hours": 0}
    local = [
        {
            "city": c,
            "from": begin.astimezone(_zone(c)).strftime("%H:%M"),
            "to": finish.astimezone(_zone(c)).strftime("%H:%M"),
        }
        for c in cities
    ]
    return {
        "overlap": True,
        "hours": round((finish - begin) / timedelta(hours=1), 2),
        "utc_from": begin.strftime("%Y-%m-%d %H:%M"),
        "utc_to": finish.strftime("%Y-%m-%d %H:%M"),
        "local": local,
    }


@tool
def next_daylight_saving_change(city: str, from_date: date) -> dict:
    """The next date within a year on which a city's clocks change for daylight saving, and by how much.

    Args:
        city: The city.
        from_date: The date to search from.
    """
    zone = _zone(city)
    before = _offset_hours(datetime.combine(from_date, time(12), tzinfo=zone))
    for n in range(1, 367):
        day = from_date + timedelta(days=n)
        after = _offset_hours(datetime.combine(day, time(12), tzinfo=zone))
        if after != before:
            return {
                "changes": True,
                "date": day.isoformat(),
                "offset_before": before,
                "offset_after": after,
                "shift_hours": after - before,
            }
    return {"changes": False, "utc_offset_hours": before}


TOOLS = [
    list_supported_cities,
    city_utc_offset,
    convert_time_between_cities,
    time_difference_between_cities,
    world_clock,
    meeting_time_overlap,
    next_daylight_saving_change,
]

SPECS = [
    function_spec(
        "schedule_calendar_meeting",
        "Create a meeting in the shared calendar and send invitations to the attendees.",
        {
            "title": string("Title of the meeting."),
            "start_utc": string("Start date and time in UTC, ISO 8601."),
            "duration_minutes": number("Length of the meeting in minutes.", integer=True),
            "attendees": array("Email addresses of the attendees.", {"type": "string"}),
            "video_link": boolean("Attach a video-call link.", default=True),
        },
        ["title", "start_utc", "duration_minutes", "attendees"],
    ),
]
