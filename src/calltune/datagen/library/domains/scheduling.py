"""Scheduling: free meeting slots in given calendars, busy-time sums, time blocks, shift rotas,
recurring dates and conflicts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import not_empty, positive

DOMAIN = "scheduling"


class TimeBlock(BaseModel):
    """A span of time within one day."""

    start: time = Field(description="Start time of day.")
    end: time = Field(description="End time of day, after the start.")


class PersonCalendar(BaseModel):
    """One person's busy times on the day considered."""

    person: str = Field(description="Name of the person.")
    busy: list[TimeBlock] = Field(description="The person's busy blocks.")


class Event(BaseModel):
    """A calendar event with a title and start and end date-times."""

    title: str = Field(description="Title of the event.")
    start: datetime = Field(description="Start date and time.")
    end: datetime = Field(description="End date and time.")


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _clock(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _merged(blocks: list[TimeBlock]) -> list[tuple[int, int]]:
    spans = []
    for b in blocks:
        if b.end <= b.start:
            raise ValueError(f"block {b.start}-{b.end} ends before it starts")
        spans.append((_minutes(b.start), _minutes(b.end)))
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _free_slots(
    calendars: list[PersonCalendar], day_start: time, day_end: time, duration: int
) -> list[tuple[int, int]]:
    not_empty(calendars=calendars)
    positive(duration_minutes=duration)
    if day_end <= day_start:
        raise ValueError("day_end must be after day_start")
    free, cursor, end = [], _minutes(day_start), _minutes(day_end)
    for s, e in _merged([b for c in calendars for b in c.busy]):
        if s >= end:
            break
        if s - cursor >= duration:
            free.append((cursor, s))
        cursor = max(cursor, e)
    if end - cursor >= duration:
        free.append((cursor, end))
    return free


@tool
def find_common_free_slots(
    calendars: list[PersonCalendar],
    duration_minutes: int,
    day_start: time = time(9),
    day_end: time = time(17),
) -> dict:
    """All free windows, within working hours, long enough for a meeting of everyone in the given calendars.

    Args:
        calendars: Each participant's busy blocks for the day.
        duration_minutes: Length of the meeting in minutes.
        day_start: Start of the working day.
        day_end: End of the working day.
    """
    slots = _free_slots(calendars, day_start, day_end, duration_minutes)
    return {"slots": [{"start": _clock(s), "end": _clock(e)} for s, e in slots], "count": len(slots)}


@tool
def earliest_common_meeting_slot(
    calendars: list[PersonCalendar],
    duration_minutes: int,
    day_start: time = time(9),
    day_end: time = time(17),
) -> dict:
    """The earliest start time at which everyone in the given calendars is free for a meeting of a given length.

    Args:
        calendars: Each participant's busy blocks for the day.
        duration_minutes: Length of the meeting in minutes.
        day_start: Start of the working day.
        day_end: End of the working day.
    """
    slots = _free_slots(calendars, day_start, day_end, duration_minutes)
    if not slots:
        return {"found": False}
    s = slots[0][0]
    return {"found": True, "start": _clock(s), "end": _clock(s + duration_minutes)}


@tool
def merge_busy_blocks(blocks: list[TimeBlock]) -> dict:
    """Merge overlapping or touching time blocks into the fewest non-overlapping blocks.

    Args:
        blocks: The time blocks, in any order.
    """
    not_empty(blocks=blocks)
    return {"blocks": [{"start": _clock(s), "end": _clock(e)} for s, e in _merged(blocks)]}


@tool
def total_time_block_hours(blocks: list[TimeBlock], count_overlap_once: bool = True) -> dict:
    """Total length of a list of time blocks, in hours and minutes.

    Args:
        blocks: The time blocks.
        count_overlap_once: Count time covered by several blocks once; otherwise add every block's length.
    """
    not_empty(blocks=blocks)
    spans = _merged(blocks) if count_overlap_once else [(s, e) for s, e in (_merged([b])[0] for b in blocks)]
    minutes = sum(e - s for s, e in spans)
    return {"total_minutes": minutes, "hours": round(minutes / 60, 2)}


@tool
def build_shift_rota(
    staff: list[str], start_date: date, days: int, shifts: list[str] | None = None, staff_per_shift: int = 1
) -> dict:
    """A round-robin shift rota: staff take turns through the shifts of each day.

    Args:
        staff: Names of the staff, in rotation order.
        start_date: First day of the rota.
        days: Number of days to plan.
        shifts: Names of the shifts of a day; one day shift when omitted.
        staff_per_shift: People needed on each shift.
    """
    not_empty(staff=staff)
    positive(days=days, staff_per_shift=staff_per_shift)
    if days > 62:
        raise ValueError("plan at most 62 days at once")
    names = shifts or ["day"]
    if staff_per_shift * len(names) > len(staff):
        raise ValueError("not enough staff to fill every shift of a day without double shifts")
    rota, turn = [], 0
    for d in range(days):
        day = {"date": (start_date + timedelta(days=d)).isoformat(), "shifts": {}}
        for shift in names:
            day["shifts"][shift] = [staff[(turn + k) % len(staff)] for k in range(staff_per_shift)]
            turn += staff_per_shift
        rota.append(day)
    load = {p: sum(p in people for day in rota for people in day["shifts"].values()) for p in staff}
    return {"rota": rota, "shifts_per_person": load}


@tool
def recurring_event_dates(
    start_date: date,
    frequency: Literal["daily", "weekly", "monthly"],
    count: int,
    interval: int = 1,
    skip_weekends: bool = False,
) -> dict:
    """The dates of a recurring event (monthly dates that do not exist move to the month's last day).

    Args:
        start_date: Date of the first occurrence.
        frequency: How often it repeats.
        count: Number of occurrences to list.
        interval: Repeat every this many days, weeks or months.
        skip_weekends: Leave out occurrences that fall on a Saturday or Sunday.
    """
    positive(count=count, interval=interval)
    if count > 366:
        raise ValueError("list at most 366 occurrences")
    out: list[str] = []
    n = 0
    while len(out) < count and n < count * 10:
        if frequency == "monthly":
            month = start_date.month - 1 + n * interval
            year, month = start_date.year + month // 12, month % 12 + 1
            nxt = date(year, month % 12 + 1, 1) if month < 12 else date(year + 1, 1, 1)
            d = min(date(year, month, 1) + timedelta(days=start_date.day - 1), nxt - timedelta(days=1))
        else:
            d = start_date + timedelta(days=n * interval * (7 if frequency == "weekly" else 1))
        n += 1
        if skip_weekends and d.weekday() >= 5:
            continue
        out.append(d.isoformat())
    return {"dates": out}


@tool
def split_into_time_blocks(start: time, end: time, block_minutes: int, break_minutes: int = 0) -> dict:
    """Cut a stretch of time into equal work blocks separated by breaks (time-boxing); a last block that
    would not fit whole is left out.

    Args:
        start: When the first block starts.
        end: When the last block must have ended.
        block_minutes: Length of each work block in minutes.
        break_minutes: Break between two blocks in minutes.
    """
    positive(block_minutes=block_minutes)
    if break_minutes < 0:
        raise ValueError(f"break_minutes must not be negative, got {break_minutes}")
    if end <= start:
        raise ValueError("end must be after start")
    blocks, cursor, stop = [], _minutes(start), _minutes(end)
    while cursor + block_minutes <= stop:
        blocks.append({"start": _clock(cursor), "end": _clock(cursor + block_minutes)})
        cursor += block_minutes + break_minutes
    return {"blocks": blocks, "count": len(blocks), "work_minutes": len(blocks) * block_minutes}


@tool
def find_schedule_conflicts(events: list[Event]) -> dict:
    """Pairs of events that overlap in time.

    Args:
        events: The events to check.
    """
    if len(events) < 2:
        raise ValueError("give at least two events")
    for e in events:
        if e.end <= e.start:
            raise ValueError(f"event {e.title!r} ends before it starts")
    ordered = sorted(events, key=lambda e: e.start)
    pairs = [
        {
            "first": a.title,
            "second": b.title,
            "overlap_minutes": int((min(a.end, b.end) - b.start).total_seconds() // 60),
        }
        for i, a in enumerate(ordered)
        for b in ordered[i + 1 :]
        if b.start < a.end
    ]
    return {"conflicts": pairs, "count": len(pairs)}


TOOLS = [
    find_common_free_slots,
    earliest_common_meeting_slot,
    merge_busy_blocks,
    total_time_block_hours,
    build_shift_rota,
    recurring_event_dates,
    split_into_time_blocks,
    find_schedule_conflicts,
]
