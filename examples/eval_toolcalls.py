"""Check a trained model on held-out questions: does it emit well-formed ChatGLM3 tool calls?

    python examples/eval_toolcalls.py runs/gemma-toolcalls data/toolcalls/test.jsonl [-n 40]

The model is loaded with ``calltune.engines.load_engine(run_dir)`` (the transformers engine
reads calltune.json); prompts are the ChatGLM3 rendering of the conversation up to the first
model turn, encoded exactly as in training (BOS + format segments); generation stops at
``<|user|>`` or ``<|observation|>`` and the chatglm3 parser reads the turn. Reported:
well-formed (a call turn that parses with no errors and stops at <|observation|>, or a
no-call turn that stops at <|user|>), right tool names, exact arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("data")
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--out", default=None, help="write per-sample results here (JSON)")
    a = ap.parse_args()

    from calltune.engines import load_engine
    from calltune.engines.base import SamplingParams
    from calltune.formats import get_format
    from calltune.formats.tokenizers import HFTokenizerAdapter
    from calltune.train.data import load_samples, tool_entries
    from calltune.train.encode import bos_id, sample_messages

    t = time.time()
    eng = load_engine(a.run)
    fmt = get_format(eng.default_format or "chatglm3")
    tok = eng.hf_tokenizer
    ad = HFTokenizerAdapter(tok)
    bos = bos_id(tok)
    print(f"loaded {a.run} ({eng.default_format}) in {time.time() - t:.0f}s", flush=True)
    rows = []
    for s in load_samples(a.data)[: a.n]:
        conv = s["conversations"]
        k = next(i for i, m in enumerate(conv) if m["role"] in ("assistant", "tool"))
        prefix = {"tools": s.get("tools"), "conversations": conv[:k]}
        target = conv[k]
        msgs, tools = sample_messages(prefix)
        ids, _ = fmt.encode_segments(fmt.segments(msgs, tools or None, add_generation_prompt=True), ad)
        ids = ([bos] if bos is not None else []) + ids
        comp = eng.generate(ids, SamplingParams(max_tokens=a.max_tokens, temperature=0.0, stop=fmt.stop))
        res = fmt.parse(comp.text)
        want = (
            [(c["name"], c["parameters"]) for c in tool_entries(target)] if target["role"] == "tool" else []
        )
        got = [(c.name, c.arguments) for c in res.tool_calls]
        if want:
            well = bool(got) and not res.errors and comp.stop == "<|observation|>"
        else:
            well = not got and not res.errors and comp.stop == "<|user|>"
        rows.append(
            {
                "question": conv[k - 1]["content"],
                "expected": want,
                "got": got,
                "errors": [e.message for e in res.errors],
                "stop": comp.stop,
                "text": comp.text,
                "well_formed": well,
                "names_ok": well and [n for n, _ in got] == [n for n, _ in want],
                "args_ok": well and got == want,
            }
        )
        r = rows[-1]
        print(
            f"[{'ok' if r['args_ok'] else 'WF' if well else '--'}] {r['question'][:60]!r} -> {comp.text[:90]!r} (stop {comp.stop})",
            flush=True,
        )
    n = len(rows)
    calls = [r for r in rows if r["expected"]]
    nocall = [r for r in rows if not r["expected"]]

    def share(rs: list[dict], key: str) -> float:
        return round(sum(r[key] for r in rs) / len(rs), 4) if rs else 0.0

    summary = {
        "samples": n,
        "call_samples": len(calls),
        "no_call_samples": len(nocall),
        "well_formed": share(rows, "well_formed"),
        "well_formed_calls": share(calls, "well_formed"),
        "well_formed_no_call": share(nocall, "well_formed"),
        "tool_names_correct": share(rows, "names_ok"),
        "tool_names_correct_calls": share(calls, "names_ok"),
        "exact_arguments": share(rows, "args_ok"),
        "exact_arguments_calls": share(calls, "args_ok"),
        "parallel_samples": sum(len(r["expected"]) > 1 for r in rows),
        "parallel_exact": sum(r["args_ok"] for r in rows if len(r["expected"]) > 1),
        "seconds": round(time.time() - t, 1),
    }
    print(json.dumps(summary, indent=2))
    if a.out:
        Path(a.out).write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
