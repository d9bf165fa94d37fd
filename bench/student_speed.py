"""Decode speed of the student (Gemma 3 270M) against the teacher (the 1.5B default model) on
llama.cpp: the same prompt, the same settings, one measured run each.

    nice -n 5 python bench/student_speed.py                       # installed Gemma 270M GGUF
    nice -n 5 python bench/student_speed.py --student runs/x      # a run exported to GGUF

Both models are loaded with ``calltune.engines.load_engine`` (a run directory with a GGUF
export loads on llama.cpp, see ``calltune export gguf``). Each model evaluates the prompt
(the hermes rendering of one tool-calling question with calltune.testing's sample tools,
tokenized by each model), then
decodes exactly ``--tokens`` greedy tokens without stopping at end-of-turn, so both decode the
same number of tokens; a short warm-up generation comes first. Prints a table and writes
bench/results/student_speed.json (with the machine's load average: other jobs may share the CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def measure(model: str, prompt: str, tokens: int, n_ctx: int) -> dict[str, Any]:
    from calltune.engines import load_engine

    t0 = time.perf_counter()
    eng = load_engine(model, n_ctx=n_ctx, progress=False, prefix_cache_bytes=0)
    load_s = time.perf_counter() - t0
    if type(eng).__name__ != "LlamaCppEngine":
        raise SystemExit(f"{model} did not load on llama.cpp ({type(eng).__name__}): export it first")
    llm = eng.llama
    ids = list(llm.tokenize(prompt.encode(), add_bos=bool(llm._model.add_bos_token()), special=True))
    try:
        _decode(llm, ids, 8)  # warm-up
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        prefill_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        _decode(llm, None, tokens)
        decode_s = time.perf_counter() - t0
        return {
            "model": model,
            "file": str(eng.model_path),
            "file_mb": round(eng.model_path.stat().st_size / 1e6, 1),
            "model_id": eng.model_id,
            "load_s": round(load_s, 2),
            "prompt_tokens": len(ids),
            "prefill_s": round(prefill_s, 3),
            "prefill_tokens_per_s": round(len(ids) / prefill_s, 1),
            "decode_tokens": tokens,
            "decode_s": round(decode_s, 3),
            "decode_tokens_per_s": round(tokens / decode_s, 2),
        }
    finally:
        eng.close()


def _decode(llm: Any, ids: list[int] | None, n: int) -> None:
    """``n`` greedy tokens after ``ids`` (None: after what the context already holds)."""
    if ids is not None:
        llm.reset()
        llm.eval(ids)
    for _ in range(n):
        tok = llm.sample(top_k=1, temp=0.0)
        llm.eval([tok])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--student", default="gemma-270m", help="gemma-270m, a .gguf, or an exported run")
    ap.add_argument("--teacher", default="default", help="the 1.5B default model")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "student_speed.json")
    args = ap.parse_args()

    from calltune.formats import get_format
    from calltune.testing import SAMPLE_TOOLS, WEATHER_Q
    from calltune.tools import to_tool_specs

    prompt = get_format("hermes").render(
        [{"role": "user", "content": WEATHER_Q}], to_tool_specs(SAMPLE_TOOLS)
    )
    load_before = os.getloadavg()
    rows = [measure(m, prompt, args.tokens, args.n_ctx) for m in (args.student, args.teacher)]
    load_after = os.getloadavg()
    student, teacher = rows
    speedup = student["decode_tokens_per_s"] / teacher["decode_tokens_per_s"]

    print(f"{'model':<34} {'MB':>7} {'prompt':>6} {'prefill tok/s':>13} {'decode tok/s':>12}")
    for r in rows:
        print(
            f"{r['model_id'][:34]:<34} {r['file_mb']:>7.1f} {r['prompt_tokens']:>6} "
            f"{r['prefill_tokens_per_s']:>13.1f} {r['decode_tokens_per_s']:>12.2f}"
        )
    print(f"student decodes {speedup:.2f}x the teacher's tokens/s")
    import llama_cpp

    result = {
        "bench": "student_speed",
        "settings": {
            "tokens": args.tokens,
            "n_ctx": args.n_ctx,
            "greedy": True,
            "threads": len(os.sched_getaffinity(0)),
            "prompt": f"hermes rendering of {WEATHER_Q!r} with calltune.testing.SAMPLE_TOOLS",
        },
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "llama_cpp_python": llama_cpp.__version__,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
            "note": "one run, niced; a BFCL benchmark and other jobs shared the 2 CPU cores, so "
            "absolute tokens/s are low and noisy; the ratio is the figure to read",
        },
        "student": student,
        "teacher": teacher,
        "student_over_teacher_decode": round(speedup, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
