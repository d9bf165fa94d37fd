"""The code interpreter on data questions with known answers, on the real default model.

Five small files of different types — CSV (with gaps), JSON Lines, an Excel workbook of two
sheets, Parquet and plain text — are generated from a fixed seed, and every question's answer is
computed from the same data in code. Each question runs through calltune's agent with the
``python`` builtin (the sandboxed Jupyter kernel, the file uploaded to it, the code-block
fallback), exactly as ``calltune run --builtin python --upload FILE "QUESTION"`` builds it, in two
settings:

- **before**: the upload note names only the file's path (no file type, no reader), and an
  answer that does not use the results is kept (``TurnSettings.check_answers=False``);
- **after**: calltune's defaults — the upload note names the file's real type and the reader to
  use (:mod:`calltune.sandbox.filetypes`) and an answer whose numbers are in none of the results,
  or that is code nobody asked for, is generated again from the results (:mod:`calltune.turn.answers`).

Measured per question: *correct* (the known answer is in the answer text; numbers within 0.5 %
or 0.01, names case-insensitively), *code ran* (a python cell that names the file ran without an
error), and the seconds the agent took. Results are appended one line per (setting, question) to
``bench/results/interpreter/runs.jsonl``, so a stopped run resumes where it stopped; the summary
goes to ``bench/results/interpreter/summary.json`` and a Markdown table is printed.

    nice -n 5 python bench/interpreter.py                # both settings, every question (resumes)
    python bench/interpreter.py --report                 # the table from what has run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "interpreter"
SEED = 7
SETTINGS = ("before", "after")

REGIONS = ["North", "South", "East", "West"]
PRODUCTS = ["lamp", "desk", "chair", "shelf"]
EVENTS = ["click", "view", "purchase"]
WORDS = ["the", "server", "started", "request", "failed", "retry", "error", "timeout", "ok", "cache"]


# -- the data -----------------------------------------------------------------------------
def make_data(rng: random.Random) -> dict[str, Any]:
    """The rows of every file (plain Python, so the answers need no pandas)."""
    sales = []
    for i in range(40):
        sales.append(
            {
                "order_id": 1000 + i,
                "region": rng.choice(REGIONS),
                "product": rng.choice(PRODUCTS),
                "units": None if rng.random() < 0.1 else rng.randint(1, 20),
                "price": None if rng.random() < 0.15 else round(rng.uniform(5, 120), 2),
            }
        )
    events = [
        {"user": f"u{rng.randint(1, 9)}", "event": rng.choice(EVENTS), "duration_s": rng.randint(1, 300)}
        for _ in range(60)
    ]
    budget = {
        sheet: [
            {"item": item, "amount": rng.randint(100, 5000)}
            for item in rng.sample(["rent", "salaries", "travel", "software", "hardware", "training"], k=5)
        ]
        for sheet in ("2024", "2025")
    }
    sensors = [
        {
            "sensor": f"s{rng.randint(1, 6)}",
            "temperature": round(rng.uniform(12, 38), 1),
            "humidity": rng.randint(20, 95),
        }
        for _ in range(50)
    ]
    log = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))) for _ in range(30)]
    return {"sales": sales, "events": events, "budget": budget, "sensors": sensors, "log": log}


def write_files(data: dict[str, Any], folder: Path) -> dict[str, Path]:
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "sales": folder / "sales.csv",
        "events": folder / "events.jsonl",
        "budget": folder / "budget.xlsx",
        "sensors": folder / "sensors.parquet",
        "log": folder / "server_log.txt",
    }
    pd.DataFrame(data["sales"]).astype({"units": "Int64"}).to_csv(paths["sales"], index=False)
    paths["events"].write_text("".join(json.dumps(r) + "\n" for r in data["events"]), encoding="utf-8")
    with pd.ExcelWriter(paths["budget"]) as xl:
        for sheet, rows in data["budget"].items():
            pd.DataFrame(rows).to_excel(xl, sheet_name=sheet, index=False)
    pd.DataFrame(data["sensors"]).to_parquet(paths["sensors"], index=False)
    paths["log"].write_text("\n".join(data["log"]) + "\n", encoding="utf-8")
    return paths


@dataclass
class Question:
    id: str
    file: str  # key of write_files' paths
    text: str  # {name} stands for the file's name
    answer: Callable[[dict[str, Any]], float | str]


def _col(rows: list[dict[str, Any]], key: str) -> list[Any]:
    return [r[key] for r in rows if r[key] is not None]


def _most(rows: list[dict[str, Any]], key: str, weight: str | None = None) -> str:
    c: Counter[str] = Counter()
    for r in rows:
        c[r[key]] += (r[weight] or 0) if weight else 1
    return c.most_common(1)[0][0]


QUESTIONS: list[Question] = [
    Question("sales_rows", "sales", "How many orders (rows) are in {name}?", lambda d: len(d["sales"])),
    Question(
        "sales_missing_price",
        "sales",
        "How many rows of {name} have no price?",
        lambda d: sum(r["price"] is None for r in d["sales"]),
    ),
    Question(
        "sales_missing_units",
        "sales",
        "How many values are missing in the units column of {name}?",
        lambda d: sum(r["units"] is None for r in d["sales"]),
    ),
    Question(
        "sales_total_units",
        "sales",
        "What is the total of the units column in {name}?",
        lambda d: sum(_col(d["sales"], "units")),
    ),
    Question(
        "sales_top_region",
        "sales",
        "In {name}, which region has the most units in total?",
        lambda d: _most(d["sales"], "region", "units"),
    ),
    Question("events_rows", "events", "How many events are in {name}?", lambda d: len(d["events"])),
    Question(
        "events_clicks",
        "events",
        "How many click events are in {name}?",
        lambda d: sum(r["event"] == "click" for r in d["events"]),
    ),
    Question(
        "events_users",
        "events",
        "How many distinct users appear in {name}?",
        lambda d: len({r["user"] for r in d["events"]}),
    ),
    Question(
        "events_max_duration",
        "events",
        "What is the longest duration_s in {name}?",
        lambda d: max(r["duration_s"] for r in d["events"]),
    ),
    Question(
        "budget_sheets",
        "budget",
        "How many sheets does the workbook {name} have?",
        lambda d: len(d["budget"]),
    ),
    Question(
        "budget_total_2025",
        "budget",
        "What is the total amount on the 2025 sheet of {name}?",
        lambda d: sum(r["amount"] for r in d["budget"]["2025"]),
    ),
    Question(
        "budget_total_2024",
        "budget",
        "What is the sum of the amount column on the sheet named 2024 in {name}?",
        lambda d: sum(r["amount"] for r in d["budget"]["2024"]),
    ),
    Question(
        "budget_largest_2025",
        "budget",
        "Which item has the largest amount on the 2025 sheet of {name}?",
        lambda d: max(d["budget"]["2025"], key=lambda r: r["amount"])["item"],
    ),
    Question(
        "sensors_rows", "sensors", "How many readings (rows) are in {name}?", lambda d: len(d["sensors"])
    ),
    Question(
        "sensors_max_humidity",
        "sensors",
        "What is the highest humidity in {name}?",
        lambda d: max(r["humidity"] for r in d["sensors"]),
    ),
    Question(
        "sensors_mean_temperature",
        "sensors",
        "What is the mean temperature in {name}, rounded to 2 decimals?",
        lambda d: round(statistics.fmean(r["temperature"] for r in d["sensors"]), 2),
    ),
    Question(
        "sensors_hot",
        "sensors",
        "How many readings in {name} have a temperature above 30?",
        lambda d: sum(r["temperature"] > 30 for r in d["sensors"]),
    ),
    Question("log_lines", "log", "How many lines does {name} have?", lambda d: len(d["log"])),
    Question(
        "log_error_lines",
        "log",
        "How many lines of {name} contain the word error?",
        lambda d: sum("error" in line.split() for line in d["log"]),
    ),
    Question(
        "log_words",
        "log",
        "How many words are in {name} in total?",
        lambda d: sum(len(line.split()) for line in d["log"]),
    ),
    Question(
        "log_timeout_count",
        "log",
        "How many times does the word timeout occur in {name}?",
        lambda d: sum(line.split().count("timeout") for line in d["log"]),
    ),
]


# -- scoring ------------------------------------------------------------------------------
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0).replace(",", "")
        try:
            out.append(float(raw))
        except ValueError:
            continue
    return out


def is_correct(answer_text: str, expected: float | str) -> bool:
    """The known answer is in the text: a number within 0.5 % (or 0.01), a name as a word."""
    if isinstance(expected, str):
        return re.search(rf"\b{re.escape(expected)}\b", answer_text, re.I) is not None
    tol = max(0.01, abs(expected) * 0.005)
    return any(abs(n - expected) <= tol for n in numbers_in(answer_text))


def python_codes(messages: list[dict[str, Any]]) -> list[str]:
    """The code of every ``python`` call in the conversation, in order (tool calls and the
    ```python blocks the code-block fallback ran alike: the agent records both as calls)."""
    codes = []
    for m in messages:
        for c in m.get("tool_calls") or []:
            if c["function"]["name"] == "python":
                try:
                    codes.append(str(json.loads(c["function"]["arguments"]).get("code", "")))
                except (json.JSONDecodeError, AttributeError):
                    codes.append("")
    return codes


def code_ran_on(codes: list[str], cells: list[Any], file_name: str) -> bool:
    """Whether a python cell whose code names the file ran without an error (the session's
    cells are in the order of the conversation's python calls)."""
    return any(file_name in code and cell.error is None for code, cell in zip(codes, cells, strict=False))


# -- running ------------------------------------------------------------------------------
def before_prompt(sandbox: Any) -> str:
    """The interpreter's system prompt without the file-type note: the upload's path only."""
    from calltune.sandbox import system_prompt

    paths = [f"{sandbox.sandbox_dir.rstrip('/')}/{f}" for f in sandbox.files()]
    return system_prompt(sandbox, uploads=[]) + f"\nUploaded files: {', '.join(paths)}."


def run_one(
    engine: Any, q: Question, path: Path, setting: str, max_tokens: int, max_steps: int
) -> dict[str, Any]:
    """One question in one setting, as ``calltune run --builtin python --upload FILE`` builds it."""
    from calltune.agent import Agent
    from calltune.engines import SamplingParams
    from calltune.sandbox import Sandbox, python_tool, system_prompt, with_code_fallback

    question = q.text.format(name=path.name)
    with tempfile.TemporaryDirectory(prefix="calltune-bench-") as out_dir, Sandbox(out_dir=out_dir) as sb:
        sb.upload(path)
        tool = python_tool(sandbox_factory=lambda: sb)
        agent = Agent(
            engine,
            [tool],
            format=with_code_fallback(engine.default_format),
            system=system_prompt(sb) if setting == "after" else before_prompt(sb),
            max_steps=max_steps,
            params=SamplingParams(max_tokens=max_tokens, temperature=0.0),
        )
        agent.turn.settings.check_answers = setting == "after"
        t0 = time.perf_counter()
        try:
            result = agent.run(question)
            stopped, answer, error = result.trace.stopped, result.answer, result.trace.error
            codes = python_codes(result.messages)
        except Exception as e:  # a failure is a wrong answer, recorded; the run goes on
            stopped, answer, error, codes = "error", "", f"{type(e).__name__}: {e}", []
        seconds = time.perf_counter() - t0
        cells = list(tool.session.results)
    return {
        "setting": setting,
        "id": q.id,
        "file": path.name,
        "question": question,
        "answer": answer,
        "seconds": round(seconds, 1),
        "code_ran": code_ran_on(codes, cells, path.name),
        "code": [c[:400] for c in codes],
        "cell_errors": [c.error.splitlines()[0] for c in cells if c.error],
        "stopped": stopped,
        "error": error,
    }


def load_runs(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summarize(runs: list[dict[str, Any]], expected: dict[str, float | str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for setting in SETTINGS:
        rows = [r for r in runs if r["setting"] == setting]
        if not rows:
            continue
        correct = [is_correct(r["answer"], expected[r["id"]]) for r in rows]
        by_type: dict[str, list[bool]] = {}
        for r, ok in zip(rows, correct, strict=True):
            by_type.setdefault(Path(r["file"]).suffix, []).append(ok)
        summary[setting] = {
            "questions": len(rows),
            "correct": sum(correct),
            "code_ran": sum(r["code_ran"] for r in rows),
            "seconds_mean": round(statistics.fmean(r["seconds"] for r in rows), 1),
            "seconds_median": round(statistics.median(r["seconds"] for r in rows), 1),
            "correct_by_type": {k: f"{sum(v)}/{len(v)}" for k, v in by_type.items()},
            "wrong": [r["id"] for r, ok in zip(rows, correct, strict=True) if not ok],
        }
    return summary


def table(summary: dict[str, Any]) -> str:
    def pct(k: int, n: int) -> str:
        return f"{k}/{n} ({100 * k / n:.0f} %)" if n else "–"

    present = [s for s in SETTINGS if s in summary]
    lines = [
        "| measure | " + " | ".join(present) + " |",
        "| --- | " + " | ".join("---:" for _ in present) + " |",
        "| answer correct | "
        + " | ".join(pct(summary[s]["correct"], summary[s]["questions"]) for s in present)
        + " |",
        "| code ran on the file | "
        + " | ".join(pct(summary[s]["code_ran"], summary[s]["questions"]) for s in present)
        + " |",
        "| seconds per question (mean / median) | "
        + " | ".join(f"{summary[s]['seconds_mean']} / {summary[s]['seconds_median']}" for s in present)
        + " |",
    ]
    types = sorted({t for s in present for t in summary[s]["correct_by_type"]})
    for t in types:
        lines.append(
            f"| correct, {t} | "
            + " | ".join(summary[s]["correct_by_type"].get(t, "–") for s in present)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--settings", default=",".join(SETTINGS), help="before,after (default both)")
    ap.add_argument("--limit", type=int, default=None, help="first N questions only")
    ap.add_argument("--max-tokens", type=int, default=384)
    ap.add_argument("--max-steps", type=int, default=4)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--report", action="store_true", help="only print the table of what has run")
    args = ap.parse_args()

    data = make_data(random.Random(SEED))
    expected = {q.id: q.answer(data) for q in QUESTIONS}
    runs_path = args.out / "runs.jsonl"
    questions = QUESTIONS[: args.limit] if args.limit else QUESTIONS
    if not args.report:
        args.out.mkdir(parents=True, exist_ok=True)
        done = {(r["setting"], r["id"]) for r in load_runs(runs_path)}
        todo = [(s, q) for q in questions for s in args.settings.split(",") if (s, q.id) not in done]
        if todo:
            from calltune.engines import load_engine

            engine = load_engine()
            # the files are made again from the seed each time (the same bytes), never kept
            with tempfile.TemporaryDirectory(prefix="calltune-bench-data-") as tmp:
                paths = write_files(data, Path(tmp))
                try:
                    for setting, q in todo:
                        rec = run_one(engine, q, paths[q.file], setting, args.max_tokens, args.max_steps)
                        rec["expected"] = expected[q.id]
                        rec["correct"] = is_correct(rec["answer"], expected[q.id])
                        with runs_path.open("a", encoding="utf-8") as f:
                            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                        print(
                            f"{setting:6} {q.id:26} correct={rec['correct']!s:5} ran={rec['code_ran']!s:5} "
                            f"{rec['seconds']:6.1f}s  {rec['answer'][:80]!r}",
                            flush=True,
                        )
                finally:
                    engine.close()
    summary = summarize([r for r in load_runs(runs_path) if r["id"] in expected], expected)
    summary["meta"] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), {platform.system()}",
        "model": "default (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, llama.cpp)",
        "seed": SEED,
        "questions": len(QUESTIONS),
        "files": sorted({q.file for q in QUESTIONS}),
        "max_tokens": args.max_tokens,
        "max_steps": args.max_steps,
        "expected": expected,
    }
    (args.out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(table(summary))


if __name__ == "__main__":
    main()
