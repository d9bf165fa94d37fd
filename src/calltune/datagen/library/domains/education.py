"""Education: grade averages, GPA, letter grades, quiz scoring and class statistics."""

from __future__ import annotations

import statistics
from typing import Literal

from pydantic import BaseModel, Field

from ....tools import tool
from ._checks import non_negative, not_empty, percent, positive

DOMAIN = "education"

Letter = Literal["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"]
# grade points of the common US 4.0 scale (fixed table); the 4.3 scale gives A+ 4.3
_POINTS = {
    "A+": 4.0,
    "A": 4.0,
    "A-": 3.7,
    "B+": 3.3,
    "B": 3.0,
    "B-": 2.7,
    "C+": 2.3,
    "C": 2.0,
    "C-": 1.7,
    "D+": 1.3,
    "D": 1.0,
    "D-": 0.7,
    "F": 0.0,
}
_CUTOFFS = [
    (97, "A+"),
    (93, "A"),
    (90, "A-"),
    (87, "B+"),
    (83, "B"),
    (80, "B-"),
    (77, "C+"),
    (73, "C"),
    (70, "C-"),
    (67, "D+"),
    (63, "D"),
    (60, "D-"),
]


class GradedComponent(BaseModel):
    """One graded part of a course and its weight."""

    name: str = Field(description="Name of the component.")
    score: float = Field(description="Score obtained, as a percentage.")
    weight: float = Field(description="Weight of the component in the final grade.")


class Course(BaseModel):
    """A finished course: its letter grade and credits."""

    name: str = Field(description="Course name.")
    grade: Letter = Field(description="Letter grade received.")
    credits: float = Field(description="Credit hours of the course.")


def _scores(scores: list[float]) -> None:
    not_empty(scores=scores)
    for s in scores:
        non_negative(score=s)


@tool
def average_grade(scores: list[float], drop_lowest: int = 0) -> dict:
    """Plain average of scores, optionally after dropping the lowest ones.

    Args:
        scores: The scores.
        drop_lowest: How many of the lowest scores to leave out.
    """
    _scores(scores)
    non_negative(drop_lowest=drop_lowest)
    if drop_lowest >= len(scores):
        raise ValueError("drop_lowest must leave at least one score")
    kept = sorted(scores)[drop_lowest:]
    return {"average": round(statistics.fmean(kept), 2), "counted": len(kept)}


@tool
def weighted_grade_average(components: list[GradedComponent]) -> dict:
    """Final percentage from weighted components (weights need not sum to 100).

    Args:
        components: The graded components with their scores and weights.
    """
    not_empty(components=components)
    total = sum(c.weight for c in components)
    positive(total_weight=total)
    value = sum(c.score * c.weight for c in components) / total
    return {"weighted_average": round(value, 2), "total_weight": total}


@tool
def gpa_from_letter_grades(courses: list[Course], scale: Literal["4.0", "4.3"] = "4.0") -> dict:
    """Credit-weighted grade point average from letter grades.

    Args:
        courses: The courses with their letter grades and credits.
        scale: Grade-point scale; on the 4.3 scale an A+ counts 4.3.
    """
    not_empty(courses=courses)
    credits = sum(c.credits for c in courses)
    positive(total_credits=credits)
    points = sum(
        (4.3 if scale == "4.3" and c.grade == "A+" else _POINTS[c.grade]) * c.credits for c in courses
    )
    return {"gpa": round(points / credits, 2), "credits": credits}


@tool
def letter_grade_for_score(score: float, plus_minus: bool = True) -> dict:
    """Letter grade of a percentage score on the common US scale (90 and above is an A).

    Args:
        score: The percentage score.
        plus_minus: Use plus and minus grades; plain A to F otherwise.
    """
    percent(score=score)
    letter = next((g for cut, g in _CUTOFFS if score >= cut), "F")
    if not plus_minus:
        letter = letter[0]
    return {"letter": letter, "passing": letter != "F"}


@tool
def score_quiz_answers(
    answer_key: list[str], responses: list[str], points_per_question: float = 1, penalty_per_wrong: float = 0
) -> dict:
    """Score a multiple-choice quiz against its answer key (blank responses earn nothing and lose nothing).

    Args:
        answer_key: The correct answer for each question, in order.
        responses: The student's answers, in the same order; an empty string is a blank.
        points_per_question: Points for each correct answer.
        penalty_per_wrong: Points taken off for each wrong (non-blank) answer.
    """
    not_empty(answer_key=answer_key)
    if len(responses) != len(answer_key):
        raise ValueError(f"{len(responses)} responses for {len(answer_key)} questions")
    non_negative(points_per_question=points_per_question, penalty_per_wrong=penalty_per_wrong)
    right = [
        i + 1
        for i, (k, r) in enumerate(zip(answer_key, responses, strict=True))
        if r.strip().lower() == k.strip().lower()
    ]
    blank = sum(1 for r in responses if not r.strip())
    wrong = len(answer_key) - len(right) - blank
    score = len(right) * points_per_question - wrong * penalty_per_wrong
    return {
        "correct": len(right),
        "wrong": wrong,
        "blank": blank,
        "score": score,
        "max_score": len(answer_key) * points_per_question,
    }


@tool
def required_final_exam_score(
    current_percent: float, final_weight_percent: float, target_percent: float
) -> dict:
    """Score needed on the final exam to reach a target course grade.

    Args:
        current_percent: The grade so far, as a percentage, over the non-final part.
        final_weight_percent: Weight of the final exam in the course grade, as a percentage.
        target_percent: The course grade wanted, as a percentage.
    """
    percent(current_percent=current_percent, target_percent=target_percent)
    if not 0 < final_weight_percent < 100:
        raise ValueError("final_weight_percent must be between 0 and 100 (exclusive)")
    w = final_weight_percent / 100
    need = (target_percent - current_percent * (1 - w)) / w
    return {"required_percent": round(need, 2), "achievable": need <= 100}


@tool
def curve_scores_to_mean(scores: list[float], target_mean: float, cap: float = 100) -> dict:
    """Shift every score by the same amount so that the class mean becomes a target, capping the result.

    Args:
        scores: The raw scores.
        target_mean: The mean wanted after curving.
        cap: Highest score allowed after the shift.
    """
    _scores(scores)
    shift = target_mean - statistics.fmean(scores)
    return {"shift": round(shift, 2), "curved": [round(min(cap, s + shift), 2) for s in scores]}


@tool
def attendance_rate(sessions_held: int, sessions_attended: int, required_percent: float = 80) -> dict:
    """Attendance percentage of a student and whether it meets the rate the course requires.

    Args:
        sessions_held: Sessions held so far.
        sessions_attended: Sessions the student attended.
        required_percent: Attendance the course requires, in percent.
    """
    positive(sessions_held=sessions_held)
    non_negative(sessions_attended=sessions_attended)
    percent(required_percent=required_percent)
    if sessions_attended > sessions_held:
        raise ValueError("sessions_attended cannot exceed sessions_held")
    rate = 100 * sessions_attended / sessions_held
    return {"attendance_percent": round(rate, 1), "meets_requirement": rate >= required_percent}


TOOLS = [
    average_grade,
    weighted_grade_average,
    gpa_from_letter_grades,
    letter_grade_for_score,
    score_quiz_answers,
    required_final_exam_score,
    curve_scores_to_mean,
    attendance_rate,
]
