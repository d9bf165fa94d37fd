"""Parity of the one-turn redesign: the same BFCL cases before and after, case by case.

Both runs are ``calltune eval bfcl --categories simple_python,multiple,parallel,parallel_multiple,irrelevance
--limit 20 --out DIR`` (seed 0) on the default model: "before" from a checkout of the commit before the
redesign, "after" from the redesigned code. This script compares their per-case records, prints a table
and writes ``bench/results/turn_parity/parity.json``::

    python bench/turn_parity.py [--before DIR] [--after DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "turn_parity"
CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")


def load(path: Path) -> dict[str, dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return {r["id"]: r for r in map(json.loads, fh)}


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for cat in CATEGORIES:
        ids = [i for i in before if before[i]["category"] == cat and i in after]
        rows.append(
            {
                "category": cat,
                "n": len(ids),
                "before": sum(bool(before[i]["valid"]) for i in ids),
                "after": sum(bool(after[i]["valid"]) for i in ids),
            }
        )
    common = [i for i in before if i in after]
    changed = [
        {"id": i, "before_valid": before[i]["valid"], "after_valid": after[i]["valid"]}
        for i in common
        if before[i]["raw"] != after[i]["raw"] or before[i]["valid"] != after[i]["valid"]
    ]
    return {
        "categories": rows,
        "cases": len(common),
        "identical_outputs": sum(before[i]["raw"] == after[i]["raw"] for i in common),
        "changed": changed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, default=RESULTS / "before")
    ap.add_argument("--after", type=Path, default=RESULTS / "after")
    args = ap.parse_args()
    res = compare(load(args.before / "cases.jsonl"), load(args.after / "cases.jsonl"))
    print("| category | before | after |\n| --- | --- | --- |")
    for r in res["categories"]:
        print(f"| {r['category']} | {r['before']}/{r['n']} | {r['after']}/{r['n']} |")
    tb, ta = sum(r["before"] for r in res["categories"]), sum(r["after"] for r in res["categories"])
    print(f"| all | {tb}/{res['cases']} | {ta}/{res['cases']} |")
    print(f"identical outputs: {res['identical_outputs']} of {res['cases']}; changed: {len(res['changed'])}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "parity.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
