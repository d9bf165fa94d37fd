"""Summaries of BFCL runs: summary JSON, Markdown tables (accuracy, cost, error types) and a PNG chart.

A run directory holds ``cases/<system>.jsonl`` (one record per case, written by the
runner). Everything here is computed from those files, so a report can be rebuilt
at any time, also across several runs (``calltune eval report runs/a runs/b``).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .bfcl_data import CATEGORIES
from .leaderboard import leaderboard_markdown, measured_row, overall_score

CASES_DIR = "cases"


def system_file_name(system: str) -> str:
    """File name for a system's records (``endpoint:http://x`` → ``endpoint_http___x.jsonl``)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_.+" else "_" for ch in system)
    return f"{safe}.jsonl"


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of one JSONL file; a torn last line (interrupted write) is ignored."""
    out = []
    p = Path(path)
    if not p.exists():
        return out
    with p.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def load_run(run_dir: str | Path) -> dict[str, list[dict[str, Any]]]:
    """``{system: records}`` of a run directory (the last record per id wins)."""
    d = Path(run_dir) / CASES_DIR
    if not d.is_dir():
        raise FileNotFoundError(f"{run_dir} is not a calltune BFCL run (no {CASES_DIR}/ directory)")
    runs: dict[str, list[dict[str, Any]]] = {}
    for f in sorted(d.glob("*.jsonl")):
        recs = read_records(f)
        if not recs:
            continue
        by_id = {r["id"]: r for r in recs}
        runs[str(recs[0].get("system") or f.stem)] = list(by_id.values())
    return runs


def _pct(xs: Sequence[float], q: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))
    return s[k]


def _category_order(cats: Iterable[str]) -> list[str]:
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(set(cats), key=lambda c: (order.get(c, 99), c))


def stats(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, cost and error types of a list of case records."""
    n = len(records)
    correct = sum(1 for r in records if r.get("valid"))
    lat = [float(r.get("latency_s") or 0.0) for r in records]
    pt = [int(r.get("prompt_tokens") or 0) for r in records]
    ct = [int(r.get("completion_tokens") or 0) for r in records]
    errs = Counter(str(r.get("error_type")) for r in records if not r.get("valid"))
    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "latency_mean_s": sum(lat) / n if n else 0.0,
        "latency_p95_s": _pct(lat, 0.95),
        "prompt_tokens_mean": sum(pt) / n if n else 0.0,
        "completion_tokens_mean": sum(ct) / n if n else 0.0,
        "prompt_tokens_total": sum(pt),
        "completion_tokens_total": sum(ct),
        "error_types": dict(errs.most_common()),
    }


def common_ids(runs: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Ids finished by every system that ran the case's category (comparisons are made on the
    same cases). A system with no record in a category (an ablation run on multi-turn alone)
    does not empty that category for the others; it shows no figure there."""
    per_cat: dict[str, list[set[str]]] = defaultdict(list)
    for recs in runs.values():
        by_cat: dict[str, set[str]] = defaultdict(set)
        for r in recs:
            by_cat[r["category"]].add(r["id"])
        for cat, ids in by_cat.items():
            per_cat[cat].append(ids)
    return set().union(*(set.intersection(*sets) for sets in per_cat.values()))


def summarize(runs: dict[str, list[dict[str, Any]]], common: bool = True) -> dict[str, Any]:
    """``{"systems": {system: {"categories": {cat: stats}, "overall": stats,
    "mean_category_accuracy": float}}, "common_cases_only": bool}``.
    With ``common`` and more than one system, only cases every system finished count."""
    keep = common_ids(runs) if (common and len(runs) > 1) else None
    out: dict[str, Any] = {"systems": {}, "common_cases_only": keep is not None}
    for system, recs in runs.items():
        recs = [r for r in recs if keep is None or r["id"] in keep]
        by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in recs:
            by_cat[r["category"]].append(r)
        cats = {c: stats(by_cat[c]) for c in _category_order(by_cat)}
        accs = [s["accuracy"] for s in cats.values()]
        by_acc = {c: st["accuracy"] for c, st in cats.items()}
        board = overall_score(by_acc)
        out["systems"][system] = {
            "categories": cats,
            "overall": stats(recs),
            "mean_category_accuracy": sum(accs) / len(accs) if accs else 0.0,
            "leaderboard": {
                "row": measured_row(by_acc),
                "missing": {k: p.missing for k, p in board.items() if p.missing},
            },
        }
    return out


def _fmt_acc(s: dict[str, Any] | None) -> str:
    if not s or not s["n"]:
        return "–"
    return f"{100 * s['accuracy']:.1f} % ({s['correct']}/{s['n']})"


def markdown(summary: dict[str, Any], title: str = "BFCL results", top_errors: int = 3) -> str:
    """Accuracy table (categories × systems), cost table and dominant error types."""
    systems = list(summary["systems"])
    cats = _category_order(c for s in summary["systems"].values() for c in s["categories"])
    lines = [f"## {title}", ""]
    if summary.get("common_cases_only"):
        lines += [
            "Only cases that every system finished are counted (same cases for all; a system that did not run a category shows –).",
            "",
        ]
    lines += ["| category | " + " | ".join(systems) + " |", "| --- |" + " --- |" * len(systems)]
    for c in cats:
        row = [_fmt_acc(summary["systems"][s]["categories"].get(c)) for s in systems]
        lines.append(f"| {c} | " + " | ".join(row) + " |")
    lines.append(
        "| **all cases** | " + " | ".join(_fmt_acc(summary["systems"][s]["overall"]) for s in systems) + " |"
    )
    lines.append(
        "| **mean of categories** | "
        + " | ".join(f"{100 * summary['systems'][s]['mean_category_accuracy']:.1f} %" for s in systems)
        + " |"
    )
    lines += [
        "",
        leaderboard_markdown(
            {s: {c: st["accuracy"] for c, st in summary["systems"][s]["categories"].items()} for s in systems}
        ).rstrip(),
    ]
    lines += [
        "",
        "### Cost per case",
        "",
        "| system | cases | latency mean (s) | latency p95 (s) | prompt tokens (mean) | completion tokens (mean) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in systems:
        o = summary["systems"][s]["overall"]
        lines.append(
            f"| {s} | {o['n']} | {o['latency_mean_s']:.2f} | {o['latency_p95_s']:.2f} | "
            f"{o['prompt_tokens_mean']:.0f} | {o['completion_tokens_mean']:.1f} |"
        )
    lines += [
        "",
        "### Dominant BFCL error types (failed cases)",
        "",
        "| system | category | errors |",
        "| --- | --- | --- |",
    ]
    for s in systems:
        for c, st in summary["systems"][s]["categories"].items():
            if st["error_types"]:
                top = ", ".join(f"`{k}` ×{v}" for k, v in list(st["error_types"].items())[:top_errors])
                lines.append(f"| {s} | {c} | {top} |")
    return "\n".join(lines) + "\n"


def chart(summary: dict[str, Any], path: str | Path, title: str = "BFCL accuracy") -> Path:
    """Grouped bar chart of accuracy per category and system (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(summary["systems"])
    cats = _category_order(c for s in summary["systems"].values() for c in s["categories"])
    width = 0.8 / max(1, len(systems))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(cats) + 2), 4.2))
    for i, s in enumerate(systems):
        vals = [100 * summary["systems"][s]["categories"].get(c, {"accuracy": 0.0})["accuracy"] for c in cats]
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(cats))]
        bars = ax.bar(xs, vals, width, label=s)
        for b, v in zip(bars, vals, strict=True):
            ax.annotate(f"{v:.0f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(cats)))
    ns = [max(summary["systems"][s]["categories"].get(c, {"n": 0})["n"] for s in systems) for c in cats]
    ax.set_xticklabels([f"{c}\n(n={n})" for c, n in zip(cats, ns, strict=True)], rotation=20, ha="right")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 110)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=120)
    plt.close(fig)
    return p


def write_report(
    runs: dict[str, list[dict[str, Any]]],
    out_dir: str | Path,
    title: str = "BFCL results",
    common: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``summary.json``, ``report.md`` and ``accuracy.png`` into ``out_dir``; returns the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(runs, common=common)
    if extra:
        summary.update(extra)
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "report.md").write_text(markdown(summary, title), encoding="utf-8")
    if summary["systems"]:
        chart(summary, out / "accuracy.png", title)
    return summary


def compare_runs(run_dirs: Sequence[str | Path], common: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Merge several run directories into one ``{label: records}``; labels are
    ``<dir name>/<system>`` when more than one directory is given."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for d in run_dirs:
        for system, recs in load_run(d).items():
            label = base = system if len(run_dirs) == 1 else f"{Path(d).name}/{system}"
            k = 2
            while label in merged:  # two directories with the same name
                label, k = f"{base}#{k}", k + 1
            merged[label] = recs
    return merged
