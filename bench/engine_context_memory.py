"""Resident memory of the llama.cpp engine while it switches between long contexts.

An eval (or a server) alternates between requests that share little: each switch away
from a long context saves that context's state in the engine's prefix cache. This sends
``--contexts`` different long prompts, each followed by a short unrelated one, and reads
the process's resident memory after every request, in two child processes:

* ``save_state``: the states are saved with llama-cpp-python's ``Llama.save_state``,
  which also copies up to ``n_batch`` rows of ``n_vocab`` floats per state (the baseline;
  calltune used it until the eval of a Gemma student was killed at 24 GB);
* ``kv_only``: calltune's ``save_context``, the KV state alone.

Run:  flock /tmp/calltune-cpu.lock python bench/engine_context_memory.py --model M.gguf
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from _results import write_result


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def child(model: str, variant: str, contexts: int, tokens: int) -> dict:
    from calltune.engines import SamplingParams, llamacpp
    from calltune.engines.llamacpp import LlamaCppEngine

    if variant == "save_state":  # the library's own save/load, scores rows included
        llamacpp.save_context = lambda llama: llama.save_state()
        llamacpp.load_context = lambda llama, state: llama.load_state(state)
    eng = LlamaCppEngine(model, progress=False)
    params = SamplingParams(max_tokens=1, temperature=0.0)
    start = rss_mb()
    trace = []
    t0 = time.perf_counter()
    filler = " ".join(f"word{i}" for i in range(tokens // 2))
    for i in range(contexts):
        eng.generate(f"Context {i} {uuid.uuid4().hex}. {filler}\nSummarise this.", params)
        eng.generate(f"Short question {i}: yes or no?", params)  # saves the long context
        trace.append(round(rss_mb() - start, 1))
    states = list(eng._prefix_cache.cache_state.values())
    return {
        "variant": variant,
        "n_vocab": eng.llama.n_vocab(),
        "n_batch": eng.llama.n_batch,
        "contexts": contexts,
        "saved": eng.prefix_cache_stats["saved"],
        "kept_states": len(states),
        "kept_kv_mb": round(sum(s.llama_state_size for s in states) / 2**20, 1),
        "kept_scores_mb": round(sum(s.scores.nbytes for s in states) / 2**20, 1),
        "rss_start_mb": round(start, 1),
        "rss_growth_mb": trace[-1],
        "rss_growth_trace_mb": trace,
        "wall_s": round(time.perf_counter() - t0, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a .gguf file")
    ap.add_argument("--contexts", type=int, default=8, help="long contexts to switch away from")
    ap.add_argument("--tokens", type=int, default=600, help="about this many tokens per long context")
    ap.add_argument("--variant", choices=["save_state", "kv_only"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:  # child process
        print(json.dumps(child(args.model, args.variant, args.contexts, args.tokens)))
        return
    rows = []
    for variant in ("save_state", "kv_only"):
        cmd = [sys.executable, __file__, "--model", args.model, "--variant", variant,
               "--contexts", str(args.contexts), "--tokens", str(args.tokens)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"{'variant':<11} {'saved':>5} {'kept':>4} {'KV MB':>7} {'scores MB':>9} {'RSS growth MB':>13} {'s':>6}"
    )
    for r in rows:
        print(
            f"{r['variant']:<11} {r['saved']:>5} {r['kept_states']:>4} {r['kept_kv_mb']:>7} "
            f"{r['kept_scores_mb']:>9} {r['rss_growth_mb']:>13} {r['wall_s']:>6}"
        )
    base, ours = rows
    ratio = base["rss_growth_mb"] / max(ours["rss_growth_mb"], 1.0)
    print(f"RSS growth: save_state / kv_only = {ratio:.1f}x")
    write_result(
        Path(__file__).parent / "results" / "engine_context_memory.json",
        {
            "model": Path(args.model).name,
            "tokens": args.tokens,
            "rows": rows,
            "growth_ratio": round(ratio, 1),
        },
    )


if __name__ == "__main__":
    main()
