"""The held-out evaluation, pure part: which requests are held out, what each one's first model
turn should be, what a conversation's first turn was, and the scores. No model runs here and no
file is read (:mod:`calltune.distill.firstturn` runs the models, :mod:`calltune.distill.stages`
reads and writes).

- **Split**: by instruction id through :func:`~calltune.datagen.instructions.stable_seed` — the
  same on every run and machine, and one request is never on both sides.
- **Reference**: the blueprint the teacher wrote the request for, its first-turn calls
  (:func:`expected_calls`); ``no_fit`` and ``missing_value`` expect no call. The reference is
  the teacher's own, which favours the teacher: its trajectory was made for that blueprint.
- **Scores**: *exact calls* — the first turn's calls are the expected ones, names and arguments,
  in any order (the datagen filters' value folding: case, punctuation, number spelling;
  :func:`~calltune.datagen.filters.match_calls` with ``exact=True``); *no call where none fits*
  — a ``no_fit`` or ``missing_value`` request answered without a call. Per category too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..datagen.filters import match_calls
from ..datagen.instructions import Instruction, is_placeholder, stable_seed

#: categories whose right first turn makes no call
NO_CALL = ("no_fit", "missing_value")


def is_heldout(instruction_id: str, seed: int, share: float) -> bool:
    """Whether the request ``instruction_id`` is held out (a stable hash below ``share``)."""
    return stable_seed(seed, "heldout", instruction_id) < share * 2**32


def expected_calls(instr: Instruction) -> list[dict[str, Any]]:
    """The calls the blueprint wants in the first model turn: every call of ``single``,
    ``choice`` and ``parallel``; the first of ``multi_turn`` (the rest answer the follow-up);
    those of ``sequential`` before the first that needs an earlier result (``"<result>"``);
    none for ``no_fit`` and ``missing_value``."""
    calls = list(instr.calls or [])
    if instr.category == "multi_turn":
        return calls[:1]
    if instr.category == "sequential":
        first = []
        for c in calls:
            if any(is_placeholder(v) for v in (c.get("arguments") or {}).values()):
                break
            first.append(c)
        return first
    return calls


def scorable(instr: Instruction) -> bool:
    """A request with a reference: a blueprint (``calls`` is None for code-written tasks)."""
    return instr.calls is not None


def heldout_row(instr: Instruction, tools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One line of ``split/heldout.jsonl``: the request, the tools offered (OpenAI specs, as the
    teacher was shown them) and the expected first-turn calls."""
    return {
        "id": instr.id,
        "category": instr.category,
        "lang": instr.lang,
        "request": instr.request,
        "seed": instr.seed,
        "tools": list(tools),
        "expected": expected_calls(instr),
    }


def first_turn(messages: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The first assistant message of an OpenAI conversation: ``{"calls": [{"name",
    "arguments"}], "content"}`` (an unparseable call is a call of its name, or of
    ``invalid_tool_call``, with no arguments, as the agent writes it; no message: no call, no
    content)."""
    for m in messages:
        if m.get("role") != "assistant":
            continue
        calls = []
        for c in m.get("tool_calls") or []:
            fn = c.get("function") or {}
            args: Any = fn.get("arguments") or "{}"
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except json.JSONDecodeError:
                    pass
            calls.append({"name": fn.get("name"), "arguments": args})
        return {"calls": calls, "content": str(m.get("content") or "")}
    return {"calls": [], "content": ""}


def score(row: Mapping[str, Any], result: Mapping[str, Any]) -> str | None:
    """Why ``result`` (a :func:`first_turn`) is not right for the held-out ``row``; None when
    it is: the exact calls expected, or for a no-call request an answer without a call."""
    calls = list(result.get("calls") or [])
    if row["category"] in NO_CALL:
        if calls:
            return f"called {', '.join(str(c.get('name')) for c in calls)}"
        if not str(result.get("content") or "").strip():
            return "no answer"
        return None
    if any(not isinstance(c.get("arguments"), dict) for c in calls):
        return "arguments that are not an object"
    functions = {t["function"]["name"]: t["function"] for t in row.get("tools") or []}
    return match_calls(row["expected"], calls, functions, exact=True)


def _share(correct: int, of: int) -> dict[str, Any]:
    return {"correct": correct, "of": of, "share": round(correct / of, 4) if of else None}


def decode_speed(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Decode tokens per second over the results that measured it: tokens after the first of
    each generation (``decode_tokens``) over the seconds from the first token to the last
    (``decode_s``), summed."""
    tokens = seconds = 0.0
    n = 0
    for r in results:
        if r.get("decode_s"):
            tokens += r.get("decode_tokens") or 0
            seconds += r["decode_s"]
            n += 1
    return {
        "requests": n,
        "decode_tokens": int(tokens),
        "decode_s": round(seconds, 3),
        "tokens_per_s": round(tokens / seconds, 2) if seconds else None,
    }


def summarize(rows: Sequence[Mapping[str, Any]], results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The scores of ``results`` (by request id) on the held-out ``rows``: exact calls over the
    requests that want calls, no call over ``no_fit`` + ``missing_value``, and per category (a
    request without a result counts as wrong: ``missing`` says how many)."""
    exact = [0, 0]
    no_call = [0, 0]
    cats: dict[str, list[int]] = {}
    missing = 0
    for row in rows:
        res = results.get(row["id"])
        ok = res is not None and score(row, res) is None
        missing += res is None
        tally = no_call if row["category"] in NO_CALL else exact
        tally[0] += ok
        tally[1] += 1
        c = cats.setdefault(row["category"], [0, 0])
        c[0] += ok
        c[1] += 1
    return {
        "requests": len(rows),
        "missing": missing,
        "exact_calls": _share(*exact),
        "no_call": _share(*no_call),
        "by_category": {k: _share(*v) for k, v in sorted(cats.items())},
    }
