"""``calltune eval bfcl`` and ``calltune eval report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..cli_options import (
    LOAD_ERRORS,
    ContinueOpt,
    EngineOpt,
    FormatNameOpt,
    FormatOpt,
    GroundingOpt,
    MaxTokensOpt,
    ModelOpt,
    NCtxOpt,
    RelevanceOpt,
    SystemOpt,
    engine_from_options,
    fail,
)

SYSTEM_NAMES = (
    "calltune",
    "calltune-guided",
    "calltune-unguided",
    "calltune+sysprompt",
    "calltune-no-missed",
    "llama-cpp-native",
    "endpoint",
)


def build_systems(
    names: list[str],
    *,
    model: str | None,
    engine: str | None,
    format: str | None,
    endpoint: str | None,
    endpoint_model: str | None,
    api_key: str | None,
    max_tokens: int,
    n_ctx: int | None = None,
    system: str | None = None,
    continue_calls: bool = True,
    check_relevance: bool = True,
    ground_arguments: bool = True,
) -> tuple[list[Any], Any]:
    """Build the systems under test; a local engine is loaded once and shared. Returns (systems, engine)."""
    from .systems import TOOL_USE_SYSTEM_PROMPT, CalltuneSystem, LlamaCppNativeSystem, OpenAIEndpointSystem

    for n in names:
        if n not in SYSTEM_NAMES:
            raise typer.BadParameter(f"unknown system {n!r}; choose from {', '.join(SYSTEM_NAMES)}")
    eng = None
    if any(n != "endpoint" for n in names):
        eng = engine_from_options(model, engine, n_ctx, exit_on_error=False)
    # the calltune variants: name -> (guided, system prompt)
    variants: dict[str, tuple[bool | None, str | None]] = {
        "calltune": (None, system),
        "calltune-guided": (True, system),
        "calltune-unguided": (False, system),
        "calltune+sysprompt": (None, system or TOOL_USE_SYSTEM_PROMPT),
        # the multi-turn fix's ablation: later requests answered in prose are not asked for calls
        "calltune-no-missed": (None, system),
    }
    systems: list[Any] = []
    for n in names:
        if n in variants:
            guided, sys_prompt = variants[n]
            systems.append(
                CalltuneSystem(
                    eng,
                    format=format,
                    guided=guided,
                    name=n,
                    max_tokens=max_tokens,
                    system=sys_prompt,
                    continue_calls=continue_calls,
                    check_relevance=check_relevance,
                    ground_arguments=ground_arguments,
                    check_missed_calls=n != "calltune-no-missed",
                )
            )
        elif n == "llama-cpp-native":
            systems.append(LlamaCppNativeSystem(eng, max_tokens=max_tokens))
        elif n == "endpoint":
            if not endpoint:
                raise typer.BadParameter("the 'endpoint' system needs --endpoint URL")
            systems.append(OpenAIEndpointSystem(endpoint, endpoint_model, api_key, max_tokens=max_tokens))
    return systems, eng


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command group to the main app."""
    ev = typer.Typer(help="Evaluate function calling on BFCL with BFCL's own checker.", no_args_is_help=True)

    @ev.command("bfcl")
    def bfcl(
        model: ModelOpt = None,
        engine: EngineOpt = None,
        format: FormatOpt = None,
        categories: Annotated[
            str,
            typer.Option(
                "--categories",
                "-c",
                help="Comma-separated BFCL categories, or a group: all, single_turn, multi_turn, memory, live, non_live.",
            ),
        ] = "simple_python,multiple,parallel,parallel_multiple,irrelevance,live_simple,live_multiple",
        limit: Annotated[
            int | None,
            typer.Option("--limit", "-n", help="Cases per category (seeded subset); all when omitted."),
        ] = None,
        multi_turn_limit: Annotated[
            int | None,
            typer.Option(
                "--multi-turn-limit", help="Cases per multi-turn and memory category (default: --limit)."
            ),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the --limit subset.")] = 0,
        offset: Annotated[
            int,
            typer.Option(
                "--offset",
                help="Skip the first N seeded cases per category: tune on --offset N what --limit N measures.",
            ),
        ] = 0,
        memory_scenarios: Annotated[
            str | None,
            typer.Option(
                "--memory-scenarios",
                help="Only these memory scenarios, comma-separated (each costs its whole prerequisite chain).",
            ),
        ] = None,
        systems: Annotated[
            str,
            typer.Option(
                "--systems", "-s", help=f"Comma-separated systems under test: {', '.join(SYSTEM_NAMES)}."
            ),
        ] = "calltune",
        endpoint: Annotated[
            str | None,
            typer.Option("--endpoint", help="OpenAI-compatible base URL (adds the 'endpoint' system)."),
        ] = None,
        endpoint_model: Annotated[
            str | None, typer.Option("--endpoint-model", help="Model name for --endpoint.")
        ] = None,
        api_key: Annotated[str | None, typer.Option("--api-key", help="API key for --endpoint.")] = None,
        max_tokens: MaxTokensOpt = 384,
        system: SystemOpt = None,
        n_ctx: NCtxOpt = None,
        continue_calls: ContinueOpt = True,
        check_relevance: RelevanceOpt = True,
        ground_arguments: GroundingOpt = True,
        out: Annotated[Path, typer.Option("--out", "-o", help="Run directory (rerun it to resume).")] = Path(
            "runs/eval-bfcl"
        ),
        data_dir: Annotated[
            Path | None, typer.Option("--data-dir", help="BFCL data directory (default: bfcl-eval's).")
        ] = None,
        lock_file: Annotated[
            Path | None,
            typer.Option("--lock-file", help="flock this file while cases run (shared machines)."),
        ] = None,
        lock_slice: Annotated[
            float,
            typer.Option("--lock-slice", help="Release --lock-file after this many seconds, between cases."),
        ] = 120.0,
    ) -> None:
        """Run BFCL's single-turn AST categories; the calls are judged by bfcl-eval's checker."""
        from .bfcl_data import BfclDataError, load_cases, parse_categories
        from .report import markdown
        from .runner import run_bfcl

        console = Console()
        try:
            cats = parse_categories(categories)
            cases = load_cases(
                cats,
                limit,
                seed,
                data_dir,
                multi_turn_limit=multi_turn_limit,
                offset=offset,
                memory_scenarios=memory_scenarios,
            )
        except BfclDataError as e:
            raise fail(e) from None
        from .multi_turn import context_size

        n_ctx = context_size(cats, n_ctx)
        names = [s.strip() for s in systems.split(",") if s.strip()]
        if endpoint and "endpoint" not in names:
            names.append("endpoint")
        try:
            sys_objs, eng = build_systems(
                names,
                model=model,
                engine=engine,
                format=format,
                endpoint=endpoint,
                endpoint_model=endpoint_model,
                api_key=api_key,
                max_tokens=max_tokens,
                n_ctx=n_ctx,
                system=system,
                continue_calls=continue_calls,
                check_relevance=check_relevance,
                ground_arguments=ground_arguments,
            )
        except LOAD_ERRORS as e:
            raise fail(e) from None
        config = {
            "categories": cats,
            "limit": limit,
            "multi_turn_limit": multi_turn_limit,
            "memory_scenarios": memory_scenarios,
            "seed": seed,
            "offset": offset,
            "model": model or "default",
            "format": format,
            "n_ctx": n_ctx,
            "max_tokens": max_tokens,
            "endpoint": endpoint,
            "system": system,
            "continue_calls": continue_calls,
            "check_relevance": check_relevance,
            "ground_arguments": ground_arguments,
        }
        try:
            summary = run_bfcl(
                sys_objs, cases, out, lock_file=lock_file, lock_slice_s=lock_slice, config=config
            )
        finally:
            if eng is not None:
                eng.close()
        typer.echo(markdown(summary))
        console.print(f"results: {out}/report.md, {out}/summary.json, {out}/accuracy.png")

    @ev.command("report")
    def report(
        runs: Annotated[
            list[Path] | None,
            typer.Argument(help="Run directories to put side by side (default: runs/eval-bfcl)."),
        ] = None,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write summary.json, report.md, accuracy.png here.")
        ] = None,
        all_cases: Annotated[
            bool, typer.Option("--all-cases", help="Count every case, not only those all systems finished.")
        ] = False,
        only: Annotated[
            str | None, typer.Option("--only", help="Comma-separated systems (labels) to include.")
        ] = None,
    ) -> None:
        """Side-by-side table (and chart with --out) of one or more BFCL runs."""
        from .report import compare_runs, markdown, summarize, write_report

        try:
            merged = compare_runs(runs or [Path("runs/eval-bfcl")])
        except FileNotFoundError as e:
            raise fail(e) from None
        if only:
            keep = [s.strip() for s in only.split(",") if s.strip()]
            missing = [k for k in keep if k not in merged]
            if missing:
                raise fail(f"no system {missing[0]!r}; the runs have: {', '.join(merged)}")
            merged = {k: merged[k] for k in keep}
        if out is not None:
            summary = write_report(merged, out, common=not all_cases)
        else:
            summary = summarize(merged, common=not all_cases)
        typer.echo(markdown(summary))

    @ev.command("rescore")
    def rescore_cmd(
        run: Annotated[Path, typer.Argument(help="A run directory.")],
        source: Annotated[str, typer.Option("--from", help="System whose stored raw outputs are re-parsed.")],
        target: Annotated[str, typer.Option("--as", help="Name of the re-scored system.")],
        format: FormatNameOpt = "hermes",
        data_dir: Annotated[Path | None, typer.Option("--data-dir", help="BFCL data directory.")] = None,
        first_round: Annotated[
            bool,
            typer.Option(
                "--first-round",
                help="Judge the outputs as they were before call continuation (the same run without it).",
            ),
        ] = False,
        keep_dropped: Annotated[
            bool,
            typer.Option(
                "--keep-dropped",
                help="Judge the calls the relevance check dropped as kept (the same run without the check).",
            ),
        ] = False,
        keep_ungrounded: Annotated[
            bool,
            typer.Option(
                "--keep-ungrounded",
                help="Judge the calls without argument grounding (the same run without it).",
            ),
        ] = False,
        keep_merged: Annotated[
            bool,
            typer.Option(
                "--keep-merged",
                help="Judge the calls without fan-out (a call joining several values stays one call).",
            ),
        ] = False,
        keep_uncoerced: Annotated[
            bool,
            typer.Option(
                "--keep-uncoerced",
                help="Judge the calls without coercion (a structure given for a declared string stays as given).",
            ),
        ] = False,
        carry_stateful: Annotated[
            bool,
            typer.Option(
                "--carry-stateful",
                help="Copy the multi-turn and memory records as generated, so the rescored system has an "
                "overall (only with no fix switched off: a stateful ablation needs its own generation).",
            ),
        ] = False,
    ) -> None:
        """Re-parse a system's stored outputs with the current format parser and judge them again
        (no generation): shows what a parser change does on the very same model outputs.
        Single-turn records only: a multi-turn ablation needs its own generation."""
        from .report import markdown
        from .runner import rescore

        try:
            summary = rescore(
                run,
                source,
                target,
                format,
                data_dir,
                first_round=first_round,
                keep_dropped=keep_dropped,
                keep_ungrounded=keep_ungrounded,
                keep_merged=keep_merged,
                keep_uncoerced=keep_uncoerced,
                carry_stateful=carry_stateful,
            )
        except (FileNotFoundError, ValueError) as e:
            raise fail(e) from None
        typer.echo(markdown(summary))

    app.add_typer(ev, name="eval")
