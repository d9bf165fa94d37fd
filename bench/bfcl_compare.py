"""calltune vs. llama-cpp-python's native tool handler on BFCL, same cases, same run.

Both systems use the same ``Llama`` object (the default model, loaded once) and the
same BFCL cases (a seeded subset, ``--limit`` per category); BFCL's own AST checker
judges every answer. Resumable: rerun the same command to continue.

    python bench/bfcl_compare.py --limit 30 --multi-turn-limit 10 --out runs/bfcl-compare \
        --lock-file /tmp/calltune-cpu.lock

Writes ``<out>/{summary.json,report.md,accuracy.png}`` and copies them to
``bench/results/bfcl_compare/``. ``--report-only`` rebuilds the report from what a
(possibly still running or interrupted) run has finished, without generating.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from calltune.eval.bfcl_data import load_cases, parse_categories
from calltune.eval.cli import SYSTEM_NAMES, build_systems
from calltune.eval.multi_turn import context_size
from calltune.eval.report import markdown, write_report
from calltune.eval.runner import collect, run_bfcl

DEFAULT_CATEGORIES = "all"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model (default: the embedded default GGUF)")
    ap.add_argument("--format", default=None, help="chat format for calltune (default: from the model)")
    ap.add_argument("--categories", default=DEFAULT_CATEGORIES)
    ap.add_argument("--limit", type=int, default=30, help="cases per category (seeded subset); 0 = all")
    ap.add_argument(
        "--multi-turn-limit", type=int, default=10, help="cases per multi-turn and memory category; 0 = all"
    )
    ap.add_argument(
        "--memory-scenarios",
        default=None,
        help="only these memory scenarios (comma-separated; each costs its whole prerequisite chain)",
    )
    ap.add_argument("--n-ctx", type=int, default=None, help="context window (default: sized for multi-turn)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--offset", type=int, default=0, help="skip the first N seeded cases (tuning split)")
    ap.add_argument(
        "--multi-turn-offset", type=int, default=None, help="the same for multi-turn (default --offset)"
    )
    ap.add_argument(
        "--systems", default="llama-cpp-native,calltune", help=f"comma-separated: {', '.join(SYSTEM_NAMES)}"
    )
    ap.add_argument("--max-tokens", type=int, default=384)
    ap.add_argument("--system", default=None, help="system prompt for calltune (default: the format's own)")
    ap.add_argument(
        "--no-continue",
        action="store_true",
        help="calltune without call continuation (the agent's default is on)",
    )
    ap.add_argument(
        "--no-relevance", action="store_true", help="calltune without the relevance check (default on)"
    )
    ap.add_argument(
        "--no-grounding", action="store_true", help="calltune without argument grounding (default on)"
    )
    ap.add_argument("--out", type=Path, default=Path("runs/bfcl-compare"))
    ap.add_argument("--lock-file", type=Path, default=None, help="flock this file while cases run")
    ap.add_argument(
        "--lock-slice", type=float, default=120.0, help="release the lock after this many seconds"
    )
    ap.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    ap.add_argument("--publish-as", default="bfcl_compare", help="folder under --results for the report")
    ap.add_argument("--report-only", action="store_true", help="only rebuild the report from --out")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    title = "BFCL: calltune vs. llama-cpp-python's native tool handler (default model)"
    if args.report_only:
        summary = write_report(collect(args.out, names), args.out, title=title)
        _publish(args.out, args.results / args.publish_as)
        print(markdown(summary, title))
        return 0

    cats = parse_categories(args.categories)
    limit = args.limit or None
    mt_limit = args.multi_turn_limit or None
    cases = load_cases(
        cats,
        limit,
        args.seed,
        multi_turn_limit=mt_limit,
        offset=args.offset,
        multi_turn_offset=args.multi_turn_offset,
        memory_scenarios=args.memory_scenarios,
    )
    n_ctx = context_size(cats, args.n_ctx)
    t0 = time.perf_counter()
    systems, eng = build_systems(
        names,
        model=args.model,
        engine=None,
        format=args.format,
        endpoint=None,
        endpoint_model=None,
        api_key=None,
        max_tokens=args.max_tokens,
        n_ctx=n_ctx,
        system=args.system,
        continue_calls=not args.no_continue,
        check_relevance=not args.no_relevance,
        ground_arguments=not args.no_grounding,
    )
    print(
        f"loaded {getattr(eng, 'model_id', '?')} in {time.perf_counter() - t0:.1f}s; {len(cases)} cases",
        flush=True,
    )
    config = {
        "categories": cats,
        "limit": limit,
        "multi_turn_limit": mt_limit,
        "memory_scenarios": args.memory_scenarios,
        "n_ctx": n_ctx,
        "seed": args.seed,
        "offset": args.offset,
        "model": args.model or "default",
        "system": args.system,
        "continue_calls": not args.no_continue,
        "check_relevance": not args.no_relevance,
        "ground_arguments": not args.no_grounding,
    }
    try:
        summary = run_bfcl(
            systems,
            cases,
            args.out,
            lock_file=args.lock_file,
            lock_slice_s=args.lock_slice,
            config=config,
            title=title,
        )
    finally:
        if eng is not None:
            eng.close()
    print(markdown(summary, title))
    _publish(args.out, args.results / args.publish_as)
    return 0


def _publish(run_dir: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("report.md", "summary.json", "accuracy.png", "run.json"):
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, dest / name)
    print(f"wrote {dest}/report.md, summary.json, accuracy.png")


if __name__ == "__main__":
    sys.exit(main())
