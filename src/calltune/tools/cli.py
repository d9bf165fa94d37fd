"""``calltune tools``: inspect and try tool files without a model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_options import BuiltinOpt, JsonOpt, ToolsOpt, toolbox_from_options

tools_app = typer.Typer(
    name="tools", help="Inspect tool files and call tools by hand (no model involved).", no_args_is_help=True
)
_err = Console(stderr=True)
_out = Console()

FilesArg = Annotated[
    list[Path] | None, typer.Argument(help="Python files with @tool functions (or a TOOLS list).")
]


@tools_app.command("show")
def show(
    files: FilesArg = None,
    builtin: BuiltinOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the tools in FILES with their parameters (or their OpenAI JSON with --json)."""
    box = toolbox_from_options(files, builtin)
    if as_json:
        sys.stdout.write(json.dumps(box.specs(), indent=2, ensure_ascii=False) + "\n")
        return
    if not len(box):
        _err.print("no tools given: pass a tools file or --builtin NAME")
        raise typer.Exit(1)
    table = Table(title="tools", show_lines=True)
    table.add_column("name", style="bold cyan")
    table.add_column("description")
    table.add_column("parameters")
    for t in box:
        props = t.parameters.get("properties", {})
        required = set(t.parameters.get("required", []))
        lines = []
        for name, schema in props.items():
            typ = schema.get("type", "any")
            typ = "|".join(typ) if isinstance(typ, list) else typ
            if schema.get("enum"):
                typ += " (" + " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"]) + ")"
            mark = "*" if name in required else ""
            desc = f" — {schema['description']}" if schema.get("description") else ""
            lines.append(f"{name}{mark}: {typ}{desc}")
        table.add_row(t.name, t.description, "\n".join(lines) or "(none)")
    _out.print(table)
    _out.print("[dim]* required[/dim]")


@tools_app.command("call")
def call(
    name: Annotated[str, typer.Argument(help="Tool name.")],
    arguments: Annotated[str, typer.Argument(help="Arguments as a JSON object.")] = "{}",
    tools: ToolsOpt = None,
    builtin: BuiltinOpt = None,
    timeout: Annotated[float, typer.Option(help="Seconds before the call is abandoned.")] = 30.0,
) -> None:
    """Validate and run one call exactly as the agent would; print the observation as JSON."""
    box = toolbox_from_options(tools, builtin, timeout=timeout)
    obs = box.execute({"name": name, "arguments": arguments})
    sys.stdout.write(json.dumps(obs.to_dict(), ensure_ascii=False, indent=2) + "\n")
    if not obs.ok:
        raise typer.Exit(1)


@tools_app.command("builtins")
def builtins_cmd() -> None:
    """List the built-in tools."""
    from .builtins import list_builtins

    for name in list_builtins():
        _out.print(name)


def register(app: typer.Typer) -> None:
    """Add the ``tools`` sub-command group to the main ``calltune`` app."""
    app.add_typer(tools_app, name="tools")
