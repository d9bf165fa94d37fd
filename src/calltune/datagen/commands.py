"""``calltune data decontam`` and ``calltune data general`` (added to the ``data`` app)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_options import (
    EngineOpt,
    JsonOpt,
    MaxTokensOpt,
    NCtxOpt,
    TeacherOpt,
    ThresholdOpt,
    engine_from_options,
    fail,
)

out = Console()
err = Console(stderr=True)


def _data_files(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for its ``*.jsonl`` and ``*.json`` files."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted([*p.glob("*.jsonl"), *p.glob("*.json")]) if p.is_dir() else [p])
    return files


def decontam(
    paths: Annotated[
        list[Path], typer.Argument(help="Seed-format JSONL/JSON files, or directories of them.")
    ],
    threshold: ThresholdOpt = None,
    top: Annotated[int, typer.Option("--top", help="How many of the most overlapping texts to list.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Overlap of the data's user messages with every BFCL question (word / CJK-character 8-grams)
    and tool names that are BFCL function names; exits 1 above the threshold or on a name hit."""
    from ..train.data import DataError, load_records
    from .decontam import DEFAULT_THRESHOLD, bfcl_index, check_records

    limit = DEFAULT_THRESHOLD if threshold is None else threshold
    try:
        records = load_records(_data_files(paths))
    except DataError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    idx = bfcl_index()
    rep = check_records(records, threshold=limit, index=idx)
    if as_json:
        out.print_json(json.dumps(rep.to_dict(), ensure_ascii=False))
        raise typer.Exit(0 if rep.ok else 1)
    t = Table(title="BFCL decontamination", show_header=False)
    t.add_row(
        "BFCL user texts", f"{idx.n_texts} ({idx.n_questions} distinct), {len(idx.names)} function names"
    )
    t.add_row("records / user texts", f"{rep.records} / {rep.texts}")
    t.add_row("max overlap", f"{rep.max_overlap:.3f}")
    if rep.max_case is not None:
        t.add_row("max case", f"{rep.max_case.record} ~ {rep.max_case.bfcl_id}")
    t.add_row(f"above {limit}", str(len(rep.over_threshold)))
    t.add_row(
        "BFCL function names", ", ".join(f"{n} ({rep.name_hit_records[n]})" for n in rep.name_hits) or "none"
    )
    problems = [f"overlap above {limit}"] * (rep.max_overlap > limit) + ["BFCL function names"] * bool(
        rep.name_hits
    )
    t.add_row("verdict", f"[red]{' and '.join(problems)}[/red]" if problems else "[green]ok[/green]")
    out.print(t)
    if rep.over_threshold and top > 0:
        cases = Table(title=f"texts above {limit}")
        for col in ("overlap", "record", "BFCL id", "text"):
            cases.add_column(col)
        for c in rep.over_threshold[:top]:
            cases.add_row(f"{c.overlap:.3f}", c.record, c.bfcl_id or "", c.text[:120])
        out.print(cases)
    raise typer.Exit(0 if rep.ok else 1)


def general(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder (an existing run there is resumed).")
    ],
    n: Annotated[
        int, typer.Option("--n", "-n", help="How many requests to answer (at most about 900 exist).")
    ] = 100,
    teacher: TeacherOpt = None,
    engine: EngineOpt = None,
    n_ctx: NCtxOpt = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Order of the requests and the teacher's sampling seed.")
    ] = 0,
    zh_share: Annotated[float, typer.Option("--zh-share", help="Share of Chinese requests.")] = 0.3,
    max_tokens: MaxTokensOpt = 384,
    temperature: Annotated[
        float, typer.Option("--temperature", help="The teacher's sampling temperature.")
    ] = 0.0,
    threshold: ThresholdOpt = None,
    keep_system: Annotated[
        bool, typer.Option("--keep-system", help="Keep the teacher's system prompt in the samples.")
    ] = False,
) -> None:
    """General chat data for the η mixture (calltune train --general DIR/kept.jsonl --eta 0.2): the
    teacher answers requests of nine kinds in English and Chinese, written in code; filters in code
    keep the good answers. Writes kept.jsonl, rejected.jsonl and report.json under --out; resumable."""
    from .decontam import DEFAULT_THRESHOLD, ContaminationError
    from .general import GeneralError, GeneralSettings, generate_general
    from .pipeline import RichProgress
    from .teacher import Teacher

    settings = GeneralSettings(
        n=n,
        seed=seed,
        zh_share=zh_share,
        max_tokens=max_tokens,
        temperature=temperature,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        keep_system=keep_system,
    )
    eng = engine_from_options(teacher, engine, n_ctx)
    progress = RichProgress()
    try:
        rep = generate_general(out_dir, Teacher(eng), settings, progress=progress)
    except ContaminationError as e:
        raise fail(e, 1) from None
    except GeneralError as e:
        raise fail(e) from None
    finally:
        progress.stop()
        eng.close()
    t = Table(title="general data", show_header=False)
    t.add_row("kept", str(rep["kept"]))
    t.add_row("rejected", str(rep["rejected"]))
    for reason, k in rep["rejected_by_reason"].items():
        t.add_row(f"  {reason}", str(k))
    t.add_row("max BFCL overlap", f"{rep['decontam']['max_overlap']:.3f}")
    t.add_row("teacher tokens", ", ".join(f"{k} {v}" for k, v in rep["teacher_tokens"].items()))
    out.print(t)
    out.print(
        f"kept samples: {out_dir / 'kept.jsonl'} (calltune train --general {out_dir / 'kept.jsonl'} --eta 0.2 ...)"
    )


def register(data_app: typer.Typer) -> None:
    """Add ``decontam`` (and ``general``) to the ``calltune data`` app (once)."""
    have = {c.name for c in data_app.registered_commands}
    for name, fn in (("decontam", decontam), ("general", general)):
        if name not in have:
            data_app.command(name)(fn)
