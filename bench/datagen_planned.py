"""Planned first steps against the teacher writing its calls again: the same requests, the same
teacher, one run.

    nice -n 5 python bench/datagen_planned.py --from data/gen --per-category 2

Takes requests that ``--from`` (a ``calltune data generate`` folder) constructed but has not run
yet (so they are not in its trajectories), ``--per-category`` of each planned category (single,
choice, parallel, sequential), and answers each twice through the trajectory stage: once with
``plan_calls`` (the blueprint's calls run as the agent's first step) and once without (the
teacher writes the calls again, as before). Each trajectory then goes through every filter
stage (the teacher's semantic check included). The order of the two alternates from request to
request, and a short unrelated prompt runs between them, so neither reads the other's prompt
from the KV cache. Prints a table and writes bench/results/datagen_planned.json.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _results import write_result

HERE = Path(__file__).resolve().parent
CATEGORIES = ("single", "choice", "parallel", "sequential")


def pick(folder: Path, per_category: int) -> list[Any]:
    from calltune.datagen.instructions import Instruction
    from calltune.datagen.pipeline import read_jsonl

    ran = {t["id"] for t in read_jsonl(folder / "trajectories.jsonl")}
    by_cat: dict[str, list[Instruction]] = defaultdict(list)
    for g in read_jsonl(folder / "generations.jsonl"):
        for d in g.get("instructions") or []:
            ins = Instruction.from_dict(d)
            if ins.id in ran or not ins.calls or ins.category not in CATEGORIES:
                continue
            if len(by_cat[ins.category]) < per_category:
                by_cat[ins.category].append(ins)
    return [i for c in CATEGORIES for i in by_cat[c]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="folder", type=Path, default=Path("data/gen"))
    ap.add_argument("--per-category", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "datagen_planned.json")
    args = ap.parse_args()

    from calltune.datagen.cli import _load_sources
    from calltune.datagen.envs import get_environment
    from calltune.datagen.filters import FilterContext, run_stages
    from calltune.datagen.teacher import Teacher
    from calltune.datagen.trajectories import AgentSettings, Sources, run_trajectory
    from calltune.engines import SamplingParams, load_engine

    manifest = json.loads((args.folder / "manifest.json").read_text(encoding="utf-8"))
    items = pick(args.folder, args.per_category)
    if not items:
        raise SystemExit(f"{args.folder}: no constructed request of {', '.join(CATEGORIES)} is left unrun")
    pool, _ = _load_sources(None, None, None, True)
    envs = {name: get_environment(name) for name in manifest["settings"].get("envs", [])}
    engine = load_engine(None, n_ctx=8192, progress=False, prefix_cache_bytes=0)
    teacher = Teacher(engine)
    sources = Sources(pool, envs)
    ctx = FilterContext(teacher=teacher, sources=sources, semantic=True)
    rows: list[dict[str, Any]] = []
    for k, ins in enumerate(items):
        order = (True, False) if k % 2 == 0 else (False, True)
        for plan in order:
            engine.generate("Say hi.", SamplingParams(max_tokens=1))  # the KV cache holds neither run
            t0 = time.perf_counter()
            traj = run_trajectory(ins, sources, teacher, AgentSettings(plan_calls=plan))
            traj_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            verdict = run_stages(traj, ins, ctx)
            filter_s = time.perf_counter() - t1
            row = {
                "id": ins.id,
                "category": ins.category,
                "system": "planned" if plan else "agent",
                "planned": traj["planned"],
                "kept": verdict is None,
                "reject": list(verdict) if verdict else None,
                "trajectory_s": round(traj_s, 2),
                "filter_s": round(filter_s, 2),
                "answer": next(
                    (m.get("content") for m in reversed(traj["messages"]) if m.get("role") == "assistant"),
                    None,
                ),
                **{
                    k2: traj["tokens"].get(k2, 0)
                    for k2 in ("generations", "prompt_tokens", "cached_tokens", "completion_tokens")
                },
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

    summary = {}
    for system in ("planned", "agent"):
        rs = [r for r in rows if r["system"] == system]
        kept = sum(r["kept"] for r in rs)
        secs = sum(r["trajectory_s"] + r["filter_s"] for r in rs)
        summary[system] = {
            "trajectories": len(rs),
            "kept": kept,
            "s_per_trajectory": round(sum(r["trajectory_s"] for r in rs) / len(rs), 2),
            "s_per_filtering": round(sum(r["filter_s"] for r in rs) / len(rs), 2),
            "generations": sum(r["generations"] for r in rs),
            "prompt_tokens": sum(r["prompt_tokens"] - r["cached_tokens"] for r in rs),
            "completion_tokens": sum(r["completion_tokens"] for r in rs),
            "s_per_kept": round(secs / kept, 2) if kept else None,
        }
    a, b = summary["planned"], summary["agent"]
    ratio = round(b["s_per_trajectory"] / a["s_per_trajectory"], 2) if a["s_per_trajectory"] else None
    print(
        f"\n{'':10} {'traj':>5} {'kept':>5} {'s/traj':>8} {'s/filter':>9} {'gens':>5} {'read':>7} {'written':>8} {'s/kept':>8}"
    )
    for name, s in summary.items():
        print(
            f"{name:10} {s['trajectories']:>5} {s['kept']:>5} {s['s_per_trajectory']:>8} {s['s_per_filtering']:>9} "
            f"{s['generations']:>5} {s['prompt_tokens']:>7} {s['completion_tokens']:>8} {s['s_per_kept']!s:>8}"
        )
    print(f"agent / planned seconds per trajectory: {ratio}x")
    write_result(
        args.out,
        {
            "teacher": teacher.model_id,
            "from": str(args.folder),
            "summary": summary,
            "agent_over_planned_s_per_trajectory": ratio,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
