"""Guided vs. unguided tool calling on the default model, same BFCL cases, one run.

Systems (all through calltune's own path: format render → engine → format parse):

====================  ==========================================================
``unguided``          tool_choice auto, no grammar (``--no-guided``)
``guided-auto``       tool_choice auto, lazy grammar (free text until a call starts)
``unguided-required`` tool_choice required, forced by prompt (calltune's fallback
                      without a grammar: instruction, check, one retry)
``guided-required``   tool_choice required, grammar
``unguided-named``    tool_choice = the expected function, forced by prompt
``guided-named``      tool_choice = the expected function, grammar
====================  ==========================================================

Measured per system: the share of outputs that parse and validate against the tool's
schema (at least one call, every call to a known tool, arguments valid under the JSON
Schema with no unknown arguments), BFCL accuracy per category with BFCL's own checker
(``calltune.eval``), and for the guided systems the per-token time of the constraint
(mask computation and application inside the llama.cpp logits processor) against the
decode step time, plus grammar compile times.

Usage (heavy: run it in the background; each chunk of cases takes the shared CPU lock)::

    nohup python bench/guided.py --limit 15 --lock /tmp/calltune-cpu.lock &

Results: ``bench/results/guided/`` (the runner's per-case JSONL, ``summary.json``,
``report.md``, the chart) and ``bench/results/guided.json`` (everything above).
The run is resumable: run the same command again to finish an interrupted run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema

from calltune.engines.base import Engine, SamplingParams
from calltune.eval.bfcl_data import BfclCase, load_cases
from calltune.eval.convert import bfcl_to_tools
from calltune.eval.report import read_records, system_file_name
from calltune.eval.runner import CASES_DIR, run_bfcl
from calltune.eval.systems import CalltuneSystem, SystemOutput
from calltune.guided import build_constraint
from calltune.guided.schema import normalize_schema
from calltune.turn import Named

ROOT = Path(__file__).resolve().parents[1]

SYSTEMS = [
    "unguided",
    "guided-auto",
    "unguided-required",
    "guided-required",
    "unguided-named",
    "guided-named",
]


class TimedEngine(Engine):
    """Delegates to an engine and keeps the usage of the last generation and its constraint."""

    def __init__(self, inner: Engine):
        self.inner = inner
        self.last_usage: dict[str, Any] | None = None
        self.last_constraint: Any = None
        for attr in ("model_id", "context_length", "chat_template", "default_format", "tokenizer"):
            setattr(self, attr, getattr(inner, attr))
        self.supports_constraints = inner.supports_constraints

    def count_tokens(self, prompt: str | list[int]) -> int:
        return self.inner.count_tokens(prompt)

    def stream(self, prompt: str | list[int], params: SamplingParams, constraint: Any = None):  # noqa: ANN201
        self.last_usage, self.last_constraint = None, constraint
        it = self.inner.stream(prompt, params, constraint)
        try:
            for ch in it:
                if ch.finish_reason is not None:
                    self.last_usage = ch.usage
                yield ch
        finally:
            it.close()


class ModeSystem(CalltuneSystem):
    """CalltuneSystem with a tool_choice mode: the turn's own policy decides how it is enforced
    (the grammar when guided; without it, the prompt forcing and retry of every calltune turn)."""

    def __init__(
        self,
        engine: TimedEngine,
        mode: str,
        guided: bool,
        name: str,
        expected: dict[str, str],
        timing_file: Path,
    ):
        # the grammar alone is compared here: no call continuation, no relevance check
        super().__init__(engine, guided=guided, name=name, continue_calls=False, check_relevance=False)
        self.mode = mode
        self.expected = expected  # question key -> the expected tool name (for named)
        self.timing_file = timing_file

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        key = question_key(messages)
        self.tool_choice = Named(self.expected[key]) if self.mode == "named" else self.mode
        out = super().answer(messages, tools)
        eng: TimedEngine = self.engine  # type: ignore[assignment]
        rec: dict[str, Any] = {"system": self.name, "key": key, "mode": str(self.tool_choice)}
        usage = eng.last_usage or {}
        rec.update(
            completion_tokens=out.completion_tokens,
            decode_s=usage.get("decode_s"),
            prefill_s=usage.get("prefill_s"),
        )
        c = eng.last_constraint
        if c is not None and c.last_processor is not None:
            rec.update(processor=c.last_processor.stats, compile_s=c.compile_s)
        with self.timing_file.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
        return out


@contextlib.contextmanager
def cpu_lock(path: str | None) -> Iterator[None]:
    if not path:
        yield
        return
    import fcntl

    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def question_key(messages: list[dict[str, Any]]) -> str:
    users = [m.get("content") or "" for m in messages if m.get("role") == "user"]
    return users[-1][:300] if users else ""


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    s = normalize_schema(schema)
    if s.get("type") == "object" and "additionalProperties" not in s:
        s["additionalProperties"] = False
    return s


def call_validity(rec: dict[str, Any], tools: list[dict[str, Any]]) -> tuple[bool, str]:
    """(valid, reason): at least one call, no parse errors, known tools, schema-valid arguments."""
    if rec.get("parse_errors"):
        return False, "parse_error"
    calls = rec.get("calls") or []
    if not calls:
        return False, "no_call"
    schemas = {t["function"]["name"]: strict_schema(t["function"].get("parameters") or {}) for t in tools}
    for c in calls:
        if c["name"] not in schemas:
            return False, "unknown_tool"
        try:
            jsonschema.validate(c["arguments"], schemas[c["name"]])
        except jsonschema.ValidationError:
            return False, "schema_invalid"
    return True, "ok"


def analyse(out: Path, cases: list[BfclCase], names: list[str]) -> dict[str, Any]:
    by_id = {c.id: c for c in cases}
    validity: dict[str, Any] = {}
    accuracy: dict[str, Any] = {}
    for n in names:
        recs = {
            r["id"]: r for r in read_records(out / CASES_DIR / system_file_name(n)) if r.get("id") in by_id
        }
        reasons: dict[str, int] = {}
        ok = 0
        per_cat: dict[str, list[bool]] = {}
        for cid, r in recs.items():
            tools, _ = bfcl_to_tools(by_id[cid].functions)
            v, why = call_validity(r, tools)
            ok += v
            reasons[why] = reasons.get(why, 0) + 1
            per_cat.setdefault(r["category"], []).append(bool(r["valid"]))
        validity[n] = {
            "n": len(recs),
            "valid": ok,
            "share": round(ok / len(recs), 4) if recs else None,
            "reasons": reasons,
        }
        accuracy[n] = {
            cat: {"n": len(v), "correct": sum(v), "accuracy": round(sum(v) / len(v), 4)}
            for cat, v in sorted(per_cat.items())
        }
        allv = [x for v in per_cat.values() for x in v]
        accuracy[n]["all"] = {
            "n": len(allv),
            "correct": sum(allv),
            "accuracy": round(sum(allv) / max(len(allv), 1), 4),
        }
    return {"validity": validity, "accuracy": accuracy}


def timing(timing_file: Path) -> dict[str, Any]:
    rows = (
        [json.loads(x) for x in timing_file.read_text().splitlines() if x.strip()]
        if timing_file.exists()
        else []
    )
    per: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        d = per.setdefault(r["system"], {"decode_ms_per_tok": [], "proc_ms_per_tok": [], "compile_ms": []})
        if r.get("decode_s") and r.get("completion_tokens", 0) > 1:
            d["decode_ms_per_tok"].append(1e3 * r["decode_s"] / (r["completion_tokens"] - 1))
        if r.get("processor"):
            d["proc_ms_per_tok"].append(r["processor"]["ms_per_token"])
            d["compile_ms"].append(1e3 * (r.get("compile_s") or 0.0))

    def med(xs: list[float]) -> float | None:
        return round(statistics.median(xs), 3) if xs else None

    out = {
        s: {k: med(v) for k, v in d.items()} | {"n": len(d["decode_ms_per_tok"])}
        for s, d in sorted(per.items())
    }
    base = out.get("unguided", {}).get("decode_ms_per_tok")
    for d in out.values():
        if base and d.get("proc_ms_per_tok") is not None:
            d["constraint_share_of_unguided_step"] = round(d["proc_ms_per_tok"] / base, 4)
        if base and d.get("decode_ms_per_tok") is not None:
            d["decode_step_vs_unguided"] = round(d["decode_ms_per_tok"] / base - 1, 4)
    return out


def micro_overhead(model_path: str | None = None, steps: int = 300) -> dict[str, Any]:
    """Constraint cost per token without running the model: random logits over the real
    vocabulary go through the llama.cpp logits processor (mask fill + apply), per mode."""
    import llama_cpp
    import numpy as np

    from calltune import models
    from calltune.guided.tokenizer_info import from_llama

    path = model_path or str(models.default_model_path(progress=False))
    llama = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    t0 = time.perf_counter()
    info = from_llama(llama)
    vocab_s = time.perf_counter() - t0
    case = load_cases("multiple", limit=1, seed=0)[0]
    tools, _ = bfcl_to_tools(case.functions)
    rng = np.random.default_rng(0)
    n = llama.n_vocab()
    out: dict[str, Any] = {"vocab_size": n, "vocab_table_s": round(vocab_s, 3), "tools": len(tools)}
    for fmt, mode in [
        ("hermes", "required"),
        ("hermes", "auto"),
        ("chatglm3", "required"),
        ("glm4", "required"),
    ]:
        c = build_constraint(fmt, tools, mode)
        t0 = time.perf_counter()
        c.compile(info)
        compile_s = time.perf_counter() - t0
        proc = c.llamacpp_logits_processor(llama)
        ids = list(range(5))
        made = 0
        for _ in range(steps):
            scores = rng.normal(size=n).astype(np.float32)
            scores = proc(np.array(ids, dtype=np.intc), scores)
            tok = int(np.argmax(scores))
            if tok in info.stop_token_ids:
                break
            ids.append(tok)
            made += 1
        out[f"{fmt}/{mode}"] = {"compile_ms": round(1e3 * compile_s, 2), "tokens": made, **proc.stats}
    llama.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=15, help="cases per category")
    ap.add_argument("--categories", default="simple_python,multiple,parallel")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "guided"))
    ap.add_argument(
        "--lock", default=None, help="flock file held around each chunk of cases (shared machines)"
    )
    ap.add_argument("--chunk", type=int, default=3, help="cases per lock hold")
    ap.add_argument("--model", default=None, help="model (default: the embedded default GGUF)")
    ap.add_argument(
        "--report-only", action="store_true", help="analyse the finished cases of a run, no model"
    )
    ap.add_argument("--micro-only", action="store_true", help="only the no-model constraint-cost measurement")
    args = ap.parse_args()

    if args.report_only:
        out = Path(args.out)
        names = [x for x in args.systems.split(",") if x]
        cases = load_cases(args.categories, limit=args.limit, seed=0)
        write_results(out, cases, names, {"model": "default", "format": "hermes"}, args)
        return
    if args.micro_only:
        micro = micro_overhead(args.model)
        dest = Path(args.out).parent / "guided_micro.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(micro, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(micro, indent=2))
        return

    from calltune.engines import load_engine

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    timing_file = out / "timing.jsonl"
    cases = load_cases(args.categories, limit=args.limit, seed=0)
    expected: dict[str, str] = {}
    for c in cases:
        tools, name_map = bfcl_to_tools(c.functions)
        inv = {v: k for k, v in name_map.items()}
        first = next(iter(c.possible_answer[0])) if c.possible_answer else tools[0]["function"]["name"]
        expected[question_key(c.messages)] = inv.get(first, tools[0]["function"]["name"])

    engine = TimedEngine(load_engine(args.model))
    names = [s for s in args.systems.split(",") if s]
    systems = []
    for n in names:
        guided = n.startswith("guided")
        mode = "auto" if n in ("unguided", "guided-auto") else n.split("-", 1)[1]
        systems.append(ModeSystem(engine, mode, guided, n, expected, timing_file))
    t0 = time.time()
    config = {"bench": "guided", "limit": args.limit, "categories": args.categories, "model": engine.model_id}
    # chunks of cases, each under the shared CPU lock (a few minutes at most per hold);
    # run_bfcl skips finished cases, so this also resumes an interrupted run
    for i in range(0, len(cases), args.chunk):
        with cpu_lock(args.lock):
            run_bfcl(
                systems,
                cases[: i + args.chunk],
                out,
                progress=sys.stderr.isatty(),
                config=config,
                title="Guided vs unguided (BFCL subset)",
            )
        print(
            f"{min(i + args.chunk, len(cases))}/{len(cases)} cases done, {time.time() - t0:.0f} s", flush=True
        )
    write_results(out, cases, names, {"model": engine.model_id, "format": systems[0].format.name}, args)


def markdown(result: dict[str, Any], names: list[str]) -> str:
    """The README table: validity, BFCL accuracy per category, constraint cost per token."""
    cats = [c for c in result["categories"]]
    head = (
        "| system | parse + validate | " + " | ".join(f"BFCL {c}" for c in cats) + " | constraint ms/token |"
    )
    lines = [head, "|" + " --- |" * (3 + len(cats))]
    for n in names:
        v = result["validity"].get(n, {})
        acc = result["accuracy"].get(n, {})
        t = result["timing"].get(n, {})
        cells = [f"{v.get('valid', 0)}/{v.get('n', 0)} ({100 * (v.get('share') or 0):.0f} %)"]
        for c in cats:
            a = acc.get(c)
            cells.append(f"{a['correct']}/{a['n']} ({100 * a['accuracy']:.0f} %)" if a else "–")
        p = t.get("proc_ms_per_tok")
        cells.append(f"{p:.2f}" if p is not None else "–")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    base = result["timing"].get("unguided", {}).get("decode_ms_per_tok")
    if base:
        lines.append("")
        lines.append(f"Unguided decode step (median): {base:.1f} ms/token on this machine.")
    return "\n".join(lines) + "\n"


def write_results(
    out: Path, cases: list[BfclCase], names: list[str], meta: dict[str, Any], args: Any
) -> None:
    """Analyse the cases every system has finished (all of them after a full run) and write
    ``guided.json`` next to the run directory, plus the runner's BFCL report."""
    from calltune.eval.report import write_report
    from calltune.eval.runner import collect

    done = None
    for n in names:
        ids = {r["id"] for r in read_records(out / CASES_DIR / system_file_name(n))}
        done = ids if done is None else done & ids
    common = [c for c in cases if c.id in (done or set())]
    summary = write_report(
        collect(out, names, {c.id for c in common}), out, title="Guided vs unguided (BFCL subset)"
    )
    result = {
        **meta,
        "limit_per_category": args.limit,
        "categories": args.categories.split(","),
        "cases_compared": len(common),
        **analyse(out, common, names),
        "timing": timing(out / "timing.jsonl"),
        "bfcl_summary": summary,
    }
    dest = out.parent / "guided.json"
    dest.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out.parent / "guided.md").write_text(markdown(result, names), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("cases_compared", "validity", "accuracy", "timing")}, indent=2))
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
