"""BFCL v4 single-turn data: loading cases and their answers, and seeded stratified subsets.

The data ships inside the ``bfcl-eval`` package (``bfcl_eval/data/BFCL_v4_<category>.json``,
one JSON object per line, answers under ``possible_answer/``). It is read from there and
used for measurement only; nothing from it is copied anywhere else.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CalltuneError

#: the single-turn AST categories calltune evaluates (Python only)
AST_CATEGORIES: tuple[str, ...] = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
)
#: what ``calltune eval bfcl`` runs when no categories are given: the first seven above
DEFAULT_CATEGORIES: tuple[str, ...] = AST_CATEGORIES[:7]
#: aliases accepted on the command line
CATEGORY_ALIASES = {"simple": "simple_python"}
VERSION_PREFIX = "BFCL_v4"


class BfclDataError(CalltuneError, ValueError):
    """Bad category name, missing data directory or malformed data."""


@dataclass
class BfclCase:
    """One BFCL test case: the conversation, the function docs and (when judged by AST) the answer."""

    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    possible_answer: list[dict[str, Any]] | None = None


def bfcl_data_dir() -> Path:
    """The ``data`` directory of the installed ``bfcl-eval`` package (without importing it)."""
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise BfclDataError("bfcl-eval is not installed: pip install --no-deps bfcl-eval")
    for loc in spec.submodule_search_locations:
        d = Path(loc) / "data"
        if d.is_dir():
            return d
    raise BfclDataError("bfcl-eval is installed but has no data/ directory")


def normalize_category(name: str) -> str:
    name = name.strip()
    name = CATEGORY_ALIASES.get(name, name)
    if name not in AST_CATEGORIES:
        raise BfclDataError(f"unknown BFCL category {name!r}; choose from: {', '.join(AST_CATEGORIES)}")
    return name


def parse_categories(spec: str | Sequence[str] | None) -> list[str]:
    """``"simple_python,multiple"`` (or a list, or None for the defaults) → validated names, no duplicates."""
    if spec is None:
        return list(DEFAULT_CATEGORIES)
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for it in items:
        if not it.strip():
            continue
        if it.strip() == "all":
            names: Iterable[str] = AST_CATEGORIES
        else:
            names = [normalize_category(it)]
        for n in names:
            if n not in out:
                out.append(n)
    if not out:
        raise BfclDataError("no BFCL category given")
    return out


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise BfclDataError(f"{path}:{lineno}: {e}") from e
    return rows


def _first_turn(question: Any, case_id: str) -> list[dict[str, Any]]:
    if not isinstance(question, list) or not question:
        raise BfclDataError(f"{case_id}: 'question' must be a non-empty list of turns")
    turn = question[0]
    if isinstance(turn, dict):  # some files store a flat message list
        turn = question
    return [{"role": m["role"], "content": m.get("content", "")} for m in turn]


def needs_answer(category: str) -> bool:
    return "irrelevance" not in category and "relevance" not in category


def load_category(category: str, data_dir: str | Path | None = None) -> list[BfclCase]:
    """All cases of one category, in file order, with their possible answers attached."""
    category = normalize_category(category)
    d = Path(data_dir) if data_dir is not None else bfcl_data_dir()
    path = d / f"{VERSION_PREFIX}_{category}.json"
    if not path.is_file():
        raise BfclDataError(f"no data file for {category!r}: {path}")
    answers: dict[str, list[dict[str, Any]]] = {}
    if needs_answer(category):
        apath = d / "possible_answer" / path.name
        if not apath.is_file():
            raise BfclDataError(f"no possible-answer file for {category!r}: {apath}")
        answers = {r["id"]: r["ground_truth"] for r in _read_jsonl(apath)}
    cases = []
    for row in _read_jsonl(path):
        cid = row["id"]
        if needs_answer(category) and cid not in answers:
            raise BfclDataError(f"{cid}: no possible answer")
        cases.append(
            BfclCase(
                id=cid,
                category=category,
                messages=_first_turn(row["question"], cid),
                functions=list(row["function"]),
                possible_answer=answers.get(cid),
            )
        )
    return cases


def sample_rank(case_id: str, seed: int) -> str:
    """The key a case is ordered by when sampling: stable across runs and machines."""
    return hashlib.sha256(f"{seed}:{case_id}".encode()).hexdigest()


def select(cases: Sequence[BfclCase], limit: int | None, seed: int = 0) -> list[BfclCase]:
    """A fixed, seeded subset of ``limit`` cases (all cases when ``limit`` is None).

    Cases are ranked by a hash of ``(seed, id)``, so the subset for a smaller limit is
    contained in the subset for a larger one, and the same ids are chosen on every run.
    The result is in sampling order (rank), which spreads cases over the file.
    """
    if limit is not None and limit < 0:
        raise BfclDataError("limit must be >= 0")
    ranked = sorted(cases, key=lambda c: sample_rank(c.id, seed))
    return ranked if limit is None else ranked[:limit]


def load_cases(
    categories: str | Sequence[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    data_dir: str | Path | None = None,
) -> list[BfclCase]:
    """Stratified selection: ``limit`` cases from each category (all when None), interleaved
    across categories (round robin) so that an interrupted run has covered every category."""
    per_cat = [select(load_category(c, data_dir), limit, seed) for c in parse_categories(categories)]
    out: list[BfclCase] = []
    for i in range(max((len(p) for p in per_cat), default=0)):
        for p in per_cat:
            if i < len(p):
                out.append(p[i])
    return out
