"""Structured outputs on the real default model through ``calltune serve``: schema-valid rate and
time per answer, guided (``response_format``) against a guided-off baseline, in the same run.

Ten extraction tasks, each with its own JSON Schema (nested objects, arrays of objects, enums,
numbers with bounds, optional and nullable fields, string patterns and formats). For every task
the server answers twice on loopback:

- **guided**: ``response_format: {"type": "json_schema", ...}`` — the grammar enforces the schema;
- **unguided**: no ``response_format``; the same instruction (with the schema) is sent as the system
  message, so the model sees the identical prompt (checked through ``/calltune/render``).

An answer is *valid* when ``json.loads`` reads its content and it validates against the schema
(jsonschema, with format checking). The baseline is also scored after stripping a Markdown code
fence, which is how small models often wrap JSON. Order alternates per task (guided first on even
tasks), because the second request of a pair reuses the first one's KV cache.

    flock /tmp/calltune-cpu.lock python bench/structured_outputs.py

Writes ``bench/results/structured_outputs/results.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from calltune.engines import load_engine
from calltune.server import create_app
from calltune.server.background import BackgroundServer
from calltune.turn import parse_response_format, response_instruction

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "structured_outputs"

DATE = {"type": "string", "format": "date"}
TASKS: list[dict[str, Any]] = [
    {
        "name": "contact",
        "prompt": "Extract the contact: 'Hi, I'm Maria Lopez, 34 years old. Write to maria.lopez@example.com.'",
        "schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 60},
                "age": {"type": "integer", "minimum": 0, "maximum": 130},
                "email": {"type": "string", "format": "email"},
            },
            "required": ["name", "age", "email"],
            "additionalProperties": False,
        },
    },
    {
        "name": "weather_report",
        "prompt": "Turn this into a report: 'Madrid right now: 31 degrees Celsius, clear skies, light wind.'",
        "schema": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "temperature": {"type": "number", "minimum": -90, "maximum": 60},
                "unit": {"enum": ["celsius", "fahrenheit"]},
                "conditions": {"enum": ["sunny", "cloudy", "rain", "snow", "storm", "fog"]},
            },
            "required": ["city", "temperature", "unit", "conditions"],
            "additionalProperties": False,
        },
    },
    {
        "name": "shopping_list",
        "prompt": "Make a shopping list from: 'we need two cartons of milk, a dozen eggs and 3 loaves of bread'.",
        "schema": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 8,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        "required": ["name", "quantity"],
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["items"],
            "additionalProperties": False,
        },
    },
    {
        "name": "calendar_event",
        "prompt": "Create the event: 'Team offsite on 2026-03-14 from 09:30, with Ana, Ben and Chloe.'",
        "schema": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "date": DATE,
                "start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "attendees": {"type": "array", "items": {"type": "string"}, "maxItems": 6},
            },
            "required": ["title", "date", "start", "attendees"],
            "additionalProperties": False,
        },
    },
    {
        "name": "book",
        "prompt": "Catalogue this book: 'Dune by Frank Herbert, published 1965, science fiction and adventure.'",
        "schema": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "author": {
                    "type": "object",
                    "properties": {"first": {"type": "string"}, "last": {"type": "string"}},
                    "required": ["first", "last"],
                    "additionalProperties": False,
                },
                "year": {"type": "integer", "minimum": 1400, "maximum": 2030},
                "genres": {
                    "type": "array",
                    "items": {
                        "enum": ["fiction", "science fiction", "fantasy", "adventure", "history", "poetry"]
                    },
                    "minItems": 1,
                    "maxItems": 3,
                },
            },
            "required": ["title", "author", "year", "genres"],
            "additionalProperties": False,
        },
    },
    {
        "name": "sentiment",
        "prompt": "Classify this review: 'The battery dies in two hours and support never answered. Avoid.'",
        "schema": {
            "type": "object",
            "properties": {
                "label": {"enum": ["positive", "negative", "neutral"]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "reasons": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            },
            "required": ["label", "confidence", "reasons"],
            "additionalProperties": False,
        },
    },
    {
        "name": "postal_address",
        "prompt": "Parse the address: '12 rue des Lilas, apartment 4B, 75011 Paris, France'.",
        "schema": {
            "type": "object",
            "properties": {
                "street": {"type": "string"},
                "apartment": {"type": "string"},
                "postal_code": {"type": "string", "pattern": "^[0-9]{5}$"},
                "city": {"type": "string"},
                "country": {"enum": ["FR", "DE", "ES", "IT", "GB", "US"]},
            },
            "required": ["street", "postal_code", "city", "country"],
            "additionalProperties": False,
        },
    },
    {
        "name": "product",
        "prompt": "Describe the product for the shop: 'Desk lamp, code LMP-2048, 39.90 euros, in stock, LED, dimmable.'",
        "schema": {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
                "name": {"type": "string"},
                "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000},
                "currency": {"enum": ["EUR", "USD", "GBP"]},
                "in_stock": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
            },
            "required": ["sku", "name", "price", "currency", "in_stock"],
            "additionalProperties": False,
        },
    },
    {
        "name": "recipe",
        "prompt": "Write a short pancake recipe for 4 people.",
        "schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "servings": {"type": "integer", "minimum": 1, "maximum": 12},
                "ingredients": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 8,
                    "items": {
                        "type": "object",
                        "properties": {
                            "item": {"type": "string"},
                            "amount": {"type": "number", "minimum": 0},
                            "unit": {"enum": ["g", "ml", "piece", "tbsp", "tsp"]},
                        },
                        "required": ["item", "amount", "unit"],
                        "additionalProperties": False,
                    },
                },
                "steps": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 6},
            },
            "required": ["name", "servings", "ingredients", "steps"],
            "additionalProperties": False,
        },
    },
    {
        "name": "meeting_notes",
        "prompt": (
            "Summarise: 'We agreed to ship version 2 in May. Lena will update the docs by 2026-04-20; "
            "Omar will fix the login bug, no date yet. No follow-up meeting is planned.'"
        ),
        "schema": {
            "type": "object",
            "properties": {
                "decisions": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
                "action_items": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                        "type": "object",
                        "properties": {
                            "owner": {"type": "string"},
                            "task": {"type": "string"},
                            "due": {"anyOf": [DATE, {"type": "null"}]},
                        },
                        "required": ["owner", "task", "due"],
                        "additionalProperties": False,
                    },
                },
                "next_meeting": {"anyOf": [DATE, {"type": "null"}]},
            },
            "required": ["decisions", "action_items", "next_meeting"],
            "additionalProperties": False,
        },
    },
]

FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?```\s*$", re.S)


def response_format(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": task["name"], "schema": task["schema"], "strict": True},
    }


def judge(content: str | None, schema: dict[str, Any]) -> dict[str, Any]:
    """Whether ``content`` is JSON that follows ``schema`` (as it is, and after removing a code
    fence), and why not (the first problem)."""
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    out: dict[str, Any] = {"error": None}
    for key, text in (("valid", content or ""), ("valid_unfenced", FENCE.sub(r"\1", content or ""))):
        try:
            errors = [e.message for e in validator.iter_errors(json.loads(text))]
        except json.JSONDecodeError as exc:
            errors = [f"not JSON: {exc.msg}"]
        out[key] = not errors
        out["error"] = out["error"] or (errors[0] if errors else None)
    return out


def ask(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    r = client.post("/v1/chat/completions", json=body)
    seconds = time.perf_counter() - t0
    r.raise_for_status()
    data = r.json()
    choice = data["choices"][0]
    return {
        "content": choice["message"]["content"],
        "finish_reason": choice["finish_reason"],
        "completion_tokens": data["usage"]["completion_tokens"],
        "prompt_tokens": data["usage"]["prompt_tokens"],
        "seconds": round(seconds, 2),
    }


def run_task(client: httpx.Client, task: dict[str, Any], i: int, max_tokens: int) -> dict[str, Any]:
    rf = response_format(task)
    user = [{"role": "user", "content": task["prompt"]}]
    system = [{"role": "system", "content": response_instruction(parse_response_format(rf))}]
    bodies = {
        "guided": {"messages": user, "response_format": rf, "max_tokens": max_tokens, "temperature": 0},
        "unguided": {"messages": system + user, "max_tokens": max_tokens, "temperature": 0},
    }
    prompts = {k: client.post("/calltune/render", json=b).json()["prompt"] for k, b in bodies.items()}
    assert prompts["guided"] == prompts["unguided"], f"{task['name']}: the two prompts differ"
    order = ["guided", "unguided"] if i % 2 == 0 else ["unguided", "guided"]
    rec: dict[str, Any] = {"task": task["name"], "first": order[0]}
    for system_name in order:
        ans = ask(client, bodies[system_name])
        rec[system_name] = {**ans, **judge(ans["content"], task["schema"])}
        print(f"  {task['name']:16} {system_name:9} valid={rec[system_name]['valid']!s:5} "
              f"{ans['seconds']:6.1f} s {ans['completion_tokens']:4} tok  {ans['content']!r:.100}", flush=True)  # fmt: skip
    return rec


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    out: dict[str, Any] = {}
    for system_name in ("guided", "unguided"):
        rs = [r[system_name] for r in records]
        out[system_name] = {
            "valid": sum(r["valid"] for r in rs),
            "valid_unfenced": sum(r["valid_unfenced"] for r in rs),
            "n": n,
            "seconds_mean": round(statistics.mean(r["seconds"] for r in rs), 2),
            "seconds_median": round(statistics.median(r["seconds"] for r in rs), 2),
            "completion_tokens_mean": round(statistics.mean(r["completion_tokens"] for r in rs), 1),
        }
    return out


def table(records: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [
        "| schema | guided: valid | guided: s | guided: tokens | unguided: valid | unguided: valid without a code fence | unguided: s | unguided: tokens |",
        "| --- | :---: | ---: | ---: | :---: | :---: | ---: | ---: |",
    ]  # fmt: skip
    mark = {True: "yes", False: "no"}
    for r in records:
        g, u = r["guided"], r["unguided"]
        lines.append(
            f"| {r['task']} | {mark[g['valid']]} | {g['seconds']:.1f} | {g['completion_tokens']} | "
            f"{mark[u['valid']]} | {mark[u['valid_unfenced']]} | {u['seconds']:.1f} | {u['completion_tokens']} |"
        )
    g, u = summary["guided"], summary["unguided"]
    lines.append(
        f"| **all** | **{g['valid']}/{g['n']}** | {g['seconds_mean']:.1f} (mean) | {g['completion_tokens_mean']:.0f} | "
        f"**{u['valid']}/{u['n']}** | **{u['valid_unfenced']}/{u['n']}** | {u['seconds_mean']:.1f} (mean) | "
        f"{u['completion_tokens_mean']:.0f} |"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="default: the embedded Qwen2.5-Coder-1.5B GGUF")
    ap.add_argument("--max-tokens", type=int, default=400)
    ap.add_argument("--limit", type=int, default=len(TASKS), help="first N tasks only")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    engine = load_engine(args.model)
    app = create_app(engine)
    records = []
    t0 = time.perf_counter()
    with BackgroundServer(app) as srv, httpx.Client(base_url=srv.base_url, timeout=600) as client:
        for i, task in enumerate(TASKS[: args.limit]):
            records.append(run_task(client, task, i, args.max_tokens))
    summary = summarise(records)
    result = {
        "date": date.today().isoformat(),
        "model": engine.model_id,
        "format": app.state.service.format.name,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "max_tokens": args.max_tokens,
        "temperature": 0,
        "total_s": round(time.perf_counter() - t0, 1),
        "summary": summary,
        "records": records,
        "schemas": {t["name"]: {"prompt": t["prompt"], "schema": t["schema"]} for t in TASKS[: args.limit]},
    }
    engine.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    md = table(records, summary)
    (args.out / "table.md").write_text(md + "\n", encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
