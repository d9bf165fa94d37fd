"""``calltune export gguf RUN_DIR`` and ``calltune export converter``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli import err, out

export_app = typer.Typer(
    help="Export a training run to GGUF so that llama.cpp serves it.", no_args_is_help=True
)


@export_app.command("gguf")
def export_gguf_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A training output directory (calltune.json).")],
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="The GGUF file (default: RUN_DIR/model.gguf).")
    ] = None,
    quant: Annotated[
        str,
        typer.Option(
            "--quant",
            "-q",
            help="f16, bf16, f32, q8_0 (written by the converter) or a llama.cpp quantisation "
            "such as q4_k_m, q5_k_m, q6_k (made from f16 by llama.cpp's quantizer).",
        ),
    ] = "f16",
) -> None:
    """Merge a LoRA adapter into its base if needed, convert with llama.cpp's
    convert_hf_to_gguf.py and record the file in RUN_DIR/calltune.json: afterwards
    ``calltune run/serve --model RUN_DIR`` uses llama.cpp (``--engine hf``: transformers)."""
    from .export import ExportError, export_gguf

    try:
        with err.status(f"Exporting {run_dir} to GGUF ({quant})"):
            res = export_gguf(run_dir, out_file, quant)
    except ExportError as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(1) from None
    merged = " (adapter merged into its base)" if res.merged else ""
    out.print(f"{res.path}: {res.bytes / 1e6:.1f} MB, {res.quant}{merged}", highlight=False, soft_wrap=True)


@export_app.command("converter")
def install_converter_cmd(
    sdist: Annotated[
        Path | None,
        typer.Option("--sdist", help="A llama-cpp-python source tarball (default: pip download it)."),
    ] = None,
) -> None:
    """Install llama.cpp's GGUF converter from the installed llama-cpp-python's source distribution."""
    from .export import ExportError, install_converter

    try:
        script = install_converter(sdist)
    except ExportError as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(1) from None
    out.print(str(script), highlight=False, soft_wrap=True)
