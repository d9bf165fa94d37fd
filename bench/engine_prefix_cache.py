"""Prefill time with and without the KV-cache prefix reuse of the llama.cpp engine.

A hermes prompt with a tool list (the part every request of a session shares) is sent
cold, then again with another question: the second request only evaluates the new
question. Run:  flock /tmp/calltune-cpu.lock python bench/engine_prefix_cache.py
"""

from __future__ import annotations

import argparse
import json
import uuid

from calltune.engines import SamplingParams, load_engine
from calltune.formats import get_format


def make_tools(n: int, tag: str) -> list[dict]:
    return [
        {
            "type": "function",
            "function": {
                "name": f"lookup_{tag}_{i}",
                "description": f"Look up entry {i} of the {tag} inventory by its key and return its fields.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string", "description": "The entry key."},
                        "fields": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["key"],
                },
            },
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--tools", type=int, default=8)
    ap.add_argument("--decode", type=int, default=32)
    args = ap.parse_args()
    eng = load_engine(args.model)
    fmt = get_format(eng.default_format)
    tools = make_tools(args.tools, uuid.uuid4().hex[:6])  # a tool list the engine has never seen
    questions = ["Which tool reads entry 3?", "Get the fields of entry 5 with key 'a1'.", "What can you do?"]
    rows = []
    for q in questions:
        prompt = fmt.render([{"role": "user", "content": q}], tools)
        c = eng.generate(prompt, SamplingParams(max_tokens=1))
        chunks = list(eng.stream(prompt, SamplingParams(max_tokens=1)))  # same prompt again: fully cached
        rows.append(
            {
                "question": q,
                "prompt_tokens": c.prompt_tokens,
                "prefill_s": c.timings["prefill_s"],
                "prefill_same_prompt_again_s": chunks[-1].usage["prefill_s"],
            }
        )
    c = eng.generate(
        fmt.render([{"role": "user", "content": "Write a haiku about tools."}]),
        SamplingParams(max_tokens=args.decode),
    )
    out = {
        "model": eng.model_id,
        "requests": rows,
        "cold_prefill_tok_per_s": round(rows[0]["prompt_tokens"] / rows[0]["prefill_s"], 1),
        "decode_tok_per_s": round(c.completion_tokens / max(c.timings["decode_s"], 1e-9), 1),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
