"""``calltune sandbox info`` and ``calltune sandbox exec``: check and use the code interpreter directly."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..cli_options import JsonOpt

sandbox_app = typer.Typer(help="The sandboxed Python kernel (code interpreter).", no_args_is_help=True)


@sandbox_app.command("info")
def info(as_json: JsonOpt = False) -> None:
    """Start a sandbox and show which isolation layers are active on this machine."""
    from . import Sandbox

    with Sandbox(timeout=10) as sb:
        iso = sb.isolation
        r = sb.run(
            "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
            "    print('network: OPEN')\nexcept OSError as e:\n    print('network: blocked,', e)"
        )
        iso["network_check"] = r.text.strip()
    if as_json:
        sys.stdout.write(json.dumps(iso, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="calltune sandbox isolation", show_header=False)
    for k in (
        "mode",
        "network",
        "filesystem",
        "user",
        "signals",
        "landlock",
        "limits",
        "layers",
        "errors",
        "network_check",
    ):
        v = iso.get(k)
        t.add_row(
            k,
            "; ".join(map(str, v))
            if isinstance(v, list)
            else json.dumps(v)
            if isinstance(v, dict)
            else str(v),
        )
    Console().print(t)


@sandbox_app.command("exec")
def exec_(
    code: Annotated[str, typer.Argument(help="Python code to run ('-' reads stdin).")],
    upload: Annotated[
        list[Path] | None, typer.Option("--upload", help="File to copy into the working directory.")
    ] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Working directory (kept); default a temporary one.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per cell.")] = 30.0,
    memory_mb: Annotated[int, typer.Option(help="Memory limit in MB.")] = 1024,
) -> None:
    """Run one cell in a fresh sandbox and print the observation the model would see."""
    from . import Sandbox

    src = sys.stdin.read() if code == "-" else code
    with Sandbox(workdir=workdir, timeout=timeout, memory_mb=memory_mb) as sb:
        for f in upload or []:
            typer.echo(f"uploaded {sb.upload(f)}", err=True)
        r = sb.run(src)
        typer.echo(r.to_observation())
        for p in r.images:
            typer.echo(f"image: {p}", err=True)
    if r.error:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
