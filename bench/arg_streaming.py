"""Time to the first argument byte through ``calltune serve``: call arguments sent as the model
writes them (now) against each call's arguments in one chunk once the turn has settled it
(before; ``create_app(stream_arguments=False)``), measured in the same run.

Two parts, each request streamed by the ``openai`` client over loopback:

- scripted: a :class:`~calltune.testing.ScriptedEngine` writing, in each format (hermes,
  chatglm3, glm4), a turn of two calls — a note with a long text argument and a short weather
  call — at a fixed time per token (``--token-ms``, 4 characters a token);
- model (``--model-part``): the embedded default model (Qwen2.5-Coder-1.5B GGUF, llama.cpp) asked
  to save a note it has to write; a warm-up request first, then the old and the new behaviour on
  the same prompt (greedy, so the same output). The checks that may take a call back after the
  generation are off for both (``calltune.testing.served``'s defaults, and the relevance check):
  with them on, a turn sends its calls once checked, in both behaviours (see docs/server.md).

Reported per request: time to the call's name (``first name``), to the first argument byte
(``first arg``), to the last argument byte, and the number of argument chunks.

    python bench/arg_streaming.py                                   # scripted part only
    flock /tmp/calltune-cpu.lock python bench/arg_streaming.py --model-part
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from calltune.formats import get_format
from calltune.testing import ScriptedEngine, model_turn, served

ROOT = Path(__file__).resolve().parent.parent
NOTE = {
    "type": "function",
    "function": {
        "name": "save_note",
        "description": "Save a note with a title and a text.",
        "parameters": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "text": {"type": "string"}},
            "required": ["title", "text"],
        },
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TEXT = (
    "Buy oats, spinach, lentils, salmon, eggs, tomatoes, brown rice, almonds, yoghurt and apples; "
    "plan two fish dinners and one lentil soup, and prepare lunches on Sunday evening."
)
SCRIPTED_ASK = "Save a note with my shopping plan, and tell me the weather in Paris."
MODEL_ASK = (
    "Save a note titled 'Groceries' that lists ten things to buy for a week of healthy meals, one per line."
)


def scripted_turn(fmt_name: str) -> str:
    """What a model speaking the format writes for the two calls."""
    return model_turn(
        fmt_name, [("save_note", {"title": "Shopping", "text": TEXT}), ("get_weather", {"city": "Paris"})]
    )


def measure(client: Any, ask: str, tools: list[dict[str, Any]], max_tokens: int) -> dict[str, Any]:
    """One streamed request: when the first call's name, its first and last argument bytes came."""
    t0 = time.perf_counter()
    first_name = first_arg = last_arg = None
    pieces: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    finish = None
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": ask}],
        tools=tools,
        stream=True,
        max_tokens=max_tokens,
        temperature=0,
    )
    for ch in stream:
        now = time.perf_counter() - t0
        if not ch.choices:
            continue
        finish = ch.choices[0].finish_reason or finish
        for tc in ch.choices[0].delta.tool_calls or []:
            if tc.function and tc.function.name:
                names[tc.index] = tc.function.name
                first_name = now if first_name is None else first_name
            if tc.function and tc.function.arguments:
                pieces.setdefault(tc.index, []).append(tc.function.arguments)
                first_arg = now if first_arg is None else first_arg
                if tc.index == min(pieces):
                    last_arg = now
    total = time.perf_counter() - t0
    return {
        "first_name_s": first_name,
        "first_arg_s": first_arg,
        "first_call_last_arg_s": last_arg,
        "total_s": total,
        "finish_reason": finish,
        "calls": [
            {"name": names.get(i), "arguments": "".join(p), "chunks": len(p)}
            for i, p in sorted(pieces.items())
        ],
    }


def scripted_part(token_ms: float, repeats: int) -> list[dict[str, Any]]:
    rows = []
    for fmt_name in ("hermes", "chatglm3", "glm4"):
        text = scripted_turn(fmt_name)
        for live in (False, True):
            engine = ScriptedEngine(
                [text], default_format=fmt_name, chunk_size=4, cycle=True, delay_s=token_ms / 1000
            )
            with served(engine, format=get_format(fmt_name), stream_arguments=live) as (_, client, _):
                runs = [measure(client, SCRIPTED_ASK, [NOTE, WEATHER], 4096) for _ in range(repeats)]
            row = summarize(runs)
            row.update(
                part="scripted",
                format=fmt_name,
                behaviour="as written" if live else "settled (before)",
                token_ms=token_ms,
                output_chars=len(text),
            )
            rows.append(row)
            print_row(row)
        same_arguments(rows[-2:])
    return rows


def same_arguments(pair: list[dict[str, Any]]) -> None:
    """Both behaviours sent the same calls, byte for byte (recorded on the second row)."""
    before, after = ([c["arguments"] for c in r["runs"][0]["calls"]] for r in pair)
    pair[1]["same_arguments_as_before"] = before == after
    print(f"  arguments byte for byte the same in both: {before == after}", flush=True)


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        vals = [r[key] for r in runs if r[key] is not None]
        return statistics.median(vals) if vals else None

    return {
        "first_name_s": med("first_name_s"),
        "first_arg_s": med("first_arg_s"),
        "first_call_last_arg_s": med("first_call_last_arg_s"),
        "total_s": med("total_s"),
        "arg_chunks_first_call": runs[0]["calls"][0]["chunks"] if runs[0]["calls"] else 0,
        "runs": runs,
    }


def model_part(max_tokens: int) -> list[dict[str, Any]]:
    from openai import OpenAI

    from calltune.engines import load_engine

    engine = load_engine()
    rows = []
    try:
        for label, live in (("warm-up", True), ("settled (before)", False), ("as written", True)):
            settings = {"stream_arguments": live, "check_relevance": False, "continue_calls": True}
            with served(engine, **settings) as (_, _c, srv):
                # a settled turn sends nothing before its call is ready: a client that waits long enough
                client = OpenAI(base_url=srv.base_url + "/v1", api_key="unused", max_retries=0, timeout=900)
                run = measure(client, MODEL_ASK, [NOTE, WEATHER], max_tokens)
            row = summarize([run])
            row.update(part="model", format=engine.default_format, behaviour=label, model=engine.model_id)
            print_row(row)
            if label != "warm-up":
                rows.append(row)
        same_arguments(rows[-2:])
    finally:
        engine.close()
    return rows


def fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} s"


def print_row(row: dict[str, Any]) -> None:
    print(
        f"{row['part']:8} {row['format']:9} {row['behaviour']:17} first name {fmt_s(row['first_name_s']):>8}  "
        f"first arg {fmt_s(row['first_arg_s']):>8}  last arg {fmt_s(row['first_call_last_arg_s']):>8}  "
        f"total {fmt_s(row['total_s']):>8}  chunks {row['arg_chunks_first_call']}",
        flush=True,
    )


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| part | format | arguments sent | first call's name | first argument byte | first call's last byte | whole answer | argument chunks (first call) |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        out.append(
            f"| {r['part']} | {r['format']} | {r['behaviour']} | {fmt_s(r['first_name_s'])} | {fmt_s(r['first_arg_s'])} | "
            f"{fmt_s(r['first_call_last_arg_s'])} | {fmt_s(r['total_s'])} | {r['arg_chunks_first_call']} |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--token-ms", type=float, default=40.0, help="scripted engine: time per token (4 characters)"
    )
    ap.add_argument(
        "--repeats", type=int, default=3, help="scripted engine: requests per format and behaviour"
    )
    ap.add_argument(
        "--model-part", action="store_true", help="also measure the embedded default model (once)"
    )
    ap.add_argument("--max-tokens", type=int, default=256, help="model part: completion budget")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "arg_streaming.json"))
    args = ap.parse_args()

    rows = scripted_part(args.token_ms, args.repeats)
    if args.model_part:
        rows += model_part(args.max_tokens)
    print()
    print(table(rows))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"date": time.strftime("%Y-%m-%d"), "args": vars(args), "rows": rows},
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
