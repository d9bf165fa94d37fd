"""Load test: N concurrent clients against `calltune serve` and llama-cpp-python's own server.

Both servers run the same GGUF (default: the embedded Qwen2.5-Coder-1.5B Q4_K_M,
``calltune.models.resolve_model(None)``), one after the other, on loopback only. Each
gets the same fixed workload (tool-call requests and a few plain questions), sent by
``--clients`` threads with the official openai client, bounded by ``--requests`` and
``--time-limit``. Reported per server: p50/p95 latency, requests/s, errors, and the share
of tool-call requests answered with parseable ``tool_calls`` (a known tool name and
arguments that are a JSON object).

    flock /tmp/calltune-cpu.lock python bench/server_load.py --clients 4 --requests 12

llama-cpp-python's server needs its extras: pip install sse-starlette starlette-context pydantic-settings
(``llama-cpp-python[server]`` without rebuilding llama-cpp-python).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from openai import OpenAI

from calltune.testing import SAMPLE_SPECS, WEATHER_Q, free_port

ROOT = Path(__file__).resolve().parents[1]

TOOLS = SAMPLE_SPECS
TOOL_NAMES = {t["function"]["name"] for t in TOOLS}

# (question, expects a tool call)
WORKLOAD: list[tuple[str, bool]] = [
    (WEATHER_Q, True),
    ("How much is 250 euros in US dollars?", True),
    ("What time is it right now in Tokyo?", True),
    ("Is it raining in Lisbon? Give me the temperature in fahrenheit.", True),
    ("Convert 1200 Japanese yen to British pounds.", True),
    ("What is the local time in Nairobi?", True),
    ("Tell me the current weather in Montreal.", True),
    ("Write one sentence about why the sky is blue.", False),
    ("I need the weather for Buenos Aires, in celsius.", True),
    ("Change 75.5 Swiss francs into euros.", True),
    ("What's the time in Reykjavik now?", True),
    ("Say hello in Spanish.", False),
]


def start_server(kind: str, model: Path, port: int, ctx: int, log: Path) -> subprocess.Popen:
    if kind == "calltune":
        cmd = [sys.executable, "-m", "calltune.server", "--model", str(model), "--port", str(port)]
        cmd += ["--ctx", str(ctx), "--log-level", "warning"]
    elif kind.startswith("llama-cpp"):
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--n_ctx", str(ctx), "--verbose", "False"]
        if kind == "llama-cpp-chatml-fc":
            cmd += ["--chat_format", "chatml-function-calling"]
    else:
        raise SystemExit(f"unknown server kind {kind!r}")
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/v1/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server at {base} not ready after {timeout:.0f}s")


def parseable_calls(msg: Any) -> bool:
    calls = msg.tool_calls or []
    if not calls:
        return False
    for c in calls:
        if c.function.name not in TOOL_NAMES:
            return False
        try:
            if not isinstance(json.loads(c.function.arguments), dict):
                return False
        except (json.JSONDecodeError, TypeError):
            return False
    return True


def run_load(
    base: str, clients: int, n_requests: int, max_tokens: int, time_limit: float, timeout: float
) -> dict:
    client = OpenAI(base_url=base + "/v1", api_key="bench", max_retries=0, timeout=timeout)
    jobs = [WORKLOAD[i % len(WORKLOAD)] for i in range(n_requests)]
    results: list[dict[str, Any]] = []
    lock = threading.Lock()
    next_job = [0]
    t_start = time.monotonic()

    def worker() -> None:
        while True:
            with lock:
                i = next_job[0]
                if i >= len(jobs) or time.monotonic() - t_start > time_limit:
                    return
                next_job[0] += 1
            question, wants_call = jobs[i]
            t0 = time.monotonic()
            rec: dict[str, Any] = {"i": i, "question": question, "wants_call": wants_call}
            try:
                r = client.chat.completions.create(
                    model="bench",
                    messages=[{"role": "user", "content": question}],
                    tools=TOOLS,
                    max_tokens=max_tokens,
                    temperature=0,
                )
                msg = r.choices[0].message
                rec.update(
                    ok=True,
                    finish_reason=r.choices[0].finish_reason,
                    tool_calls=[(c.function.name, c.function.arguments) for c in msg.tool_calls or []],
                    parseable=parseable_calls(msg),
                    content=(msg.content or "")[:200],
                    completion_tokens=getattr(r.usage, "completion_tokens", None),
                )
            except Exception as exc:  # noqa: BLE001 - counted as an error
                rec.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
            rec["latency_s"] = time.monotonic() - t0
            with lock:
                results.append(rec)

    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    wall = time.monotonic() - t_start
    lat = sorted(r["latency_s"] for r in results if r["ok"])
    tool_reqs = [r for r in results if r["wants_call"]]
    ok_tool = [r for r in tool_reqs if r.get("ok") and r.get("parseable")]
    plain = [r for r in results if not r["wants_call"] and r.get("ok")]

    def pct(p: float) -> float | None:
        if not lat:
            return None
        k = min(len(lat) - 1, max(0, round(p * (len(lat) - 1))))
        return lat[k]

    return {
        "requests": len(results),
        "errors": sum(not r["ok"] for r in results),
        "wall_s": wall,
        "req_per_s": len(results) / wall if wall else 0.0,
        "p50_s": statistics.median(lat) if lat else None,
        "p95_s": pct(0.95),
        "tool_requests": len(tool_reqs),
        "tool_calls_parseable": len(ok_tool),
        "tool_call_share": len(ok_tool) / len(tool_reqs) if tool_reqs else None,
        "plain_answered_without_call": sum(not r.get("tool_calls") for r in plain),
        "plain_requests": sum(not r["wants_call"] for r in results),
        "results": sorted(results, key=lambda r: r["i"]),
    }


def fmt(v: Any, nd: int = 2) -> str:
    return "-" if v is None else f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="GGUF path (default: the embedded default model)")
    ap.add_argument(
        "--servers", default="calltune,llama-cpp", help="comma list: calltune, llama-cpp, llama-cpp-chatml-fc"
    )
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (max 16)")
    ap.add_argument("--requests", type=int, default=12, help="requests per server (max 200)")
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument(
        "--time-limit", type=float, default=150.0, help="stop sending new requests after this (s)"
    )
    ap.add_argument("--timeout", type=float, default=240.0, help="per-request timeout (s)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "server_load.json"))
    args = ap.parse_args()
    clients, n_requests = min(max(1, args.clients), 16), min(max(1, args.requests), 200)

    from calltune.models import resolve_model

    model = Path(args.model) if args.model else resolve_model(None)
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "model": model.name,
        "clients": clients,
        "requests": n_requests,
        "max_tokens": args.max_tokens,
        "ctx": args.ctx,
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "servers": {},
    }
    for kind in [s.strip() for s in args.servers.split(",") if s.strip()]:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(tempfile.gettempdir()) / f"calltune-server_load-{kind}.log"  # server output, for debugging
        print(f"[{kind}] starting on {base} …", flush=True)
        proc = start_server(kind, model, port, args.ctx, log)
        try:
            t0 = time.monotonic()
            wait_ready(base, proc, timeout=180)
            load_s = time.monotonic() - t0
            # one warm-up request (not counted): first-call costs are not the server's steady state
            OpenAI(
                base_url=base + "/v1", api_key="bench", max_retries=0, timeout=args.timeout
            ).chat.completions.create(
                model="bench", messages=[{"role": "user", "content": "Hi"}], tools=TOOLS, max_tokens=8
            )
            res = run_load(base, clients, n_requests, args.max_tokens, args.time_limit, args.timeout)
            res["startup_s"] = load_s
        except Exception as exc:  # noqa: BLE001 - reported, the other servers still run
            res = {"failed": f"{type(exc).__name__}: {exc}"}
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        report["servers"][kind] = res
        print(f"[{kind}] done: {json.dumps({k: v for k, v in res.items() if k != 'results'})}", flush=True)

    out_path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    head = f"{'server':<22}{'reqs':>6}{'errors':>8}{'p50 s':>8}{'p95 s':>8}{'req/s':>8}{'tool_calls ok':>16}"
    print()
    print(f"{model.name}, {clients} clients, {n_requests} requests each, max_tokens {args.max_tokens}")
    print(head)
    print("-" * len(head))
    for kind, r in report["servers"].items():
        if "failed" in r:
            print(f"{kind:<22}failed: {r['failed']}")
            continue
        share = f"{r['tool_calls_parseable']}/{r['tool_requests']} ({100 * (r['tool_call_share'] or 0):.0f}%)"
        print(
            f"{kind:<22}{r['requests']:>6}{r['errors']:>8}{fmt(r['p50_s']):>8}{fmt(r['p95_s']):>8}"
            f"{fmt(r['req_per_s'], 3):>8}{share:>16}"
        )
    print(f"\nwrote {out_path}")


if __name__ == "__main__":
    main()
