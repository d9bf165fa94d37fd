"""``calltune guided``: show the grammar a request gets, or check a text against it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..cli_options import FormatNameOpt, ToolsFileOpt

guided_app = typer.Typer(help="Guided decoding: the grammars behind tool_choice.", no_args_is_help=True)


def _load_tools(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".py":
        from ..tools import load_tools_file

        return [t.spec() for t in load_tools_file(path)]
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "tools" in data:
        data = data["tools"]
    if not isinstance(data, list):
        raise typer.BadParameter(f"{path}: expected a JSON list of OpenAI tools (or {{'tools': [...]}})")
    from ..tools import to_tool_specs

    return to_tool_specs(data)


ModeOpt = Annotated[str, typer.Option("--mode", "-m", help="auto | required | none | named:<tool>")]
ParallelOpt = Annotated[
    bool, typer.Option("--parallel/--no-parallel", help="allow several calls in one turn")
]


@guided_app.command("show")
def show(
    tools: ToolsFileOpt,
    format: FormatNameOpt = "hermes",
    mode: ModeOpt = "required",
    parallel: ParallelOpt = True,
    ebnf: Annotated[bool, typer.Option("--ebnf", help="print the compiled grammar as GBNF")] = False,
) -> None:
    """Print the structural tag (or the GBNF grammar) for TOOLS in FORMAT's call syntax."""
    from . import GuidedError, build_constraint

    try:
        c = build_constraint(format, _load_tools(tools), mode, parallel=parallel)
    except GuidedError as e:
        raise typer.BadParameter(str(e)) from None
    if c is None:
        typer.echo("(no constraint: nothing to guide)")
        return
    typer.echo(c.ebnf() if ebnf else json.dumps(c.structure, indent=2, ensure_ascii=False))


@guided_app.command("check")
def check(
    tools: ToolsFileOpt,
    text_file: Annotated[str, typer.Argument(help="file with the model output ('-' = stdin)")],
    format: FormatNameOpt = "hermes",
    mode: ModeOpt = "required",
    parallel: ParallelOpt = True,
) -> None:
    """Exit 0 when the text (one assistant turn, stop string included for GLM formats) is allowed."""
    from . import GuidedError, build_constraint

    text = sys.stdin.read() if text_file == "-" else Path(text_file).read_text(encoding="utf-8")
    try:
        c = build_constraint(format, _load_tools(tools), mode, parallel=parallel)
    except GuidedError as e:
        raise typer.BadParameter(str(e)) from None
    ok = c is None or c.matches(text)
    typer.echo("allowed" if ok else "rejected")
    raise typer.Exit(0 if ok else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(guided_app, name="guided")
