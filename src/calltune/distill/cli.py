"""``calltune distill`` (registered on the main app)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ..cli_options import engine_from_options, fail, parallel_kwargs
from ..train.dataclass_cli import config_command
from .config import DistillConfig

out = Console()
err = Console(stderr=True)


def _run_distill(cfg: DistillConfig) -> None:
    """Distil a small student for your tools: the teacher writes and answers requests over them
    (filtered, as `calltune data generate`), a share is held out, the student is trained on the
    rest, exported to GGUF and compared with the teacher on the held-out requests. Prints the
    table and the command that serves the student; the same command again resumes where it stopped."""
    from ..datagen.cli import _load_sources
    from ..datagen.decontam import ContaminationError
    from ..datagen.instructions import InstructionError
    from ..datagen.pipeline import PipelineError
    from ..engines import EngineError
    from ..train.config import TrainError
    from ..train.data import DataError
    from ..train.export import ExportError
    from ..train.validate import InvalidDataError
    from .config import DistillError
    from .progress import Quiet, RichStages
    from .report import print_report
    from .stages import Distill

    try:
        cfg.check()
    except DistillError as e:
        raise fail(e) from None
    pool, box = _load_sources(cfg.tools or None, None, None, None)
    progress = RichStages() if cfg.progress else Quiet()
    try:
        run = Distill(
            cfg,
            pool,
            # as `data generate` loads it: a GGUF teacher decodes --concurrency sequences together
            lambda: engine_from_options(
                cfg.teacher,
                cfg.engine,
                cfg.n_ctx,
                **parallel_kwargs(cfg.teacher, cfg.engine, cfg.concurrency),
            ),
            command=["calltune", *sys.argv[1:]],
            progress=progress,
            log=progress.note if cfg.progress else lambda m: err.print(m, highlight=False, soft_wrap=True),
        )
        report = run.run()
    except KeyboardInterrupt:
        progress.stop()
        err.print(f"interrupted: run the same command to continue {cfg.out} where it stopped")
        raise typer.Exit(130) from None
    except ContaminationError as e:
        raise fail(f"{e} — the data's kept.jsonl was moved to kept.contaminated.jsonl", 1) from None
    except (DistillError, PipelineError, InstructionError) as e:
        raise fail(e) from None
    except (TrainError, DataError, InvalidDataError, ExportError, EngineError, FileNotFoundError) as e:
        raise fail(e, 1) from None
    finally:
        progress.stop()
        if box is not None:
            box.close()
    print_report(report, out)


#: ``calltune distill``: one option per :class:`~calltune.distill.config.DistillConfig` field
distill_cmd = config_command(DistillConfig, _run_distill)


def register(app: typer.Typer) -> None:
    """Add ``distill`` to the main app."""
    app.command("distill")(distill_cmd)
