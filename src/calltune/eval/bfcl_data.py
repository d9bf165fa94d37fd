"""BFCL v4 data: loading cases and their answers, and seeded stratified subsets.

The data ships inside the ``bfcl-eval`` package (``bfcl_eval/data/BFCL_v4_<category>.json``,
one JSON object per line, answers under ``possible_answer/``). It is read from there and
used for measurement only; nothing from it is copied anywhere else.

Function docs are prepared exactly as BFCL's own inference prepares them
(``bfcl_eval.utils``): the language hint appended to every description (Python, Java,
JavaScript), Java/JavaScript parameter types turned into strings, and, for multi-turn
cases, the function docs of the case's classes loaded with the functions a ``miss_func``
case holds back removed until their turn.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CalltuneError

#: the single-turn categories calltune evaluates (judged by BFCL's AST checker, or by
#: "no call" / "a call" for the (ir)relevance categories)
AST_CATEGORIES: tuple[str, ...] = (
    "simple_python",
    "simple_java",
    "simple_javascript",
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
#: the multi-turn categories, judged by BFCL's multi-turn checker (state and responses)
MULTI_TURN_CATEGORIES: tuple[str, ...] = (
    "multi_turn_base",
    "multi_turn_miss_func",
    "multi_turn_miss_param",
    "multi_turn_long_context",
)
#: the memory categories that run offline (agentic): each scenario's prerequisite
#: conversations fill the store first, then every question is answered from it
#: (:mod:`calltune.eval.memory`), judged by BFCL's agentic checker
MEMORY_CATEGORIES: tuple[str, ...] = ("memory_kv", "memory_rec_sum")
#: every category calltune can run offline
CATEGORIES: tuple[str, ...] = AST_CATEGORIES + MULTI_TURN_CATEGORIES + MEMORY_CATEGORIES
#: the leaderboard's categories calltune does not run, and why (shown in every report)
NOT_RUN: dict[str, str] = {
    "web_search_base": "needs the network (live web search through DuckDuckGo/SerpAPI)",
    "web_search_no_snippet": "needs the network (live web search through DuckDuckGo/SerpAPI)",
    "memory_vector": "needs a hub embedding model (sentence-transformers) and the network",
}
#: what ``calltune eval bfcl`` runs when no categories are given: simple_python, multiple,
#: parallel, parallel_multiple, irrelevance, live_simple, live_multiple
DEFAULT_CATEGORIES: tuple[str, ...] = (AST_CATEGORIES[0], *AST_CATEGORIES[3:9])
#: aliases accepted on the command line (a group name expands to its categories)
CATEGORY_ALIASES = {"simple": "simple_python"}
CATEGORY_GROUPS: dict[str, tuple[str, ...]] = {
    "all": CATEGORIES,
    "single_turn": AST_CATEGORIES,
    "multi_turn": MULTI_TURN_CATEGORIES,
    "memory": MEMORY_CATEGORIES,
    "live": tuple(c for c in AST_CATEGORIES if c.startswith("live_")),
    "non_live": tuple(c for c in AST_CATEGORIES if not c.startswith("live_")),
}
VERSION_PREFIX = "BFCL_v4"


class BfclDataError(CalltuneError, ValueError):
    """Bad category name, missing data directory or malformed data."""


@dataclass
class MultiTurnSpec:
    """What a multi-turn case adds: the user turns, the classes and their starting state,
    the functions held back until a turn (``miss_func``) and the ground truth per turn."""

    turns: list[list[dict[str, Any]]]
    involved_classes: list[str]
    initial_config: dict[str, Any]
    #: turn index → the function docs that join the offered functions at that turn
    missed_function: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: per turn, the ground truth's call strings (BFCL's own, e.g. ``"cd(folder='x')"``)
    ground_truth: list[list[str]] = field(default_factory=list)
    #: the raw test entry (without function docs), as BFCL's checker wants it
    entry: dict[str, Any] = field(default_factory=dict)


@dataclass
class MemorySpec:
    """What a memory question adds: its BFCL memory class, its scenario, the scenario's
    prerequisite conversations (run first, in order, to fill the store) and the answers
    BFCL's agentic checker accepts."""

    backend_class: str
    scenario: str
    #: the scenario's prerequisite entries in chain order: ``{"id": ..., "turns": [[msg, ...], ...]}``
    prereq: list[dict[str, Any]]
    ground_truth: list[str]


@dataclass
class BfclCase:
    """One BFCL test case: the conversation, the function docs and (when judged by AST) the
    answer; ``multi_turn`` for the multi-turn categories (``messages`` is then the first turn)."""

    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    possible_answer: list[dict[str, Any]] | None = None
    multi_turn: MultiTurnSpec | None = None
    memory: MemorySpec | None = None
    #: the docs as BFCL's checker reads them (no hints, original types); ``functions`` is what
    #: the model is shown
    checker_functions: list[dict[str, Any]] = field(default_factory=list)


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
    if name not in CATEGORIES:
        why = f" (calltune does not run it: {NOT_RUN[name]})" if name in NOT_RUN else ""
        raise BfclDataError(
            f"unknown BFCL category {name!r}{why}; choose from: {', '.join(CATEGORIES)}, "
            f"or a group: {', '.join(CATEGORY_GROUPS)}"
        )
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
        if it.strip() in CATEGORY_GROUPS:
            names: Iterable[str] = CATEGORY_GROUPS[it.strip()]
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


def is_multi_turn(category: str) -> bool:
    return category in MULTI_TURN_CATEGORIES


def is_memory(category: str) -> bool:
    return category in MEMORY_CATEGORIES


def is_stateful(category: str) -> bool:
    """A multi-turn or memory category: long cases, sampled with ``multi_turn_limit``."""
    return is_multi_turn(category) or is_memory(category)


def _prepare_functions(row: dict[str, Any], category: str) -> None:
    """Function docs as BFCL's inference sees them (``bfcl_eval.utils``): multi-turn docs
    loaded per class with held-back functions moved out, then the language hints."""
    from .bfcl_checker import load_bfcl_utils

    utils = load_bfcl_utils()
    if is_multi_turn(category):
        utils.populate_test_cases_with_predefined_functions([row])
    # as in BFCL, the held-back docs are moved out first and so join later without the hint
    row["function"] = utils._func_doc_language_specific_pre_processing(list(row["function"]), category)


def load_memory_category(category: str) -> list[BfclCase]:
    """A memory category's questions as BFCL's own loader prepares them (``load_dataset_entry``:
    ids renamed to the category, the agentic answer-format prompt, the backend's function docs
    with the language hint), each with its scenario's prerequisite chain and its answers."""
    from .bfcl_checker import load_bfcl_utils

    utils = load_bfcl_utils()
    rows = utils.load_dataset_entry(category, include_prereq=True)
    answers = {
        r["id"].replace("memory", category, 1): list(r["ground_truth"])
        for r in utils.load_ground_truth_entry(category)
    }
    chains: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if "prereq" in r["id"]:
            chains.setdefault(r["scenario"], []).append({"id": r["id"], "turns": r["question"]})
    cases = []
    for r in rows:
        if "prereq" in r["id"]:
            continue
        cid = r["id"]
        if cid not in answers:
            raise BfclDataError(f"{cid}: no possible answer")
        chain = chains.get(r["scenario"], [])
        if [c["id"] for c in chain] != list(r.get("depends_on") or []):
            raise BfclDataError(f"{cid}: its prerequisite chain is not the scenario's entries in order")
        cases.append(
            BfclCase(
                id=cid,
                category=category,
                messages=_first_turn(r["question"], cid),
                functions=list(r["function"]),
                memory=MemorySpec(
                    backend_class=r["involved_classes"][0],
                    scenario=r["scenario"],
                    prereq=copy.deepcopy(chain),
                    ground_truth=answers[cid],
                ),
            )
        )
    return cases


def load_category(category: str, data_dir: str | Path | None = None) -> list[BfclCase]:
    """All cases of one category, in file order, with their possible answers attached
    (memory categories always from the installed ``bfcl-eval``)."""
    category = normalize_category(category)
    if is_memory(category):
        return load_memory_category(category)
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
        entry = {k: v for k, v in row.items() if k != "function"}
        checker_functions = copy.deepcopy(list(row.get("function") or []))
        _prepare_functions(row, category)
        spec = None
        if is_multi_turn(category):
            spec = MultiTurnSpec(
                turns=[[dict(m) for m in turn] for turn in row["question"]],
                involved_classes=list(row["involved_classes"]),
                initial_config=row.get("initial_config") or {},
                missed_function={int(k): list(v) for k, v in (row.get("missed_function") or {}).items()},
                ground_truth=[list(t) for t in answers[cid]],  # type: ignore[arg-type]
                entry=entry,
            )
            if len(spec.ground_truth) != len(spec.turns):
                raise BfclDataError(f"{cid}: {len(spec.turns)} turns but {len(spec.ground_truth)} answers")
        cases.append(
            BfclCase(
                id=cid,
                category=category,
                messages=_first_turn(row["question"], cid),
                functions=list(row["function"]),
                possible_answer=None if spec else answers.get(cid),
                multi_turn=spec,
                checker_functions=checker_functions,
            )
        )
    return cases


def _of_scenarios(cases: list[BfclCase], spec: str | Sequence[str] | None) -> list[BfclCase]:
    """The cases of the scenarios in ``spec`` (``"notetaker,finance"`` or a list; all when empty)."""
    items = spec.split(",") if isinstance(spec, str) else list(spec or [])
    scenarios = {x.strip() for x in items if x.strip()}
    if not scenarios:
        return cases
    known = {c.memory.scenario for c in cases if c.memory is not None}
    unknown = sorted(set(scenarios) - known)
    if unknown:
        raise BfclDataError(f"unknown memory scenario(s) {unknown}; BFCL's are {sorted(known)}")
    return [c for c in cases if c.memory is not None and c.memory.scenario in scenarios]


def sample_rank(case_id: str, seed: int) -> str:
    """The key a case is ordered by when sampling: stable across runs and machines."""
    return hashlib.sha256(f"{seed}:{case_id}".encode()).hexdigest()


def select(cases: Sequence[BfclCase], limit: int | None, seed: int = 0, offset: int = 0) -> list[BfclCase]:
    """A fixed, seeded subset of ``limit`` cases (all cases when ``limit`` is None).

    Cases are ranked by a hash of ``(seed, id)``, so the subset for a smaller limit is
    contained in the subset for a larger one, and the same ids are chosen on every run.
    The result is in sampling order (rank), which spreads cases over the file.
    ``offset`` skips the first ranks: the measured subset of ``--limit N`` is ranks
    ``[0, N)``, and settings are tuned on ``offset=N`` (cases the measurement never sees).
    """
    if limit is not None and limit < 0:
        raise BfclDataError("limit must be >= 0")
    if offset < 0:
        raise BfclDataError("offset must be >= 0")
    ranked = sorted(cases, key=lambda c: sample_rank(c.id, seed))[offset:]
    return ranked if limit is None else ranked[:limit]


def load_cases(
    categories: str | Sequence[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    data_dir: str | Path | None = None,
    multi_turn_limit: int | None = None,
    offset: int = 0,
    multi_turn_offset: int | None = None,
    memory_scenarios: str | Sequence[str] | None = None,
) -> list[BfclCase]:
    """Stratified selection: ``limit`` cases from each category (all when None;
    ``multi_turn_limit`` for the multi-turn and memory categories when given), interleaved across
    categories (round robin) so that an interrupted run has covered every category.

    ``memory_scenarios`` (comma-separated or a list) keeps only the memory questions of those
    scenarios (before sampling): each scenario costs its whole prerequisite chain once per
    system, so a small CPU measures the scenarios it can afford rather than a few questions of
    every one."""
    per_cat = [
        select(
            _of_scenarios(load_category(c, data_dir), memory_scenarios)
            if is_memory(c)
            else load_category(c, data_dir),
            multi_turn_limit if (multi_turn_limit is not None and is_stateful(c)) else limit,
            seed,
            multi_turn_offset if (multi_turn_offset is not None and is_stateful(c)) else offset,
        )
        for c in parse_categories(categories)
    ]
    out: list[BfclCase] = []
    for i in range(max((len(p) for p in per_cat), default=0)):
        for p in per_cat:
            if i < len(p):
                out.append(p[i])
    return out
