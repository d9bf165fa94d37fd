"""Wordings of the relevance check, compared on held-out BFCL cases (never the measured ones).

The measured subsets are ranks ``[0, 100)`` of the seeded ranking for the five default AST
categories and ``[0, 30)`` for the rest; this script takes its cases from ranks after those
(``--offset``), so choosing a wording here does not tune on what the reports measure. For each
case it asks the check's question, in every wording, about

- every offered function of an ``irrelevance`` / ``live_irrelevance`` case (none fits: the
  right verdict is "no"), at most ``--max-functions`` of them;
- each function of the ground truth of a case that needs calls (the right verdict is "yes").

The wordings are generic (no benchmark content). Answers are appended to
``bench/results/relevance_heldout/answers.jsonl`` as they come (rerun to resume); the table
(per wording: misfit functions refused, fitting functions kept, and per case) is printed and
written to ``summary.json``. A conjunction ``A&B`` refuses when either wording refuses::

    python bench/relevance_heldout.py [--irrelevance 15] [--fitting 6]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_result  # noqa: E402

from calltune.eval.bfcl_data import load_cases  # noqa: E402
from calltune.eval.convert import bfcl_to_tools, tool_name  # noqa: E402
from calltune.eval.output import merge_consecutive  # noqa: E402
from calltune.turn.history import last_user_text  # noqa: E402
from calltune.turn.relevance import RELEVANCE_QUESTION, check_relevance  # noqa: E402
from calltune.types import ToolCall  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "relevance_heldout"

WORDINGS: dict[str, str] = {
    "current": RELEVANCE_QUESTION,
    "by-itself": (
        'A user asked: "{question}"\n\n'
        "Available function: {name} — {description}\n\n"
        "Would calling this function, and nothing else, give the user what they asked for? "
        "Answer no if the request needs something the function does not do. Answer yes or no."
    ),
    "function-first": (
        "Function: {name} — {description}\n\n"
        'User request: "{question}"\n\n'
        "Is the request asking for what this function does? Answer yes or no."
    ),
    "topic-and-task": (
        'A user asked: "{question}"\n\n'
        "Available function: {name} — {description}\n\n"
        "Does the function work on the same kind of thing the user asks about, and does it "
        "produce what the user wants to know or get done? Answer yes only if both are true. "
        "Answer yes or no."
    ),
}
CONJUNCTIONS = (("current", "function-first"), ("current", "by-itself"), ("current", "topic-and-task"))
MEASURED = {c: 100 for c in ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")}
FITTING = ("simple_python", "multiple", "parallel", "parallel_multiple", "live_simple", "live_multiple")
MISFIT = ("irrelevance", "live_irrelevance")


def questions(n_misfit: int, n_fit: int, max_functions: int) -> list[dict[str, Any]]:
    """``{"case", "category", "question", "tool", "fits"}`` for every question to ask."""
    out: list[dict[str, Any]] = []
    for cat in (*MISFIT, *FITTING):
        n = n_misfit if cat in MISFIT else (n_fit // 2 if cat == "parallel" else n_fit)
        for case in load_cases(cat, n, 0, offset=MEASURED.get(cat, 30)):
            tools, _ = bfcl_to_tools(case.functions)
            by_name = {t["function"]["name"]: t for t in tools}
            if cat in MISFIT:
                names, fits = list(by_name)[:max_functions], False
            else:
                names = list(dict.fromkeys(tool_name(next(iter(a))) for a in case.possible_answer or []))
                fits = True
            q = last_user_text(merge_consecutive(case.messages))
            out += [
                {"case": case.id, "category": cat, "question": q, "tool": by_name[n], "fits": fits}
                for n in names
                if n in by_name
            ]
    return out


def summarize(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {
        (a["wording"], a["case"], a["name"]): a for a in answers
    }
    keys = sorted({(a["case"], a["name"], a["fits"]) for a in answers})
    rows = []
    for label in [*WORDINGS, *(f"{a}&{b}" for a, b in CONJUNCTIONS)]:
        parts = label.split("&")
        judged = []
        for case, name, fits in keys:
            got = [by_key.get((p, case, name)) for p in parts]
            if all(g is not None for g in got):
                judged.append((case, fits, all(g["said_fits"] for g in got)))
        misfit = [j for j in judged if not j[1]]
        fit = [j for j in judged if j[1]]
        cases_mis = {c for c, f, _ in misfit}
        cases_fit = {c for c, f, _ in fit}
        rows.append(
            {
                "wording": label,
                "misfit_refused": sum(not s for _, _, s in misfit),
                "misfit": len(misfit),
                "fitting_kept": sum(s for _, _, s in fit),
                "fitting": len(fit),
                "misfit_cases_all_refused": sum(
                    all(not s for c2, _, s in misfit if c2 == c) for c in cases_mis
                ),
                "misfit_cases": len(cases_mis),
                "fit_cases_all_kept": sum(all(s for c2, _, s in fit if c2 == c) for c in cases_fit),
                "fit_cases": len(cases_fit),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--irrelevance", type=int, default=15, help="held-out cases per no-fit category")
    ap.add_argument("--fitting", type=int, default=6, help="held-out cases per calling category")
    ap.add_argument(
        "--max-functions", type=int, default=2, help="offered functions asked about per no-fit case"
    )
    ap.add_argument("--model", default=None)
    args = ap.parse_args()

    from calltune.engines import load_engine
    from calltune.formats import get_format

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "answers.jsonl"
    done = (
        [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    )
    seen = {(a["wording"], a["case"], a["name"]) for a in done}
    todo = [
        (w, q)
        for q in questions(args.irrelevance, args.fitting, args.max_functions)
        for w in WORDINGS
        if (w, q["case"], q["tool"]["function"]["name"]) not in seen
    ]
    engine = load_engine(args.model)
    fmt = get_format(getattr(engine, "default_format", None) or "hermes")
    t0 = time.perf_counter()
    with path.open("a", encoding="utf-8") as fh:
        for i, (w, q) in enumerate(todo, 1):
            name = q["tool"]["function"]["name"]
            v = check_relevance(engine, fmt, q["question"], [q["tool"]], [ToolCall(name, {})], WORDINGS[w])[
                name
            ]
            rec = {"wording": w, "case": q["case"], "category": q["category"], "name": name}
            rec |= {"fits": q["fits"], "said_fits": v.fits, "answer": v.answer}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            done.append(rec)
            el = time.perf_counter() - t0
            print(
                f"[{i}/{len(todo)}] {w:15s} {q['case']:28s} fits={q['fits']!s:5s} said={v.answer!r} ({el:.0f}s)"
            )
    rows = summarize(done)
    print("\n| wording | misfit refused | fitting kept | no-fit cases all refused | calling cases all kept |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['wording']} | {r['misfit_refused']}/{r['misfit']} | {r['fitting_kept']}/{r['fitting']} "
            f"| {r['misfit_cases_all_refused']}/{r['misfit_cases']} | {r['fit_cases_all_kept']}/{r['fit_cases']} |"
        )
    write_result(OUT / "summary.json", {"args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
