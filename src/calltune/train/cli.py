"""``calltune data check|show|convert|synth`` and ``calltune train``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .config import TrainConfig, TrainError
from .dataclass_cli import config_command

out = Console()
err = Console(stderr=True)

data_app = typer.Typer(
    help="Check, inspect, convert and generate fine-tuning data (seed format).", no_args_is_help=True
)


@data_app.command("check")
def data_check(
    files: Annotated[list[Path], typer.Argument(help="JSON-list or JSONL files in the seed format.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    max_issues: Annotated[int, typer.Option("--max-issues", help="How many problems to print.")] = 50,
) -> None:
    """Validate samples (schema, role order, calls against the tool schemas); print file:line errors and stats."""
    from .data import DataError, load_records
    from .validate import check_records

    try:
        records = load_records(files)
    except DataError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    rep = check_records(records)
    if as_json:
        out.print_json(json.dumps(rep.to_dict(), ensure_ascii=False))
    else:
        for i in rep.issues[:max_issues]:
            color = "red" if i.severity == "error" else "yellow"
            out.print(f"[{color}]{i.severity}[/{color}] {i.location}: {i.message}", highlight=False)
        if len(rep.issues) > max_issues:
            out.print(f"... and {len(rep.issues) - max_issues} more")
        t = Table(title="data check", show_header=False)
        t.add_row("samples", str(rep.total))
        t.add_row("valid", str(rep.valid))
        t.add_row("invalid", str(rep.invalid))
        for k, v in sorted(rep.roles.items()):
            t.add_row(f"role {k}", str(v))
        for k, v in sorted(rep.stats.items()):
            t.add_row(k, str(v))
        out.print(t)
    raise typer.Exit(1 if rep.invalid else 0)


@data_app.command("show")
def data_show(
    file: Annotated[Path, typer.Argument(help="A seed-format data file.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Tokenizer source (HF dir/id, .gguf, gemma-270m); token-level view."
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="Chat format.")] = "chatglm3",
    n: Annotated[int, typer.Option("-n", help="How many samples.")] = 1,
    start: Annotated[int, typer.Option("--start", help="Index of the first sample.")] = 0,
) -> None:
    """Render samples as the model sees them; trained positions are highlighted (green).

    With --model: token by token, green where ``labels`` are set (after the shift).
    Without: text segments, green where the unshifted loss mask is set.
    """
    from .data import load_records
    from .encode import IGNORE, encode_sample, get_format_obj, sample_messages

    fmt = get_format_obj(format)
    records = load_records(file)[start : start + n]
    tok = None
    if model:
        from .artifacts import load_tokenizer
        from .encode import add_format_tokens

        tok = load_tokenizer(model)
        add_format_tokens(tok, fmt)
    for r in records:
        out.rule(f"{r.location} (sample {r.index})")
        t = Text()
        if tok is not None:
            enc = encode_sample(r.sample, tok, fmt)
            for i, lab in zip(enc.input_ids, enc.labels, strict=True):
                piece = tok.decode([i])
                t.append(piece, style="bold green" if lab != IGNORE else "dim")
            out.print(t)
            out.print(f"[cyan]{len(enc)} tokens, {enc.n_labels} trained[/cyan]")
        else:
            msgs, tools = sample_messages(r.sample)
            for s in fmt.segments(msgs, tools or None, add_generation_prompt=False):
                t.append(
                    s.text, style=("bold green" if s.loss else "dim") + (" underline" if s.special else "")
                )
            out.print(t)


@data_app.command("convert")
def data_convert(
    src: Annotated[Path, typer.Argument(help="Input file (JSON list or JSONL).")],
    dst: Annotated[Path, typer.Argument(help="Output file (.jsonl → JSONL, else a JSON list).")],
    from_: Annotated[str, typer.Option("--from", help="openai | sharegpt")] = "openai",
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Drop samples that cannot be converted (counted).")
    ] = False,
) -> None:
    """Convert OpenAI chat samples or ShareGPT (LLaMA-Factory) samples to the seed format."""
    from .convert import ConvertError, convert_file

    try:
        n, problems = convert_file(src, dst, from_, skip_invalid=skip_invalid)
    except ConvertError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    for p in problems[:50]:
        err.print(f"[yellow]skipped[/yellow] {p}", highlight=False)
    out.print(f"wrote {n} samples to {dst}" + (f" ({len(problems)} skipped)" if problems else ""))


@data_app.command("synth")
def data_synth(
    outdir: Annotated[Path, typer.Argument(help="Directory for train.jsonl and test.jsonl.")],
    train: Annotated[int, typer.Option("--train", help="Training samples.")] = 600,
    test: Annotated[int, typer.Option("--test", help="Test samples (held-out phrasings).")] = 40,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Generate the small tool-calling set from calltune's real Python functions (calltune.train.synth)."""
    from .data import write_samples
    from .synth import generate

    a = write_samples(outdir / "train.jsonl", generate(train, "train", seed))
    b = write_samples(outdir / "test.jsonl", generate(test, "test", seed))
    out.print(f"wrote {a} training and {b} test samples to {outdir}")


def _run_train(cfg: TrainConfig) -> None:
    """Fine-tune a model for tool use (inference-exact masks, packing, labelled-positions loss).

    Runs as is or under ``accelerate launch`` (see examples/accelerate/).
    """
    from .data import DataError
    from .mixing import MixError
    from .trainer import train
    from .validate import InvalidDataError

    try:
        res = train(cfg, log=lambda m: err.print(m, highlight=False))
    except (DataError, InvalidDataError, MixError, TrainError, FileNotFoundError) as e:
        err.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(1) from None
    if not res.is_main_process:
        return
    out.print(
        f"done: {res.steps} steps in {res.seconds:.0f}s, {res.tokens_per_s:.0f} tok/s, "
        f"loss {res.first_loss if res.first_loss is None else round(res.first_loss, 4)} → "
        f"{res.last_loss if res.last_loss is None else round(res.last_loss, 4)}"
        + (f", eval loss {res.eval_loss:.4f}" if res.eval_loss is not None else "")
        + f"\nuse it: calltune run --model {cfg.out}"
    )


#: ``calltune train``: one option per :class:`~calltune.train.config.TrainConfig` field
train_cmd = config_command(TrainConfig, _run_train)


def register(app: typer.Typer) -> None:
    """Add ``data`` (check/show/convert/synth, and datagen's commands), ``train`` and ``export``
    to the main app."""
    from ..datagen.commands import register as register_datagen

    register_datagen(data_app)
    app.add_typer(data_app, name="data")
    app.command("train")(train_cmd)
    from .export_cli import export_app

    app.add_typer(export_app, name="export")


def main() -> None:  # ``python -m calltune.train.cli`` (used by accelerate launch)
    app = typer.Typer(add_completion=False)
    register(app)
    app()


if __name__ == "__main__":
    main()
