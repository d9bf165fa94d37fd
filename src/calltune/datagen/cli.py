"""``calltune data generate`` and ``calltune data report`` (added to the ``data`` app)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..cli_options import (
    BfclThresholdOpt,
    EngineOpt,
    JsonOpt,
    McpOpt,
    NCtxOpt,
    TeacherOpt,
    ToolSourcesOpt,
    engine_from_options,
    fail,
    parallel_kwargs,
)

out = Console()
err = Console(stderr=True)


def _load_sources(
    tools: list[str] | None, mcp: list[str] | None, domains: list[str] | None, library: bool | None
):
    """The tool pool (and the toolbox holding MCP sessions, to close at the end)."""
    from ..tools import Tool, Toolbox, ToolError, load_tools_file
    from ..tools.loader import _module_tools
    from .instructions import ToolPool
    from .library import LibraryError, LibraryTool, load_library

    items: list[LibraryTool] = []
    box = None
    try:
        for src in tools or []:
            p = Path(src)
            if p.suffix == ".json":
                data = json.loads(p.read_text(encoding="utf-8"))
                data = data.get("tools", data) if isinstance(data, dict) else data
                if not isinstance(data, list):
                    raise fail(f"{p}: expected a JSON list of OpenAI tools (or {{'tools': [...]}})")
                items += [LibraryTool(Tool.from_spec(s), p.stem, simulated=True) for s in data]
            elif p.suffix == ".py" or p.exists():
                items += [LibraryTool(t, p.stem, simulated=t.fn is None) for t in load_tools_file(p)]
            else:
                mod = importlib.import_module(src)
                items += [
                    LibraryTool(t, src.rsplit(".", 1)[-1], t.fn is None) for t in _module_tools(mod, src)
                ]
        if mcp:
            box = Toolbox.from_mcp(*mcp)
            items += [LibraryTool(t, "mcp") for t in box]
        if library or (library is None and not tools and not mcp):
            items += load_library(domains or None)
        return ToolPool(items), box
    except (ToolError, LibraryError, ImportError, OSError, json.JSONDecodeError) as e:
        if box is not None:
            box.close()
        raise fail(e) from None


def generate(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder (an existing run there is resumed).")
    ],
    n: Annotated[int, typer.Option("--n", "-n", help="How many requests to construct and run.")] = 20,
    tools: ToolSourcesOpt = None,
    mcp: McpOpt = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", help="An environment whose tasks to add: files, sqlite, shop; repeatable."),
    ] = None,
    domain: Annotated[
        list[str] | None, typer.Option("--domain", help="Only these library domains (repeatable).")
    ] = None,
    library: Annotated[
        bool | None,
        typer.Option(
            "--library/--no-library", help="Include the shipped library (default: when no --tools/--mcp)."
        ),
    ] = None,
    teacher: TeacherOpt = None,
    engine: EngineOpt = None,
    n_ctx: NCtxOpt = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            "-j",
            help="Generations and trajectories run at once: a GGUF teacher decodes this many sequences "
            "together, a remote one is sent this many requests at a time.",
        ),
    ] = 1,
    seed: Annotated[
        int, typer.Option("--seed", help="The run's seed (ids and per-item seeds derive from it).")
    ] = 0,
    mix: Annotated[
        str | None,
        typer.Option(
            "--mix", help="Category weights, e.g. single=2,no_fit=1 (the rest keep their defaults)."
        ),
    ] = None,
    zh_share: Annotated[
        float, typer.Option("--zh-share", help="Share of Chinese requests in every category.")
    ] = 0.2,
    per_generation: Annotated[
        int, typer.Option("--per-generation", help="Requests the teacher writes per generation.")
    ] = 3,
    shared_tools: Annotated[
        int,
        typer.Option(
            "--shared-tools",
            help="Consecutive generations that write for one tool list (their prompts share it).",
        ),
    ] = 2,
    round_size: Annotated[
        int,
        typer.Option(
            "--round-size",
            help="Construct and run in rounds of this many requests, so kept samples come from the "
            "first hour on (0: construct all requests first).",
        ),
    ] = 0,
    env_share: Annotated[
        float, typer.Option("--env-share", help="Share of requests over environment tools (with --env).")
    ] = 0.3,
    threshold: BfclThresholdOpt = None,
    semantic: Annotated[
        bool, typer.Option("--semantic/--no-semantic", help="The teacher's yes/no check of every trajectory.")
    ] = True,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Model turns per user turn.")] = 6,
    plan_calls: Annotated[
        bool,
        typer.Option(
            "--plan-calls/--no-plan-calls",
            help="Run the calls the teacher wrote with a single, choice, parallel or sequential "
            "request as the agent's first step, instead of having the teacher write them again.",
        ),
    ] = True,
) -> None:
    """Build tool-calling training data the AgentTuning way: the teacher writes requests for sampled
    tools, answers each through calltune's agent with real execution, and the filters keep the good
    ones. Writes kept.jsonl (seed format, for `calltune train --data`) and a report under --out."""
    from .decontam import DEFAULT_THRESHOLD, ContaminationError
    from .envs import get_environment
    from .instructions import InstructionError, parse_mix
    from .pipeline import Pipeline, PipelineError, RichProgress, Settings
    from .report import print_report
    from .teacher import Teacher
    from .trajectories import AgentSettings

    try:
        weights = parse_mix(mix)
        envs = {name: get_environment(name) for name in env or []}
    except InstructionError as e:
        raise fail(e) from None
    except Exception as e:  # an unknown environment
        raise fail(e) from None
    pool, box = _load_sources(tools, mcp, domain, library)
    settings = Settings(
        n=n,
        seed=seed,
        mix=weights,
        zh_share=zh_share,
        per_generation=per_generation,
        shared_tools=shared_tools,
        concurrency=concurrency,
        round_size=round_size,
        envs=sorted(envs),
        env_share=env_share,
        tools=[
            *(tools or []),
            *(f"mcp:{m}" for m in mcp or []),
            *(["library"] if library or (library is None and not tools and not mcp) else []),
        ],
        teacher=teacher or "default",
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        semantic=semantic,
        agent=AgentSettings(max_steps=max_steps, plan_calls=plan_calls),
    )
    eng = engine_from_options(teacher, engine, n_ctx, **parallel_kwargs(teacher, engine, concurrency))
    progress = RichProgress()
    try:
        pipe = Pipeline(
            out_dir,
            Teacher(eng),
            pool,
            settings,
            envs,
            command=["calltune", *sys.argv[1:]],
            progress=progress,
        )
        report = pipe.run()
    except KeyboardInterrupt:
        progress.stop()
        err.print(f"interrupted: run the same command to continue {out_dir} where it stopped")
        raise typer.Exit(130) from None
    except ContaminationError as e:
        raise fail(f"{e} — kept.jsonl was moved to kept.contaminated.jsonl", 1) from None
    except (PipelineError, InstructionError) as e:
        raise fail(e) from None
    finally:
        progress.stop()
        if box is not None:
            box.close()
        eng.close()
    print_report(report, out)
    out.print(
        f"kept samples: {out_dir / 'kept.jsonl'} (train: calltune train --data {out_dir / 'kept.jsonl'} ...)"
    )


def report(
    run_dir: Annotated[Path, typer.Argument(help="The --out folder of a `calltune data generate` run.")],
    as_json: JsonOpt = False,
) -> None:
    """Yield per stage, category mix, languages, tools and domains, tokens, time per kept
    trajectory, rejects by reason and the decontamination result of a run (also written as
    report.json and report.md). The BFCL check runs first when the run's decontam.json does not
    cover its kept.jsonl as it is now (a run stopped before its end, or resumed since)."""
    from .decontam import DEFAULT_THRESHOLD
    from .report import build_report, check_run_decontam, decontam_current, print_report, write_report

    if not (run_dir / "manifest.json").exists():
        raise fail(f"{run_dir} holds no generation run (no manifest.json)")
    if not decontam_current(run_dir):
        settings = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")).get("settings") or {}
        err.print("checking kept.jsonl against BFCL (decontam.json is missing or older than it)")
        check_run_decontam(run_dir, float(settings.get("threshold", DEFAULT_THRESHOLD)))
    rep = build_report(run_dir)
    write_report(run_dir, rep)
    if as_json:
        out.print_json(json.dumps(rep, ensure_ascii=False))
    else:
        print_report(rep, out)


def refilter(
    run_dir: Annotated[Path, typer.Argument(help="The --out folder of a `calltune data generate` run.")],
) -> None:
    """Apply the filters in code again to a run's kept trajectories (after the filters changed);
    the teacher's semantic check is not run again and nothing is generated. Rewrites kept.jsonl,
    rejects.jsonl and the report. Refused while a run writes to the folder."""
    from .envs import get_environment
    from .pipeline import Pipeline, PipelineError, Settings
    from .teacher import Teacher
    from .trajectories import AgentSettings

    mp = run_dir / "manifest.json"
    if not mp.exists():
        raise fail(f"{run_dir} holds no generation run (no manifest.json)")
    manifest = json.loads(mp.read_text(encoding="utf-8"))
    raw = dict(manifest["settings"])
    raw["agent"] = AgentSettings(**raw.get("agent", {}))
    settings = Settings(**raw)
    files = [t for t in settings.tools if t != "library" and not t.startswith("mcp:")]
    mcp = [t[4:] for t in settings.tools if t.startswith("mcp:")]
    library = "library" in settings.tools
    pool, box = _load_sources(files, mcp, manifest.get("domains") if library else None, library)
    try:
        envs = {name: get_environment(name) for name in settings.envs}
        teacher = Teacher(None, manifest.get("format") or "hermes")  # no model: the checks are code
        pipe = Pipeline(run_dir, teacher, pool, settings, envs, command=["refilter"])
        res = pipe.refilter()
    except PipelineError as e:
        raise fail(e) from None
    finally:
        if box is not None:
            box.close()
    stages = ", ".join(f"{k} {v}" for k, v in sorted(res["by_stage"].items())) or "none"
    out.print(f"{res['checked']} kept trajectories checked, {res['rejected']} now rejected ({stages})")


def register(app: typer.Typer) -> None:
    """Add ``generate``, ``report`` and ``refilter`` to the ``calltune data`` app (``app``: the main app)."""
    from ..train.cli import data_app

    have = {c.name for c in data_app.registered_commands}
    for name, fn in (("generate", generate), ("report", report), ("refilter", refilter)):
        if name not in have:
            data_app.command(name)(fn)
