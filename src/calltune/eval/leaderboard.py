"""BFCL v4's overall score, computed as the leaderboard computes it, and published rows to set beside it.

The formula is the one in ``bfcl_eval/eval_checker/eval_runner_helper.py``:

- *non-live* = unweighted mean of simple (itself the mean of ``simple_python``,
  ``simple_java``, ``simple_javascript``), ``multiple``, ``parallel``, ``parallel_multiple``;
- *live* = mean of ``live_simple``, ``live_multiple``, ``live_parallel``,
  ``live_parallel_multiple`` weighted by each category's number of cases (BFCL's full counts:
  258, 1053, 16, 24 — a ``--limit`` subset still weighs like the leaderboard);
- *irrelevance* = mean of ``irrelevance`` and ``live_irrelevance``;
- *multi-turn* = mean of the four multi-turn categories;
- *agentic* = mean of web search (mean of its two) and memory (mean of its three);
- *overall* = 10 % non-live + 10 % live + 10 % irrelevance + 30 % multi-turn + 40 % agentic.

A category that did not run counts as 0 in the leaderboard's means (it shows "N/A" in the
sub-score only). calltune reports both: ``overall`` (the leaderboard's number, missing
categories as 0) and, for every part, whether it is complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .bfcl_data import CATEGORIES, MULTI_TURN_CATEGORIES, NOT_RUN

#: the leaderboard's case count per live AST category (its weights)
LIVE_COUNTS: dict[str, int] = {
    "live_simple": 258,
    "live_multiple": 1053,
    "live_parallel": 16,
    "live_parallel_multiple": 24,
}
WEIGHTS: dict[str, float] = {"non_live": 10, "live": 10, "irrelevance": 10, "multi_turn": 30, "agentic": 40}
PARTS: tuple[str, ...] = ("non_live", "live", "irrelevance", "multi_turn", "agentic")


@dataclass
class Part:
    """One sub-score: its value (0–1, missing categories as 0) and which categories it lacks."""

    value: float
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def _mean(acc: dict[str, float], cats: list[str]) -> Part:
    return Part(sum(acc.get(c, 0.0) for c in cats) / len(cats), [c for c in cats if c not in acc])


def _merge(parts: list[Part]) -> Part:
    return Part(sum(p.value for p in parts) / len(parts), [m for p in parts for m in p.missing])


def overall_score(accuracy: dict[str, float]) -> dict[str, Any]:
    """``accuracy``: category → accuracy (0–1) of the categories that ran.

    Returns ``{"overall": Part, "non_live": Part, "live": Part, "irrelevance": Part,
    "multi_turn": Part, "agentic": Part, "simple": Part}`` computed as BFCL's leaderboard does."""
    simple = _mean(accuracy, ["simple_python", "simple_java", "simple_javascript"])
    rest = [_mean(accuracy, [c]) for c in ("multiple", "parallel", "parallel_multiple")]
    non_live = _merge([simple, *rest])
    live_cats = list(LIVE_COUNTS)
    total = sum(LIVE_COUNTS.values())
    live = Part(
        sum(accuracy.get(c, 0.0) * n for c, n in LIVE_COUNTS.items()) / total,
        [c for c in live_cats if c not in accuracy],
    )
    irrelevance = _mean(accuracy, ["irrelevance", "live_irrelevance"])
    multi_turn = _mean(accuracy, list(MULTI_TURN_CATEGORIES))
    web = _mean(accuracy, ["web_search_base", "web_search_no_snippet"])
    memory = _mean(accuracy, ["memory_kv", "memory_vector", "memory_rec_sum"])
    agentic = _merge([web, memory])
    parts = {
        "non_live": non_live,
        "live": live,
        "irrelevance": irrelevance,
        "multi_turn": multi_turn,
        "agentic": agentic,
    }
    wsum = sum(WEIGHTS.values())
    overall = Part(
        sum(parts[k].value * WEIGHTS[k] for k in PARTS) / wsum,
        [m for k in PARTS for m in parts[k].missing],
    )
    return {"overall": overall, "simple": simple, **parts}


@dataclass(frozen=True)
class PublishedRow:
    """Numbers someone else published (never measured here), with where and when."""

    name: str
    source: str
    date: str
    scores: dict[str, float]
    note: str = ""


#: published rows, in percent, as their sources print them ("simple" is the leaderboard's
#: simple; for a model card, the categories it reports)
PUBLISHED: tuple[PublishedRow, ...] = (
    PublishedRow(
        "Hammer2.1-1.5b (FC)",
        "BFCL v4 leaderboard, gorilla.cs.berkeley.edu/leaderboard.html",
        "2025",
        {
            "simple": 73.9,
            "multiple": 92.0,
            "parallel": 85.5,
            "parallel_multiple": 80.5,
            "irrelevance": 79.4,
            "live_simple": 72.1,
            "multi_turn": 15.6,
        },
        "a fine-tune of this machine's default model's base (Qwen2.5-Coder-1.5B)",
    ),
    PublishedRow(
        "xLAM-2-1b-fc-r (FC)",
        "BFCL v4 leaderboard, gorilla.cs.berkeley.edu/leaderboard.html",
        "2025",
        {"multi_turn": 36.0},
    ),
    PublishedRow(
        "Qwen3-1.7B",
        "model card of contextboxai/Qwen3-1.7B-FC (its 'Base 1.7B' column, BFCL v3, measured by them)",
        "2025",
        {
            "overall": 48.8,
            "simple": 61.5,
            "multiple": 55.5,
            "parallel": 68.0,
            "parallel_multiple": 51.5,
            "irrelevance": 86.2,
            "live_simple": 43.8,
            "live_multiple": 36.8,
            "live_parallel": 18.8,
            "live_parallel_multiple": 37.5,
            "live_irrelevance": 80.3,
        },
        "BFCL v3, not v4: categories comparable, overall not",
    ),
    PublishedRow(
        "FunctionGemma-270M-it",
        "google/functiongemma-270m-it model card (ai.google.dev/gemma/docs/functiongemma/model_card)",
        "2025-12",
        {
            "simple": 61.6,
            "multiple": 63.5,
            "parallel": 39.0,
            "parallel_multiple": 29.5,
            "irrelevance": 73.7,
            "live_simple": 36.2,
        },
    ),
)

#: the columns of the leaderboard table: sub-scores, then the categories
TABLE_COLUMNS: tuple[str, ...] = (
    "overall",
    "non_live",
    "live",
    "irrelevance",
    "multi_turn",
    "agentic",
    "simple",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_irrelevance",
)


def measured_row(accuracy: dict[str, float]) -> dict[str, float | None]:
    """The table row (percent) of a measured system: sub-scores and categories; None = not run."""
    s = overall_score(accuracy)
    row: dict[str, float | None] = {}
    for col in TABLE_COLUMNS:
        if col in s:
            row[col] = 100 * s[col].value
        else:
            row[col] = 100 * accuracy[col] if col in accuracy else None
    return row


def leaderboard_markdown(systems: dict[str, dict[str, float]]) -> str:
    """BFCL's overall and sub-scores of each measured system, the published rows beside them,
    and the categories that did not run (with why)."""
    lines = [
        "### BFCL overall (the leaderboard's formula)",
        "",
        "Measured here: a category that did not run counts 0, as on the leaderboard; a sub-score "
        "marked * lacks some of its categories. Published rows are other people's numbers, not "
        "measured here.",
        "",
        "| system | " + " | ".join(TABLE_COLUMNS) + " |",
        "| --- |" + " --- |" * len(TABLE_COLUMNS),
    ]
    for name, acc in systems.items():
        s = overall_score(acc)
        row = measured_row(acc)
        cells = []
        for col in TABLE_COLUMNS:
            v = row[col]
            if v is None:
                cells.append("–")
            else:
                star = "*" if col in s and not s[col].complete else ""
                cells.append(f"{v:.1f}{star}")
        lines.append(f"| {name} (measured) | " + " | ".join(cells) + " |")
    for p in PUBLISHED:
        cells = [f"{p.scores[c]:.1f}" if c in p.scores else "–" for c in TABLE_COLUMNS]
        lines.append(f"| {p.name} (published) | " + " | ".join(cells) + " |")
    lines += ["", "Published rows:", ""]
    for p in PUBLISHED:
        lines.append(f"- {p.name}: {p.source}, {p.date}" + (f"; {p.note}" if p.note else ""))
    lines += ["", "Not run here:", ""]
    for cat, why in NOT_RUN.items():
        lines.append(f"- `{cat}`: {why}")
    skipped = [c for c in CATEGORIES if systems and all(c not in acc for acc in systems.values())]
    if skipped:
        lines.append(
            "- not in this run (calltune runs them offline): " + ", ".join(f"`{c}`" for c in skipped)
        )
    return "\n".join(lines) + "\n"
