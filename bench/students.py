"""The student table: BFCL per category for the untrained base, each trained student and the
teacher, measured on the same seeded cases, beside FunctionGemma's published model card.

Reads eval run directories (``calltune eval bfcl --out DIR``; the ``calltune`` system's
``cases/calltune.jsonl``) and, where a training run is given, its ``train_summary.json``
(trained tokens, wall time, tokens/s). Every measured system must have been run on the same
case ids in every category it reports; a mismatch is an error, not a footnote.

    python bench/students.py --system base=bench/results/students/base \\
        --system lora-agent=bench/results/students/lora-agent:runs/students/lora-agent \\
        --system teacher=bench/results/bfcl_full/run --out bench/results/students

Writes ``OUT/students.json`` and ``OUT/students.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_result  # noqa: E402

from calltune.train.data import iter_records  # noqa: E402

#: the categories issue-level comparisons use, in table order
CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_irrelevance",
    "multi_turn_base",
)

#: FunctionGemma 270M's model card (published, not measured here): BFCL accuracy in percent
FUNCTIONGEMMA_CARD = {
    "simple_python": 61.6,
    "multiple": 63.5,
    "parallel": 39.0,
    "parallel_multiple": 29.5,
    "irrelevance": 73.7,
    "live_simple": 36.2,
}


def read_cases(eval_dir: Path, system: str = "calltune") -> dict[str, dict[str, bool]]:
    """``{category: {case id: valid}}`` from one eval run directory."""
    path = eval_dir / "cases" / f"{system}.jsonl"
    if not path.exists():
        raise SystemExit(f"{path}: no such file (run `calltune eval bfcl --out {eval_dir}` first)")
    out: dict[str, dict[str, bool]] = {}
    for rec in iter_records(path):
        out.setdefault(rec.sample["category"], {})[rec.sample["id"]] = bool(rec.sample["valid"])
    return out


def read_training(run_dir: Path | None) -> dict[str, Any] | None:
    """Trained tokens, wall time and speed of a training run (its ``train_summary.json``)."""
    if run_dir is None:
        return None
    path = run_dir / "train_summary.json"
    if not path.exists():
        raise SystemExit(f"{path}: no such file (is {run_dir} a finished `calltune train` run?)")
    s = json.loads(path.read_text(encoding="utf-8"))
    cfg = s.get("config", {})
    mix = s.get("mixture") or {}
    return {
        "method": cfg.get("method"),
        "format": cfg.get("format"),
        "eta": mix.get("eta_realised"),
        "steps": s.get("steps"),
        "tokens": s.get("tokens"),
        "trained_tokens": s.get("label_tokens"),
        "seconds": s.get("train_seconds"),
        "tokens_per_s": s.get("tokens_per_s"),
    }


def build(
    systems: list[tuple[str, Path, Path | None]], categories: tuple[str, ...] = CATEGORIES
) -> dict[str, Any]:
    """Per system and category: correct, n and accuracy; the case ids checked to be the same."""
    rows: dict[str, Any] = {}
    reference: dict[str, set[str]] = {}
    for name, eval_dir, run_dir in systems:
        cases = read_cases(eval_dir)
        cats: dict[str, Any] = {}
        for cat in categories:
            got = cases.get(cat)
            if not got:
                cats[cat] = None
                continue
            ids = set(got)
            if cat in reference and ids != reference[cat]:
                raise SystemExit(
                    f"{name}: {cat} was run on other cases than the systems before it "
                    f"({len(ids ^ reference[cat])} ids differ); use the same --limit/--seed/--offset"
                )
            reference.setdefault(cat, ids)
            correct = sum(got.values())
            cats[cat] = {"correct": correct, "n": len(got), "accuracy": round(100 * correct / len(got), 1)}
        rows[name] = {"eval_dir": str(eval_dir), "categories": cats, "training": read_training(run_dir)}
    return {
        "categories": list(categories),
        "systems": rows,
        "reference": {"functiongemma-card": FUNCTIONGEMMA_CARD},
    }


def to_markdown(res: dict[str, Any]) -> str:
    cats = res["categories"]
    head = "| system | " + " | ".join(cats) + " |"
    lines = [head, "|" + " --- |" * (len(cats) + 1)]
    for name, row in res["systems"].items():
        cells = []
        for c in cats:
            v = row["categories"].get(c)
            cells.append("–" if v is None else f"{v['accuracy']:.1f} ({v['correct']}/{v['n']})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    card = res["reference"]["functiongemma-card"]
    lines.append(
        "| FunctionGemma 270M (model card, published) | "
        + " | ".join(f"{card[c]:.1f}" if c in card else "–" for c in cats)
        + " |"
    )
    train = [(n, r["training"]) for n, r in res["systems"].items() if r["training"]]
    if train:
        lines += [
            "",
            "| run | method | η realised | steps | tokens | trained tokens | wall s | tokens/s |",
            "|" + " --- |" * 8,
        ]
        for n, t in train:
            eta = "agent only" if t.get("eta") is None else f"{t['eta']:.3f}"
            lines.append(
                f"| {n} | {t.get('method')} | {eta} | {t.get('steps')} | {t.get('tokens')} | {t.get('trained_tokens')} "
                f"| {t.get('seconds')} | {t.get('tokens_per_s')} |"
            )
    return "\n".join(lines) + "\n"


def parse_system(spec: str) -> tuple[str, Path, Path | None]:
    """``NAME=EVAL_DIR[:RUN_DIR]``."""
    name, sep, rest = spec.partition("=")
    if not sep or not name or not rest:
        raise SystemExit(f"--system {spec!r}: expected NAME=EVAL_DIR[:RUN_DIR]")
    eval_dir, _, run_dir = rest.partition(":")
    return name, Path(eval_dir), Path(run_dir) if run_dir else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--system",
        action="append",
        required=True,
        help="NAME=EVAL_DIR[:RUN_DIR] (repeatable, in table order)",
    )
    ap.add_argument("--categories", default=",".join(CATEGORIES))
    ap.add_argument("--out", type=Path, default=Path("bench/results/students"))
    args = ap.parse_args(argv)
    res = build([parse_system(s) for s in args.system], tuple(c for c in args.categories.split(",") if c))
    md = to_markdown(res)
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "students.md").write_text(md, encoding="utf-8")
    write_result(args.out / "students.json", res)


if __name__ == "__main__":
    main()
