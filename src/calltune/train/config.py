"""The training configuration: every knob once, with its help (the ``calltune train`` options
are generated from these fields, see :mod:`calltune.train.dataclass_cli`).

Field metadata: ``help`` (the option's help), ``flags`` (the option names when they are not
``--field-name``) and ``cli_type`` (the option's type when the field's cannot be an option).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import CalltuneError

METHODS = ("full", "lora", "ptuning")
DEFAULT_LR = {"full": 5e-5, "lora": 2e-4, "ptuning": 1e-2}
#: the added role markers' rows must become the most likely next token where a call or an
#: answer ends; at LoRA's lr (rows at the mean embedding), 38 steps left ``<|observation|>`` at
#: p = 2e-5 after a call (docs/training.md), so under LoRA their rows learn at this multiple of it
MARKER_LR_SCALE = 10.0
MIX_BY = ("tokens", "samples")


class TrainError(CalltuneError, ValueError):
    """A training run that cannot start or finish (bad configuration, no data left)."""


@dataclass
class TrainConfig:
    """What :func:`calltune.train.train` does; ``calltune train --help`` lists the same options."""

    model: str = field(
        metadata={
            "help": "Base model: HF dir or hub id, a .gguf file, or gemma-270m.",
            "flags": ("--model", "-m"),
        }
    )
    data: list[str] = field(
        metadata={"help": "Agent (tool-use) data, seed format (repeatable).", "flags": ("--data", "-d")}
    )
    out: str = field(
        metadata={
            "help": "Output directory (model/adapter, tokenizer, calltune.json).",
            "flags": ("--out", "-o"),
        }
    )
    format: str = field(
        default="chatglm3",
        metadata={"help": "Chat format used for training and inference.", "flags": ("--format", "-f")},
    )
    method: str = field(
        default="lora", metadata={"help": "lora | ptuning (P-Tuning v2 = prefix tuning) | full"}
    )
    gguf_file: str | None = field(
        default=None,
        metadata={"help": "GGUF file name inside --model's directory (when --model is a directory)."},
    )
    general: list[str] = field(
        default_factory=list, metadata={"help": "General chat data to mix in (AgentTuning, repeatable)."}
    )
    eta: float = field(default=0.2, metadata={"help": "Share of the training signal from agent data."})
    mix_by: str = field(default="tokens", metadata={"help": "tokens (trained tokens) | samples"})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training data."})
    max_steps: int | None = field(default=None, metadata={"help": "Optimizer steps (overrides --epochs)."})
    lr: float | None = field(default=None, metadata={"help": "Default: full 5e-5, lora 2e-4, ptuning 1e-2."})
    marker_lr: float | None = field(
        default=None,
        metadata={
            "help": "LoRA: learning rate of the added role markers' embedding rows (their tied "
            "LM-head rows too). Default: 10 × --lr. Full fine-tuning trains them at --lr."
        },
    )
    batch_size: int = field(
        default=4, metadata={"help": "Rows (packs or samples) per micro-batch per process."}
    )
    grad_accum: int = field(default=4, metadata={"help": "Micro-batches per optimizer step."})
    max_length: int = field(default=1024, metadata={"help": "Longest sample / packed row, tokens."})
    collate: str = field(
        default="auto",
        metadata={
            "help": "auto (pack; pad for ptuning) | pack | pad (dynamic) | max (seed: pad to max-length)"
        },
    )
    loss: str = field(
        default="labelled", metadata={"help": "labelled (LM head on labelled positions only) | full"}
    )
    warmup_ratio: float = field(
        default=0.02, metadata={"help": "Share of the steps spent warming up the lr."}
    )
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm (0: no clipping)."})
    eval_ratio: float = field(default=0.05, metadata={"help": "Share of agent data held out for eval loss."})
    eval_data: list[str] = field(
        default_factory=list, metadata={"help": "Eval data file (instead of --eval-ratio; repeatable)."}
    )
    eval_every: int = field(default=50, metadata={"help": "Eval loss every N steps (0: only at the end)."})
    save_every: int = field(default=100, metadata={"help": "Checkpoint every N steps (0: never)."})
    save_total_limit: int = field(default=2, metadata={"help": "Checkpoints kept (0: all)."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha (scaling = alpha / r)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_targets: str = field(
        default="all-linear", metadata={"help": "all-linear or comma-separated module names"}
    )
    num_virtual_tokens: int = field(
        default=16, metadata={"help": "P-Tuning v2 virtual tokens.", "flags": ("--prefix-tokens",)}
    )
    precision: str = field(
        default="auto", metadata={"help": "auto (bf16 where supported) | bf16 | fp16 | fp32"}
    )
    gradient_checkpointing: bool = field(
        default=False, metadata={"help": "Recompute activations in the backward pass (less memory)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the eval split, mixing, packing and shuffling."})
    resume: bool | str = field(
        default=False,
        metadata={
            "help": "Continue from the latest checkpoint in --out (Python API: or a checkpoint directory).",
            "cli_type": bool,
        },
    )
    merge: bool = field(
        default=False, metadata={"help": "Write a merged model (LoRA); the adapter goes to OUT/adapter."}
    )
    skip_invalid: bool = field(
        default=False, metadata={"help": "Drop invalid samples (counted) instead of failing."}
    )
    progress: bool = field(
        default=True,
        metadata={"help": "Show the progress bar.", "flags": ("--progress/--no-progress",)},
    )
    log_every: int = field(default=1, metadata={"help": "Write a train_log.jsonl row every N steps."})

    def resolved_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.method]

    def resolved_marker_lr(self) -> float:
        return self.marker_lr if self.marker_lr is not None else MARKER_LR_SCALE * self.resolved_lr()

    def resolved_collate(self) -> str:
        if self.collate != "auto":
            return self.collate
        # prefix tuning passes a KV cache, which disables position-id packing isolation
        return "pad" if self.method == "ptuning" else "pack"

    def check(self) -> None:
        """Raise :class:`TrainError` for a value no run can use."""
        from .collate import MODES
        from .loss import LOSS_MODES

        if self.method not in METHODS:
            raise TrainError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        mode = self.resolved_collate()
        if mode not in MODES:
            raise TrainError(f"unknown --collate {mode!r}; choose one of auto, {', '.join(MODES)}")
        if self.loss not in LOSS_MODES:
            raise TrainError(f"unknown --loss {self.loss!r}; choose one of {', '.join(LOSS_MODES)}")
        if self.mix_by not in MIX_BY:
            raise TrainError(f"unknown --mix-by {self.mix_by!r}; choose tokens or samples")
        if self.method == "ptuning" and mode == "pack":
            raise TrainError(
                "prefix tuning cannot use packing (its KV prefix disables packed-sample isolation); "
                "use --collate pad"
            )


@dataclass
class TrainResult:
    out: str
    steps: int
    seconds: float
    tokens: int
    label_tokens: int
    tokens_per_s: float
    first_loss: float | None
    last_loss: float | None
    eval_loss: float | None
    history: list[dict[str, Any]]
    summary: dict[str, Any]
    is_main_process: bool = True
