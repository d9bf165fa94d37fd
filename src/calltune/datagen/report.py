"""``calltune data report DIR``: what a generation run produced and what it threw away.

Read from the run's journals only (:mod:`calltune.datagen.pipeline`): the yield of every
stage, the category mix and languages, tools and domains covered, tokens, time per teacher
generation, per trajectory and per kept trajectory, rejects by reason with an example each,
and the decontamination result. Written as ``report.json`` and ``report.md``, printed as rich
tables.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .filters import STAGES


def _read(path: Path) -> list[dict[str, Any]]:
    from .pipeline import read_jsonl

    return read_jsonl(path)


def decontam_current(out: str | Path) -> bool:
    """Whether ``out/decontam.json`` checked the ``kept.jsonl`` there now (an interrupted run
    never reached its end-of-run check, and a resumed one keeps more samples after it)."""
    out = Path(out)
    path = out / "decontam.json"
    if not path.exists():
        return False
    kept = out / "kept.jsonl"
    n = len(_read(kept)) if kept.exists() else 0
    return json.loads(path.read_text(encoding="utf-8")).get("records") == n


def check_run_decontam(out: str | Path, threshold: float, index: Any = None) -> Any:
    """Check a run's ``kept.jsonl`` against BFCL and write ``decontam.json``; the
    :class:`~calltune.datagen.decontam.DecontamReport`."""
    from .decontam import check_records

    out = Path(out)
    kept = out / "kept.jsonl"
    rep = check_records(_read(kept) if kept.exists() else [], threshold, index=index)
    (out / "decontam.json").write_text(
        json.dumps(rep.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return rep


def reason_kind(reason: str) -> str:
    """A reason without its particulars (quoted values, numbers), so that like rejects group."""
    r = re.sub(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]", "…", reason)
    r = re.sub(r"\d+(\.\d+)?", "N", r)
    return r[:100]


def _stages(gens: list[dict[str, Any]], trajs: list[dict[str, Any]], asked: int) -> list[dict[str, Any]]:
    """In, rejected and out of every stage: construction (requests asked → usable), dedupe and
    decontamination of requests, then each trajectory filter (on the trajectories run)."""
    rows = []
    early = Counter(r["stage"] for g in gens for r in g["rejects"])
    screened = sum(len(g["instructions"]) for g in gens) + early["dedupe"] + early["decontam"]
    n = asked
    for name, out in (
        ("instructions", screened),
        ("dedupe", screened - early["dedupe"]),
        ("decontam (requests)", screened - early["dedupe"] - early["decontam"]),
    ):
        rows.append({"stage": name, "in": n, "rejected": n - out, "out": out})
        n = out
    late = Counter(t["verdict"].get("stage") for t in trajs if not t["verdict"]["kept"])
    n = len(trajs)
    for name, _ in STAGES:
        rows.append({"stage": name, "in": n, "rejected": late[name], "out": n - late[name]})
        n -= late[name]
    return rows


def build_report(out: str | Path) -> dict[str, Any]:
    """The report of the run in ``out``."""
    from .pipeline import FILES

    out = Path(out)
    manifest = json.loads((out / FILES["manifest"]).read_text(encoding="utf-8"))
    gens = _read(out / FILES["generations"])
    instructions = _read(out / FILES["instructions"])
    wanted = {i["id"] for i in instructions}
    trajs = [t for t in _read(out / FILES["trajectories"]) if t["id"] in wanted]
    kept = [t for t in trajs if t["verdict"]["kept"]]
    rejects = _read(out / FILES["rejects"])

    teacher_gens = [g for g in gens if "seconds" in g]
    gen_s = sum(g["seconds"] for g in teacher_gens)
    traj_s = sum(t.get("seconds", 0.0) for t in trajs)
    sem_s = sum(t["semantic"].get("seconds", 0.0) for t in trajs if isinstance(t.get("semantic"), dict))
    sems = [t["semantic"] for t in trajs if isinstance(t.get("semantic"), dict)]
    wall_s = busy_seconds([*teacher_gens, *trajs, *sems])
    per_gen = manifest["settings"]["per_generation"]
    asked = per_gen * len(teacher_gens) + sum(len(g["instructions"]) for g in gens if "seconds" not in g)
    stages = _stages(gens, trajs, asked)
    reasons: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rejects:
        key = (r["stage"], reason_kind(r["reason"]))
        if key not in reasons:
            reasons[key] = {"stage": key[0], "reason": key[1], "count": 0, "example": r}
        reasons[key]["count"] += 1

    tok = Counter()
    for g in teacher_gens:
        tok["instructions_prompt"] += g.get("prompt_tokens", 0)
        tok["instructions_completion"] += g.get("completion_tokens", 0)
    for t in trajs:
        for k, v in (t.get("tokens") or {}).items():
            tok[f"trajectory_{k}"] += v
        sem = t.get("semantic")
        if isinstance(sem, dict):
            tok["semantic_prompt"] += sem.get("prompt_tokens", 0)
            tok["semantic_completion"] += sem.get("completion_tokens", 0)

    called = Counter(c["name"] for t in kept for c in t.get("calls", []))
    offered = Counter(s["function"]["name"] for t in kept for s in t.get("tools", []))
    decontam_path = out / "decontam.json"
    report = {
        "out": str(out),
        "teacher": manifest.get("teacher_model"),
        "settings": manifest.get("settings"),
        "counts": {
            "generations": len(teacher_gens),
            "requests_asked": asked,
            "instructions": len(instructions),
            "trajectories": len(trajs),
            "kept": len(kept),
            "yield": round(len(kept) / len(trajs), 3) if trajs else 0.0,
        },
        "stages": stages,
        "categories": {
            "instructions": dict(Counter(i["category"] for i in instructions)),
            "kept": dict(Counter(t["category"] for t in kept)),
        },
        "languages": {
            "instructions": dict(Counter(i["lang"] for i in instructions)),
            "kept": dict(Counter(t["lang"] for t in kept)),
        },
        "tools": {
            "library": manifest.get("tools"),
            "offered_in_kept": len(offered),
            "called_in_kept": len(called),
            "most_called": called.most_common(10),
        },
        "domains": dict(Counter(d for t in kept for d in t.get("domains", []))),
        "simulated_in_kept": sum(1 for t in kept if t.get("simulated")),
        # trajectories whose first step ran the blueprint's calls (AgentSettings.plan_calls)
        "planned": {
            "trajectories": sum(1 for t in trajs if t.get("planned")),
            "kept": sum(1 for t in kept if t.get("planned")),
        },
        "tokens": dict(tok),
        "time": {
            "generation_s": round(gen_s, 2),
            "trajectory_s": round(traj_s, 2),
            "per_generation_s": round(gen_s / len(teacher_gens), 2) if teacher_gens else None,
            "per_trajectory_s": round(traj_s / len(trajs), 2) if trajs else None,
            "semantic_s": round(sem_s, 2),
            "per_semantic_check_s": round(sem_s / len(trajs), 2) if trajs else None,
            "per_kept_s": round((gen_s + traj_s + sem_s) / len(kept), 2) if kept else None,
            # the sums above add up work that ran at once (--concurrency); these are the clock's
            "wall_s": round(wall_s, 2),
            "wall_per_kept_s": round(wall_s / len(kept), 2) if kept else None,
            "kept_per_hour": round(3600 * len(kept) / wall_s, 1) if kept and wall_s else None,
        },
        "rejects": sorted(reasons.values(), key=lambda r: (-r["count"], r["stage"])),
        "decontam": json.loads(decontam_path.read_text(encoding="utf-8")) if decontam_path.exists() else None,
    }
    return report


def busy_seconds(records: list[dict[str, Any]]) -> float:
    """Seconds during which any of ``records`` (with ``seconds`` and ``started``) ran: the union
    of their intervals, so that work done at once counts once. A record without ``started``
    (written before it was recorded) counts its own seconds."""
    spans = sorted((r["started"], r["started"] + r["seconds"]) for r in records if r.get("started"))
    total = sum(r.get("seconds", 0.0) for r in records if not r.get("started"))
    end = float("-inf")
    for a, b in spans:
        if a > end:
            total += b - a
        elif b > end:
            total += b - end
        end = max(end, b)
    return total


def _fmt_counts(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "—"


def report_markdown(rep: dict[str, Any]) -> str:
    c, t = rep["counts"], rep["time"]
    lines = [
        f"# Generation report: {rep['out']}",
        "",
        f"Teacher: {rep['teacher']}. {c['generations']} generations ({c['requests_asked']} requests asked), "
        f"{c['instructions']} instructions, {c['trajectories']} trajectories, **{c['kept']} kept** "
        f"(yield {c['yield']:.0%} of trajectories).",
        "",
        f"Time: {t['per_generation_s']} s per instruction generation, {t['per_trajectory_s']} s per "
        f"trajectory, {t['per_semantic_check_s']} s per semantic check, {t['per_kept_s']} s per kept "
        "trajectory (all the teacher's time, divided by the kept; work done at once adds up). "
        f"Wall clock: {t.get('wall_s')} s busy, {t.get('wall_per_kept_s')} s per kept trajectory, "
        f"{t.get('kept_per_hour')} kept per hour.",
        "",
        f"Planned first steps (the blueprint's calls run, not written again): "
        f"{(rep.get('planned') or {}).get('trajectories', 0)} trajectories, "
        f"{(rep.get('planned') or {}).get('kept', 0)} kept.",
        "",
        "| stage | in | rejected | out |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {s['stage']} | {s['in']} | {s['rejected']} | {s['out']} |" for s in rep["stages"]),
        "",
        f"Categories (kept): {_fmt_counts(rep['categories']['kept'])}",
        f"Categories (instructions): {_fmt_counts(rep['categories']['instructions'])}",
        f"Languages (kept): {_fmt_counts(rep['languages']['kept'])}",
        f"Domains (kept): {_fmt_counts(rep['domains'])}",
        f"Tools: {rep['tools']['called_in_kept']} called and {rep['tools']['offered_in_kept']} offered in kept "
        f"samples, of {rep['tools']['library']} in the pool; {rep['simulated_in_kept']} kept samples use simulated tools.",
        f"Tokens: {_fmt_counts(rep['tokens'])}",
        "",
        "## Rejects by reason",
        "",
        "| stage | reason | count | example |",
        "| --- | --- | ---: | --- |",
    ]
    for r in rep["rejects"]:
        ex = r["example"]
        text = (ex.get("request") or "")[:80].replace("|", "\\|").replace("\n", " ")
        reason = r["reason"].replace("|", "\\|")
        lines.append(f"| {r['stage']} | {reason} | {r['count']} | {ex['id']}: {text} |")
    d = rep.get("decontam")
    lines += ["", "## Decontamination (BFCL)", ""]
    if d:
        case = d.get("max_case") or {}
        lines.append(
            f"{'OK' if d['ok'] else 'CONTAMINATED'}: max overlap {d['max_overlap']} (threshold {d['threshold']})"
            + (f", {case.get('record')} ~ {case.get('bfcl_id')}" if case else "")
            + f"; {len(d['over_threshold'])} texts above it; BFCL names used: {len(d['name_hits'])}."
        )
    else:
        lines.append("not run")
    return "\n".join(lines) + "\n"


def write_report(out: str | Path, rep: dict[str, Any]) -> None:
    out = Path(out)
    (out / "report.json").write_text(json.dumps(rep, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "report.md").write_text(report_markdown(rep), encoding="utf-8")


def print_report(rep: dict[str, Any], console: Console | None = None) -> None:
    """The report as rich tables."""
    con = console or Console()
    c, t = rep["counts"], rep["time"]
    head = Table(title=f"data generate: {rep['out']}", show_header=False)
    head.add_row("teacher", str(rep["teacher"]))
    head.add_row("kept / trajectories", f"{c['kept']} / {c['trajectories']} ({c['yield']:.0%})")
    head.add_row("generations (requests asked)", f"{c['generations']} ({c['requests_asked']})")
    head.add_row(
        "s per generation / trajectory / semantic check / kept",
        f"{t['per_generation_s']} / {t['per_trajectory_s']} / {t['per_semantic_check_s']} / {t['per_kept_s']}",
    )
    head.add_row(
        "wall clock: s busy / s per kept / kept per hour",
        f"{t.get('wall_s')} / {t.get('wall_per_kept_s')} / {t.get('kept_per_hour')}",
    )
    planned = rep.get("planned") or {}
    head.add_row(
        "planned first step: trajectories / kept",
        f"{planned.get('trajectories', 0)} / {planned.get('kept', 0)}",
    )
    head.add_row("categories (kept)", _fmt_counts(rep["categories"]["kept"]))
    head.add_row("languages (kept)", _fmt_counts(rep["languages"]["kept"]))
    head.add_row("domains (kept)", _fmt_counts(rep["domains"]))
    head.add_row(
        "tools called / offered / pool",
        f"{rep['tools']['called_in_kept']} / {rep['tools']['offered_in_kept']} / {rep['tools']['library']}",
    )
    head.add_row("tokens", _fmt_counts(rep["tokens"]))
    d = rep.get("decontam")
    if d:
        head.add_row(
            "BFCL overlap",
            f"{'ok' if d['ok'] else 'CONTAMINATED'}: max {d['max_overlap']} (threshold {d['threshold']})",
        )
    con.print(head)
    st = Table(title="stages")
    for col in ("stage", "in", "rejected", "out"):
        st.add_column(col, justify="left" if col == "stage" else "right")
    for s in rep["stages"]:
        st.add_row(s["stage"], str(s["in"]), str(s["rejected"]), str(s["out"]))
    con.print(st)
    if rep["rejects"]:
        rt = Table(title="rejects by reason")
        for col in ("stage", "reason", "n", "example"):
            rt.add_column(col)
        for r in rep["rejects"][:25]:
            ex = r["example"]
            rt.add_row(
                r["stage"], r["reason"], str(r["count"]), f"{ex['id']}: {(ex.get('request') or '')[:60]}"
            )
        con.print(rt)
