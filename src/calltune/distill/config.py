"""The distillation configuration: every knob once, with its help (the ``calltune distill``
options are generated from these fields, as ``calltune train``'s are from ``TrainConfig``).

Fields passed through to data generation (:class:`calltune.datagen.pipeline.Settings`) and to
training (:class:`calltune.train.TrainConfig`) keep those classes' defaults and help
(:func:`~calltune.train.dataclass_cli.same_field`); the shared options (``--tools``,
``--teacher``, ``--engine``, ``--n-ctx``) keep their one declaration in
:mod:`calltune.cli_options` (:func:`~calltune.train.dataclass_cli.alias_metadata`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..cli_options import EngineOpt, MaxTokensOpt, NCtxOpt, TeacherOpt, ToolSourcesOpt
from ..datagen.trajectories import AgentSettings
from ..errors import CalltuneError
from ..train.config import TrainConfig
from ..train.dataclass_cli import alias_metadata, same_field

#: settings a resumed run may change (the rest must match ``distill.json``); ``out`` may name the
#: same folder another way or after a move
RESUMABLE = ("out", "concurrency", "n_ctx", "progress")
#: the export's GGUF type by default (written by llama.cpp's converter itself, no quantizer pass)
DEFAULT_QUANT = "q8_0"


class DistillError(CalltuneError, ValueError):
    """A distillation that cannot start or go on (other settings in OUT, no data left, ...)."""


@dataclass
class DistillConfig:
    """What ``calltune distill`` does; ``calltune distill --help`` lists the same options."""

    out: str = field(
        metadata={
            "help": "Output folder: data/, split/, student/, eval/, report.md (an existing run is resumed).",
            "flags": ("--out", "-o"),
        }
    )
    tools: list[str] = field(default_factory=list, metadata=alias_metadata(ToolSourcesOpt))
    teacher: str | None = field(default=None, metadata=alias_metadata(TeacherOpt))
    engine: str | None = field(default=None, metadata=alias_metadata(EngineOpt))
    n_ctx: int | None = field(default=None, metadata=alias_metadata(NCtxOpt))
    n: int = field(
        default=300,
        metadata={
            "help": "Requests the teacher writes and answers (the kept share is the data).",
            "flags": ("--n", "-n"),
        },
    )
    seed: int = field(
        default=0, metadata={"help": "The run's seed (requests, the held-out split, training order)."}
    )
    mix: str | None = field(
        default=None,
        metadata={"help": "Category weights, e.g. single=2,no_fit=1 (the rest keep their defaults)."},
    )
    zh_share: float = field(default=0.2, metadata={"help": "Share of Chinese requests in every category."})
    round_size: int = field(
        default=0,
        metadata={"help": "Generate in rounds of this many requests (0: construct all requests first)."},
    )
    semantic: bool = field(
        default=True,
        metadata={
            "help": "The teacher's yes/no check of every trajectory.",
            "flags": ("--semantic/--no-semantic",),
        },
    )
    max_tokens: int = field(default=AgentSettings.max_tokens, metadata=alias_metadata(MaxTokensOpt))
    concurrency: int = field(
        default=1,
        metadata={
            "help": "Trajectories run at once (a GGUF teacher decodes them together, a remote one serves them concurrently; a transformers one runs 1).",
            "flags": ("--concurrency", "-j"),
        },
    )
    heldout: float = field(
        default=0.2,
        metadata={"help": "Share of the requests held out for the student-vs-teacher evaluation."},
    )
    student: str = field(
        default="gemma-270m",
        metadata={
            "help": "The student's base model (any `calltune train --model`).",
            "flags": ("--student", "-s"),
        },
    )
    format: str = same_field(TrainConfig, "format")
    method: str = field(
        default="lora", metadata={"help": "lora | full (a prefix cannot be exported to GGUF)."}
    )
    epochs: float = field(
        default=3.0,
        metadata={
            "help": "Passes over the training data (a few hundred kept samples are few steps an epoch)."
        },
    )
    max_steps: int | None = same_field(TrainConfig, "max_steps")
    lr: float | None = same_field(TrainConfig, "lr")
    batch_size: int = same_field(TrainConfig, "batch_size")
    grad_accum: int = field(
        default=1, metadata={"help": "Micro-batches per optimizer step (1 here: small data, more steps)."}
    )
    max_length: int = same_field(TrainConfig, "max_length")
    general: list[str] = same_field(TrainConfig, "general")
    eta: float = same_field(TrainConfig, "eta")
    save_every: int = same_field(TrainConfig, "save_every")
    export: bool = field(
        default=True,
        metadata={
            "help": "Export the student to GGUF and evaluate it on llama.cpp (--no-export: on transformers).",
            "flags": ("--export/--no-export",),
        },
    )
    quant: str = field(
        default=DEFAULT_QUANT,
        metadata={"help": "GGUF type of the export: f16, q8_0, q4_k_m, ... (see `calltune export gguf`)."},
    )
    speed_prompts: int = field(
        default=3,
        metadata={"help": "Held-out requests the teacher is run on again to measure its decode speed."},
    )
    progress: bool = field(
        default=True,
        metadata={"help": "Show the progress bars.", "flags": ("--progress/--no-progress",)},
    )

    def check(self) -> None:
        """Raise :class:`DistillError` for a value no run can use."""
        if not 0 < self.heldout < 1:
            raise DistillError(f"--heldout must be between 0 and 1, not {self.heldout}")
        if self.method not in ("lora", "full"):
            raise DistillError(f"--method must be lora or full, not {self.method!r}")
        if self.n < 1:
            raise DistillError("--n must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def changed(self, recorded: dict[str, Any]) -> list[str]:
        """The settings that differ from ``recorded`` (a ``distill.json``'s), resumable ones aside."""
        mine = self.to_dict()
        keys = (set(mine) | set(recorded)) - set(RESUMABLE)
        return sorted(k for k in keys if mine.get(k) != recorded.get(k))
