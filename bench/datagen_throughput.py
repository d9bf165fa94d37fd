"""Generation throughput: the teacher in-process against the same teacher behind a loopback
OpenAI-compatible server (``calltune serve``), the same run settings, one bench run.

    nice -n 5 python bench/datagen_throughput.py --n 24 --concurrency 4

Each system makes a fresh ``calltune data generate`` run (the library's tools, ``--seed``,
``--n`` requests, ``--concurrency``) into a temporary folder:

- ``in-process``: the default model on llama.cpp with ``--concurrency`` sequences decoded
  together (the batching engine).
- ``loopback``: ``calltune serve --parallel C`` on 127.0.0.1, and ``--teacher http://.../v1``
  with ``--concurrency C`` (what a user does with vLLM on a GPU box). The remote teacher sends
  its reply schemas as ``response_format`` (``POST /v1/completions``), which the server's
  grammar enforces.

Prints kept, trajectories, wall seconds and kept per hour per system and writes
bench/results/datagen_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _results import write_result

HERE = Path(__file__).resolve().parent
CLI = [str(Path(sys.executable).with_name("calltune"))]  # the venv's entry point


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=5):
                return
        except OSError:
            time.sleep(2)
    raise SystemExit("the server did not come up")


def generate(out: Path, teacher: str | None, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        *CLI,
        "data",
        "generate",
        "--out",
        str(out),
        "--n",
        str(args.n),
        "--seed",
        str(args.seed),
        "--concurrency",
        str(args.concurrency),
        *(["--teacher", teacher] if teacher else []),
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    c = rep["counts"]
    return {
        "teacher": teacher or "default (in-process)",
        "kept": c["kept"],
        "trajectories": c["trajectories"],
        "instructions": c["instructions"],
        "requests_asked": c["requests_asked"],
        "wall_s": round(wall, 1),
        "busy_s": rep["time"].get("wall_s"),
        "kept_per_hour": round(3600 * c["kept"] / wall, 1) if wall else None,
        "categories": rep["categories"]["kept"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "datagen_throughput.json")
    args = ap.parse_args()
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["in-process"] = generate(Path(tmp) / "local", None, args)
        print(json.dumps({"in-process": rows["in-process"]}), flush=True)
        port = free_port()
        server = subprocess.Popen(
            [
                *CLI,
                "serve",
                "--port",
                str(port),
                "--parallel",
                str(args.concurrency),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/v1"
            wait_ready(url, server)
            rows["loopback"] = generate(Path(tmp) / "remote", url, args)
            print(json.dumps({"loopback": rows["loopback"]}), flush=True)
        finally:
            server.terminate()
            server.wait(30)
    print(f"\n{'':12} {'kept':>5} {'traj':>5} {'instr':>6} {'wall s':>8} {'kept/h':>7}")
    for name, r in rows.items():
        print(
            f"{name:12} {r['kept']:>5} {r['trajectories']:>5} {r['instructions']:>6} {r['wall_s']:>8} "
            f"{r['kept_per_hour']!s:>7}"
        )
    write_result(
        args.out,
        {
            "n": args.n,
            "seed": args.seed,
            "concurrency": args.concurrency,
            "systems": rows,
        },
    )


if __name__ == "__main__":
    main()
