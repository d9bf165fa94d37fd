"""Prefix-KV reuse on BFCL multi-turn cases: the llama.cpp engine's kept contexts on vs off.

One multi-turn case through calltune's agent (relevance check on, as by default), first with
the engine's prefix cache off (``prefix_cache_bytes=0``: llama.cpp's single context, which the
relevance check's short side question replaces between steps), then on (the long context is
kept and restored). Same model, same case, same greedy outputs expected; the table shows the
prompt tokens, how many came from the cache, and the wall time.

    python bench/prefix_cache.py --case multi_turn_base_1

Writes ``bench/results/prefix_cache/results.json``. Measurement only: the BFCL case is read
from the installed bfcl-eval package.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from calltune.engines.loader import load_engine
from calltune.eval.bfcl_data import load_category
from calltune.eval.multi_turn import MULTI_TURN_N_CTX, run_multi_turn_case
from calltune.eval.systems import CalltuneSystem


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", default="multi_turn_base_1")
    ap.add_argument("--model", default=None)
    ap.add_argument("--n-ctx", type=int, default=MULTI_TURN_N_CTX)
    ap.add_argument("--results", type=Path, default=Path(__file__).parent / "results" / "prefix_cache")
    args = ap.parse_args(argv)
    category = args.case.rsplit("_", 1)[0]
    case = {c.id: c for c in load_category(category)}[args.case]
    rows = []
    for label, cache_bytes in (("off", 0), ("on", 1 << 30)):
        eng = load_engine(args.model, n_ctx=args.n_ctx, prefix_cache_bytes=cache_bytes)
        system = CalltuneSystem(eng, name=f"cache-{label}")
        t0 = time.perf_counter()
        rec = run_multi_turn_case(
            system, case, on_progress=lambda s, lb=label: print(f"  [{lb}] {s}", flush=True)
        )
        wall = time.perf_counter() - t0
        rows.append(
            {
                "prefix_cache": label,
                "wall_s": round(wall, 2),
                "steps": sum(len(t["outputs"]) for t in rec["turns"]),
                "prompt_tokens": rec["prompt_tokens"],
                "cached_tokens": rec["cached_tokens"],
                "completion_tokens": rec["completion_tokens"],
                "valid": rec["valid"],
                "outputs": [o for t in rec["turns"] for o in t["outputs"]],
                "stats": dict(getattr(eng, "prefix_cache_stats", {})),
            }
        )
        eng.close()
    off, on = rows
    same = off["outputs"] == on["outputs"]
    print(f"\nPrefix-KV reuse on {args.case} (default model, relevance check on)\n")
    print("| prefix cache | wall (s) | steps | prompt tokens | from cache | completion tokens | BFCL valid |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        share = 100 * r["cached_tokens"] / max(1, r["prompt_tokens"])
        print(
            f"| {r['prefix_cache']} | {r['wall_s']:.1f} | {r['steps']} | {r['prompt_tokens']} | "
            f"{r['cached_tokens']} ({share:.0f} %) | {r['completion_tokens']} | {r['valid']} |"
        )
    print(f"\nspeed-up: {off['wall_s'] / max(on['wall_s'], 1e-9):.2f}x; same outputs: {same}")
    args.results.mkdir(parents=True, exist_ok=True)
    out = {"case": args.case, "same_outputs": same, "rows": rows, "date": time.strftime("%Y-%m-%d")}
    (args.results / "results.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.results / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
