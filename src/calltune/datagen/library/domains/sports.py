"""Sports: running and swimming paces, race-time prediction, bowling and tennis scoring, Elo ratings and league tables."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import non_negative, positive
from ._spec import boolean, function_spec, string

DOMAIN = "sports"

KM_PER_MILE = 1.609344
DistanceUnit = Literal["km", "mi"]


class MatchResult(BaseModel):
    """The final score of one match."""

    home_team: str = Field(description="Name of the home team.")
    away_team: str = Field(description="Name of the away team.")
    home_goals: int = Field(ge=0, description="Goals scored by the home team.")
    away_goals: int = Field(ge=0, description="Goals scored by the away team.")


def _clock(seconds: float) -> str:
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _seconds(hours: int, minutes: int, seconds: float) -> float:
    non_negative(hours=hours, minutes=minutes, seconds=seconds)
    total = hours * 3600 + minutes * 60 + seconds
    positive(total_time=total)
    return total


@tool
def running_pace(
    distance: float, hours: int = 0, minutes: int = 0, seconds: float = 0, distance_unit: DistanceUnit = "km"
) -> dict:
    """Pace per kilometer and per mile, and average speed, from a distance and a finishing time.

    Args:
        distance: Distance covered.
        hours: Hours of the finishing time.
        minutes: Minutes of the finishing time.
        seconds: Seconds of the finishing time.
        distance_unit: Unit of the distance.
    """
    positive(distance=distance)
    km = distance * (KM_PER_MILE if distance_unit == "mi" else 1)
    total = _seconds(hours, minutes, seconds)
    return {
        "pace_per_km": _clock(total / km),
        "pace_per_mile": _clock(total / km * KM_PER_MILE),
        "speed_kmh": round(km / total * 3600, 2),
    }


@tool
def finish_time_from_pace(
    distance: float, pace_minutes: int, pace_seconds: int = 0, distance_unit: DistanceUnit = "km"
) -> dict:
    """Finishing time for a distance run at a steady pace (the pace is per unit of the distance).

    Args:
        distance: Distance to run.
        pace_minutes: Minutes per kilometer or mile.
        pace_seconds: Extra seconds of the pace.
        distance_unit: Unit of the distance and of the pace.
    """
    positive(distance=distance)
    per_unit = _seconds(0, pace_minutes, pace_seconds)
    return {"finish_time": _clock(per_unit * distance), "total_seconds": round(per_unit * distance)}


@tool
def predict_race_time(
    known_distance_km: float,
    known_time_seconds: float,
    target_distance_km: float,
    fatigue_exponent: float = 1.06,
) -> dict:
    """Predict a race time at a new distance from a recent result (Riegel's formula).

    Args:
        known_distance_km: Distance of the race already run, in kilometers.
        known_time_seconds: Time of that race in seconds.
        target_distance_km: Distance to predict, in kilometers.
        fatigue_exponent: How strongly the pace slows with distance.
    """
    positive(
        known_distance_km=known_distance_km,
        known_time_seconds=known_time_seconds,
        target_distance_km=target_distance_km,
    )
    t = known_time_seconds * (target_distance_km / known_distance_km) ** fatigue_exponent
    return {
        "predicted_time": _clock(t),
        "predicted_seconds": round(t),
        "pace_per_km": _clock(t / target_distance_km),
    }


@tool
def swimming_pace_per_100m(distance_m: float, total_seconds: float) -> dict:
    """Average swimming pace per 100 meters from a distance and a time.

    Args:
        distance_m: Distance swum in meters.
        total_seconds: Time taken in seconds.
    """
    positive(distance_m=distance_m, total_seconds=total_seconds)
    return {
        "pace_per_100m": _clock(total_seconds / distance_m * 100),
        "speed_mps": round(distance_m / total_seconds, 3),
    }


@tool
def bowling_score(rolls: list[int]) -> dict:
    """Score of a ten-pin bowling game from the pins knocked down by each roll, with frame-by-frame totals.

    Args:
        rolls: Pins knocked down by each roll in order; a game in progress is scored up to its last complete frame.
    """
    if any(not 0 <= r <= 10 for r in rolls):
        raise ValueError("each roll knocks down between 0 and 10 pins")
    frames, i = [], 0
    while len(frames) < 10 and i < len(rolls):
        first = rolls[i]
        if first == 10:
            bonus = rolls[i + 1 : i + 3]
            step = 1
        else:
            if i + 1 >= len(rolls):
                break
            if first + rolls[i + 1] > 10:
                raise ValueError(f"frame {len(frames) + 1} knocks down more than 10 pins")
            bonus = rolls[i + 2 : i + 3] if first + rolls[i + 1] == 10 else []
            step = 2
        needed = 2 if first == 10 else (1 if first + rolls[i + 1] == 10 else 0)
        if len(bonus) < needed:
            break
        frames.append(sum(rolls[i : i + step]) + sum(bonus))
        i += step
    running, totals = 0, []
    for f in frames:
        running += f
        totals.append(running)
    return {
        "score": running,
        "frames_scored": len(frames),
        "frame_totals": totals,
        "complete": len(frames) == 10,
    }


@tool
def tennis_set_score(point_winners: list[Literal["player1", "player2"]]) -> dict:
    """Games in the current set and the score in the current game, from the winner of each point in order.

    Args:
        point_winners: Who won each point, in order; a set at 6-6 is decided by a tie-break to 7.
    """
    games = [0, 0]
    points = [0, 0]
    finished: list[str] = []
    for w in point_winners:
        if finished:
            raise ValueError("the set was already over before the last points")
        p = 0 if w == "player1" else 1
        points[p] += 1
        tiebreak = games == [6, 6]
        target = 7 if tiebreak else 4
        if points[p] >= target and points[p] - points[1 - p] >= 2:
            games[p] += 1
            points = [0, 0]
            if (games[p] >= 6 and games[p] - games[1 - p] >= 2) or tiebreak:
                finished.append(w)
    names = ["0", "15", "30", "40"]
    if games == [6, 6]:
        game = f"tie-break {points[0]}-{points[1]}"
    elif points[0] >= 3 and points[1] >= 3:
        game = (
            "deuce"
            if points[0] == points[1]
            else f"advantage {'player1' if points[0] > points[1] else 'player2'}"
        )
    else:
        game = f"{names[points[0]]}-{names[points[1]]}"
    return {
        "games": {"player1": games[0], "player2": games[1]},
        "current_game": game,
        "set_winner": finished[0] if finished else None,
    }


@tool
def elo_rating_update(
    rating_a: float, rating_b: float, result_for_a: Literal["win", "draw", "loss"], k_factor: float = 32.0
) -> dict:
    """New Elo ratings of two players after a game, and A's expected score before it.

    Args:
        rating_a: Player A's rating before the game.
        rating_b: Player B's rating before the game.
        result_for_a: The game's result from player A's side.
        k_factor: Largest possible rating change per game.
    """
    positive(k_factor=k_factor)
    expected = 1 / (1 + 10 ** ((rating_b - rating_a) / 400))
    score = {"win": 1.0, "draw": 0.5, "loss": 0.0}[result_for_a]
    change = k_factor * (score - expected)
    return {
        "expected_score_a": round(expected, 4),
        "new_rating_a": round(rating_a + change, 1),
        "new_rating_b": round(rating_b - change, 1),
    }


@tool
def league_standings(matches: list[MatchResult], points_for_win: int = 3, points_for_draw: int = 1) -> dict:
    """League table from match results, ranked by points, then goal difference, then goals scored.

    Args:
        matches: Results of the matches played.
        points_for_win: Points a win is worth.
        points_for_draw: Points a draw is worth.
    """
    if not matches:
        raise ValueError("matches must not be empty")
    table: dict[str, dict] = {}
    for m in matches:
        if m.home_team == m.away_team:
            raise ValueError(f"{m.home_team} cannot play itself")
        for team, scored, conceded in (
            (m.home_team, m.home_goals, m.away_goals),
            (m.away_team, m.away_goals, m.home_goals),
        ):
            row = table.setdefault(
                team,
                {
                    "team": team,
                    "played": 0,
                    "won": 0,
                    "drawn": 0,
                    "lost": 0,
                    "goals_for": 0,
                    "goals_against": 0,
                    "points": 0,
                },
            )
            row["played"] += 1
            row["goals_for"] += scored
            row["goals_against"] += conceded
            outcome = "won" if scored > conceded else "drawn" if scored == conceded else "lost"
            row[outcome] += 1
            row["points"] += {"won": points_for_win, "drawn": points_for_draw, "lost": 0}[outcome]
    rows = sorted(
        table.values(),
        key=lambda r: (-r["points"], r["goals_against"] - r["goals_for"], -r["goals_for"], r["team"]),
    )
    return {
        "standings": [
            {"position": i + 1, **r, "goal_difference": r["goals_for"] - r["goals_against"]}
            for i, r in enumerate(rows)
        ]
    }


@tool
def cricket_run_rate(runs: int, overs: str) -> dict:
    """Runs per over of a cricket innings, with overs written as overs.balls.

    Args:
        runs: Runs scored.
        overs: Overs bowled, with the balls of an unfinished over after the point (0 to 5).
    """
    non_negative(runs=runs)
    whole, _, balls = overs.strip().partition(".")
    if not whole.isdigit() or (balls and (not balls.isdigit() or int(balls) > 5)):
        raise ValueError(f"overs must look like 12 or 12.3 with 0 to 5 balls after the point, got {overs!r}")
    total_balls = int(whole) * 6 + int(balls or 0)
    positive(balls_bowled=total_balls)
    return {"run_rate": round(runs * 6 / total_balls, 2), "balls": total_balls}


TOOLS = [
    running_pace,
    finish_time_from_pace,
    predict_race_time,
    swimming_pace_per_100m,
    bowling_score,
    tennis_set_score,
    elo_rating_update,
    league_standings,
    cricket_run_rate,
]

SPECS = [
    function_spec(
        "get_live_match_score",
        "The live or final score of a team's current or most recent match, with the scorers.",
        {
            "team": string("Team name."),
            "sport": string(
                "The sport.", enum=["football", "basketball", "cricket", "rugby", "ice_hockey", "baseball"]
            ),
            "include_events": boolean("Also list goals, cards and substitutions.", default=False),
        },
        ["team", "sport"],
    ),
]
