"""Continuous batching on llama.cpp: one sequence at a time vs ``parallel`` decoded together.

The same requests — tool-calling turns over tools of calltune's own library (a hermes prompt
with 6 tools, ~700 tokens, and a request the model answers with a call) — sent by
``--requests`` threads at once, first to the one-sequence :class:`LlamaCppEngine` (the
requests queue on its lock), then to :class:`BatchedLlamaCppEngine` at each ``--parallel``.
Greedy decoding; the table shows wall time, completion tokens per second, the speed-up over
the one-sequence engine of this run, and how many outputs equal its outputs.

    python bench/batched_decode.py --requests 8 --parallel 2,4,8

``--no-tools`` sends short chat requests answered at length instead (decode-heavy).
Writes ``bench/results/batched_decode/results_tools.json`` (``results_no_tools.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from calltune.datagen.library import load_library
from calltune.engines.base import SamplingParams
from calltune.engines.loader import load_engine
from calltune.formats import get_format

REQUESTS = [
    "Convert 12.5 kilometres to miles.",
    "What is 17% of 2,340?",
    "How many days are there between 2026-03-01 and 2026-07-15?",
    "Give me the area of a circle with radius 4.2 cm.",
    "Turn the phrase 'Hello Batch World' into a URL slug.",
    "What is the mean of 3, 9, 14 and 22?",
    "Convert 98.6 degrees Fahrenheit to Celsius.",
    "Is 2027 a leap year?",
    "Split a bill of 184.40 between 4 people with a 12% tip.",
    "How many words are in 'the quick brown fox jumps'?",
    "Convert 3 cups to millilitres.",
    "What weekday was 2024-02-29?",
]


def prompts(n: int, seed: int = 0, tools: bool = True) -> list[str]:
    fmt = get_format("hermes")
    if not tools:  # decode-heavy: short chat requests answered at length
        return [
            fmt.render([{"role": "user", "content": f"Explain in a paragraph how to: {r.lower()}"}])
            for r in (REQUESTS * n)[:n]
        ]
    lib = [t for t in load_library() if not t.simulated]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        tools = [t.tool.spec() for t in rng.sample(lib, 6)]
        messages = [{"role": "user", "content": REQUESTS[i % len(REQUESTS)]}]
        out.append(fmt.render(messages, tools))
    return out


def run(engine, items: list[str], max_tokens: int, threads: int) -> tuple[list, float]:
    params = SamplingParams(max_tokens=max_tokens)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:
        outs = list(ex.map(lambda p: engine.generate(p, params), items))
    return outs, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--parallel", default="2,4,8")
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument(
        "--no-tools", action="store_true", help="short chat prompts instead of tool prompts (decode-heavy)"
    )
    ap.add_argument("--results", type=Path, default=Path(__file__).parent / "results" / "batched_decode")
    args = ap.parse_args(argv)
    items = prompts(args.requests, tools=not args.no_tools)
    rows = []
    eng = load_engine(args.model, progress=False)
    prompt_tokens = sum(eng.count_tokens(p) for p in items)
    base, base_s = run(eng, items, args.max_tokens, args.requests)
    eng.close()
    ntok = sum(o.completion_tokens for o in base)
    rows.append(
        {
            "engine": "one sequence",
            "parallel": 1,
            "wall_s": base_s,
            "completion_tokens": ntok,
            "tok_per_s": ntok / base_s,
            "speedup": 1.0,
            "same_as_one": len(base),
        }
    )
    for p in [int(x) for x in args.parallel.split(",") if x]:
        eng = load_engine(args.model, parallel=p, progress=False)
        outs, wall = run(eng, items, args.max_tokens, args.requests)
        stats = dict(eng.stats)
        eng.close()
        n = sum(o.completion_tokens for o in outs)
        rows.append(
            {
                "engine": "batched",
                "parallel": p,
                "wall_s": wall,
                "completion_tokens": n,
                "tok_per_s": n / wall,
                "speedup": base_s / wall,
                "same_as_one": sum(a.text == b.text for a, b in zip(base, outs, strict=True)),
                "steps": stats["steps"],
                "max_running": stats["max_running"],
            }
        )
    print(f"{args.requests} requests, {prompt_tokens} prompt tokens, max_tokens {args.max_tokens}")
    print(f"{'engine':<14}{'parallel':>9}{'wall s':>9}{'tok':>6}{'tok/s':>8}{'speed-up':>10}{'same':>6}")
    for r in rows:
        print(
            f"{r['engine']:<14}{r['parallel']:>9}{r['wall_s']:>9.1f}{r['completion_tokens']:>6}"
            f"{r['tok_per_s']:>8.2f}{r['speedup']:>9.2f}×{r['same_as_one']:>4}/{len(items)}"
        )
    args.results.mkdir(parents=True, exist_ok=True)
    name = "results_no_tools.json" if args.no_tools else "results_tools.json"
    (args.results / name).write_text(
        json.dumps(
            {
                "workload": "chat (no tools)" if args.no_tools else "tool prompts",
                "requests": args.requests,
                "prompt_tokens": prompt_tokens,
                "max_tokens": args.max_tokens,
                "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform()},
                "rows": rows,
            },
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
