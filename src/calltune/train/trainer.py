"""Supervised fine-tuning for tool use: full, LoRA, P-Tuning v2 (PEFT prefix tuning).

A plain training loop on ``accelerate`` (not TRL's ``SFTTrainer``): calltune's samples come
with their own labels (inference-exact masks through the format object), are packed with
position-id isolation, and the loss runs the LM head on labelled positions only
(:mod:`calltune.train.loss`); SFTTrainer would re-tokenise and compute full logits. The
same loop runs single-process or under ``accelerate launch`` (DDP, FSDP, DeepSpeed ZeRO).

Defaults follow the seed/AgentTuning recipe: AdamW, cosine schedule, 2 % warm-up,
lr 5e-5 for full fine-tuning (LoRA 2e-4, prefix tuning 1e-2), gradient accumulation
to an effective batch, bf16 where the accelerator supports it.

:class:`Trainer` runs it in small overridable steps (as transformers' ``Trainer`` does):
``load_tokenizer`` → ``prepare_data`` → ``build_model`` (``load_base_model`` +
``apply_method``) → ``create_optimizer`` / ``create_scheduler`` → ``resume`` → per batch
``training_step``, per optimizer step ``on_step_end`` (log, ``evaluate``,
``save_checkpoint``) → ``save_model``. :func:`train` is ``Trainer(cfg, log).train()``.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .artifacts import load_model, load_tokenizer, save_output, save_tokenizer
from .checkpoints import checkpoint_dir, latest_checkpoint, prune_checkpoints, read_state, write_state
from .collate import Collator, make_units
from .config import DEFAULT_LR, METHODS, TrainConfig, TrainError, TrainResult
from .data import Record, load_records
from .encode import (
    EncodedSample,
    EncodeStats,
    add_format_tokens,
    encode_dataset,
    get_format_obj,
    resize_for_markers,
)
from .loss import lm_loss
from .methods import apply_method
from .mixing import MixReport, mix
from .progress import StepProgress
from .validate import filter_valid

__all__ = [
    "DEFAULT_LR",
    "METHODS",
    "TrainConfig",
    "TrainError",
    "TrainResult",
    "TrainState",
    "Trainer",
    "save_output",
    "save_tokenizer",
    "train",
]


def _precision(p: str) -> str:
    import torch

    if p == "auto":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return "bf16"
        return "no"
    return {"fp32": "no", "no": "no", "bf16": "bf16", "fp16": "fp16"}[p]


@dataclass
class TrainState:
    """Where the run is: optimizer steps, micro-batches consumed, tokens and losses so far."""

    step: int = 0
    batches_done: int = 0
    tokens: int = 0
    label_tokens: int = 0
    first_loss: float | None = None
    last_loss: float | None = None
    eval_loss: float | None = None


class Trainer:
    """One training run of ``config``; ``log`` receives the progress lines (main process only).

    Override a hook to change one step; the attributes it sets are what later hooks read.
    """

    def __init__(self, config: TrainConfig, log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.out = Path(config.out)
        self.state = TrainState()
        self.history: list[dict[str, Any]] = []
        self._print = log or print
        self.acc: Any = None
        self.format: Any = None
        self.tokenizer: Any = None
        self.added_tokens: list[str] = []
        self.new_token_ids: list[int] = []
        self.train_items: list[EncodedSample] = []
        self.eval_items: list[EncodedSample] = []
        self.encode_stats: EncodeStats | None = None
        self.mix_report: MixReport | None = None
        self.model: Any = None
        self.optimizer: Any = None
        self.scheduler: Any = None
        self.train_loader: Any = None
        self.eval_loader: Any = None
        self.total_steps = 0
        self.n_trainable = 0
        self._t0 = 0.0
        self._window: Any = None  # loss*n, n, tokens of the micro-batches since the last optimizer step
        self._bar = StepProgress(0, enabled=False)

    # ------------------------------------------------------------------ the run

    def train(self) -> TrainResult:
        """Run every step and write the output directory (see :mod:`calltune.train.artifacts`)."""
        from accelerate.utils import set_seed

        cfg = self.config
        cfg.check()
        self.acc = self.create_accelerator()
        set_seed(cfg.seed)
        self.format = get_format_obj(cfg.format)
        t_load = time.time()
        self.load_tokenizer()
        self.prepare_data()
        self.model = self.build_model(t_load)
        self.prepare()
        self.resume()
        self.open_log()
        seconds = self.train_loop()
        st = self.state
        st.eval_loss = self.evaluate()
        if st.eval_loss is not None:
            self.log(f"eval loss {st.eval_loss:.4f} on {len(self.eval_items)} held-out samples")
            self.log_row({"step": st.step, "eval_loss": st.eval_loss})
        self.acc.wait_for_everyone()
        summary = self.summary(seconds)
        if self.is_main:
            self.save_model(summary)
            self.log(f"wrote {self.out} ({st.step} steps, {seconds:.0f}s, {summary['tokens_per_s']} tok/s)")
        self.acc.wait_for_everyone()
        return TrainResult(
            out=str(self.out),
            steps=st.step,
            seconds=seconds,
            tokens=st.tokens,
            label_tokens=st.label_tokens,
            tokens_per_s=summary["tokens_per_s"] or 0.0,
            first_loss=st.first_loss,
            last_loss=st.last_loss,
            eval_loss=st.eval_loss,
            history=self.history,
            summary=summary,
            is_main_process=self.is_main,
        )

    @property
    def is_main(self) -> bool:
        return self.acc is None or self.acc.is_main_process

    def log(self, msg: str) -> None:
        if self.is_main:
            self._print(msg)

    def create_accelerator(self) -> Any:
        import torch
        from accelerate import Accelerator

        # on a machine without an accelerator, say so: processes started by torchrun (accelerate's
        # multi-process launcher) then form a gloo process group on the CPU
        acc = Accelerator(
            gradient_accumulation_steps=self.config.grad_accum,
            mixed_precision=_precision(self.config.precision),
            cpu=not torch.cuda.is_available(),
        )
        if (
            acc.num_processes == 1
            and os.environ.get("MASTER_PORT")
            and os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true"
        ):
            # `accelerate launch --cpu --num_processes N` needs mpirun (--mpirun_hostfile) to start N processes
            self._print(
                "note: accelerate started one CPU process; for N CPU processes without MPI use "
                "`accelerate launch --multi_gpu --num_processes N` or --config_file examples/accelerate/ddp_cpu.yaml"
            )
        return acc

    # ------------------------------------------------------------------ data

    def load_tokenizer(self) -> Any:
        """The base tokenizer with the format's missing role markers added as special tokens."""
        tok = load_tokenizer(self.config.model, self.config.gguf_file)
        self.added_tokens = add_format_tokens(tok, self.format)
        self.new_token_ids = [tok.convert_tokens_to_ids(t) for t in self.added_tokens]
        if self.added_tokens:
            self.log(
                f"added the format's role markers as special tokens: {self.added_tokens} -> ids {self.new_token_ids}"
            )
        self.tokenizer = tok
        return tok

    def read_records(self, paths: Sequence[str]) -> list[Record]:
        """The valid records of ``paths`` (invalid ones fail the run, or are dropped with --skip-invalid)."""
        keep, rep = filter_valid(load_records(list(paths)), skip_invalid=self.config.skip_invalid)
        if rep.invalid:
            self.log(f"dropped {rep.invalid} invalid samples of {rep.total} (--skip-invalid)")
        return keep

    def encode(
        self, records: Sequence[Record], with_locations: bool = False
    ) -> tuple[list[EncodedSample], EncodeStats]:
        return encode_dataset(
            [r.sample for r in records],
            self.tokenizer,
            self.format,
            self.config.max_length,
            [r.location for r in records] if with_locations else None,
        )

    def prepare_data(self) -> None:
        """Read, validate and encode the agent data; split off the eval set; mix in general data."""
        cfg = self.config
        agent, st = self.encode(self.read_records(cfg.data), with_locations=True)
        self.encode_stats = st
        self.log(
            f"agent data: {st.samples} samples, {st.tokens} tokens, {st.label_tokens} trained; "
            f"{st.truncated} truncated, {st.dropped} dropped (too long)"
        )
        train_agent, self.eval_items = self.split_eval(agent)
        self.train_items = self.mix_general(train_agent) if cfg.general else list(train_agent)
        if not self.train_items:
            raise TrainError("no training samples left")

    def split_eval(self, agent: list[EncodedSample]) -> tuple[list[EncodedSample], list[EncodedSample]]:
        """``(train, eval)``: --eval-data when given, else a seeded --eval-ratio share of the agent data."""
        cfg = self.config
        if cfg.eval_data:
            return agent, self.encode(self.read_records(cfg.eval_data))[0]
        order = list(range(len(agent)))
        random.Random(cfg.seed).shuffle(order)
        n_eval = int(round(len(order) * cfg.eval_ratio)) if cfg.eval_ratio > 0 else 0
        if n_eval == 0 and cfg.eval_ratio > 0 and len(order) >= 10:
            n_eval = 1
        return [agent[i] for i in order[n_eval:]], [agent[i] for i in order[:n_eval]]

    def mix_general(self, train_agent: list[EncodedSample]) -> list[EncodedSample]:
        """AgentTuning: general chat samples drawn until agent data is ``eta`` of the signal."""
        cfg = self.config
        general, st = self.encode(self.read_records(cfg.general))
        self.log(f"general data: {st.samples} samples, {st.label_tokens} trained tokens")
        items, self.mix_report = mix(
            train_agent, general, cfg.eta, weight=lambda e: e.n_labels, by=cfg.mix_by, seed=cfg.seed
        )
        self.log(self.mix_report.summary())
        return items

    def create_dataloaders(self) -> tuple[Any, Any]:
        """``(train loader, eval loader or None)``: packed / padded rows (--collate)."""
        import torch
        from torch.utils.data import DataLoader

        cfg = self.config
        mode = cfg.resolved_collate()
        units = make_units(self.train_items, mode, cfg.max_length, seed=cfg.seed)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        g = torch.Generator()
        g.manual_seed(cfg.seed)
        collator = Collator(mode=mode, pad_id=pad_id, max_length=cfg.max_length)
        train_dl = DataLoader(
            units, batch_size=cfg.batch_size, shuffle=True, collate_fn=collator, generator=g
        )
        eval_dl = (
            DataLoader(
                self.eval_items, batch_size=cfg.batch_size, shuffle=False, collate_fn=Collator("pad", pad_id)
            )
            if self.eval_items
            else None
        )
        return train_dl, eval_dl

    # ------------------------------------------------------------------ model

    def build_model(self, t_load: float | None = None) -> Any:
        """The base model (embeddings resized for added markers) wrapped for ``--method``."""
        cfg = self.config
        model = self.load_base_model()
        if t_load is not None:
            self.log(f"loaded {cfg.model} in {time.time() - t_load:.1f}s")
        if cfg.gradient_checkpointing:
            model.gradient_checkpointing_enable()
            if cfg.method != "full":
                model.enable_input_require_grads()
        model = self.apply_method(model)
        self.n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        n_all = sum(p.numel() for p in model.parameters())
        self.log(
            f"method {cfg.method}: {self.n_trainable:,} trainable parameters of {n_all:,} "
            f"({100 * self.n_trainable / n_all:.2f}%)"
        )
        return model

    def load_base_model(self) -> Any:
        model = load_model(self.config.model, self.config.gguf_file)
        if self.added_tokens:
            resize_for_markers(model, self.tokenizer, self.added_tokens, self.format)
        return model

    def apply_method(self, model: Any) -> Any:
        """``model`` made trainable for ``--method`` (see :func:`calltune.train.methods.apply_method`)."""
        return apply_method(model, self.config, self.new_token_ids)

    def create_optimizer(self) -> Any:
        import torch

        cfg = self.config
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        # LoRA's trainable rows of the added markers (peft's TrainableTokens) get their own lr
        markers = [p for n, p in named if "trainable_tokens_delta" in n]
        rest = [p for n, p in named if "trainable_tokens_delta" not in n]
        groups: list[dict[str, Any]] = [{"params": rest}]
        if markers:
            groups.append({"params": markers, "lr": cfg.resolved_marker_lr()})
        return torch.optim.AdamW(groups, lr=cfg.resolved_lr(), weight_decay=cfg.weight_decay)

    def create_scheduler(self, optimizer: Any, total_steps: int) -> Any:
        from transformers import get_cosine_schedule_with_warmup

        warmup = math.ceil(self.config.warmup_ratio * total_steps)
        return get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)

    def prepare(self) -> None:
        """Data loaders, optimizer and scheduler, placed by accelerate (devices, processes)."""
        cfg, acc = self.config, self.acc
        train_dl, eval_dl = self.create_dataloaders()
        self.optimizer = self.create_optimizer()
        self.model, self.optimizer, self.train_loader = acc.prepare(self.model, self.optimizer, train_dl)
        self.eval_loader = acc.prepare(eval_dl) if eval_dl is not None else None
        per_epoch = max(1, math.ceil(len(self.train_loader) / cfg.grad_accum))
        self.total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * per_epoch))
        self.scheduler = self.create_scheduler(self.optimizer, self.total_steps)
        acc.register_for_checkpointing(self.scheduler)

    # ------------------------------------------------------------------ checkpoints

    def resume(self) -> None:
        """With --resume: load the latest (or the given) checkpoint and its data position."""
        resume = self.config.resume
        if not resume:
            return
        ck = Path(resume) if isinstance(resume, str) else latest_checkpoint(self.out)
        if ck is None:
            self.log(f"--resume: no checkpoint under {self.out / 'checkpoints'}; starting from scratch")
            return
        self.acc.load_state(str(ck))
        st = read_state(ck)
        self.state.step = st["step"]
        self.state.batches_done = st["batches_done"]
        self.log(f"resumed from {ck} at step {self.state.step}")

    def save_checkpoint(self) -> None:
        """``OUT/checkpoints/step-N`` (all processes take part); older ones beyond the limit go."""
        ck = checkpoint_dir(self.out, self.state.step)
        self.acc.save_state(str(ck))
        if self.is_main:
            write_state(ck, self.state.step, self.state.batches_done)
            prune_checkpoints(self.out, self.config.save_total_limit)
        self.acc.wait_for_everyone()

    def open_log(self) -> None:
        """Create OUT; a fresh run starts a new ``train_log.jsonl``, a resumed one appends."""
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            if not self.config.resume:
                (self.out / "train_log.jsonl").unlink(missing_ok=True)

    def log_row(self, row: dict[str, Any]) -> None:
        self.history.append(row)
        if self.is_main:
            with (self.out / "train_log.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

    # ------------------------------------------------------------------ the loop

    def train_loop(self) -> float:
        """Optimizer steps until ``total_steps``; returns the seconds spent."""
        import torch

        self.model.train()
        self._t0 = time.time()
        self._window = torch.zeros(3, dtype=torch.float64, device=self.acc.device)
        epoch = self.state.batches_done // max(len(self.train_loader), 1)
        with StepProgress(self.total_steps, self.state.step, self.is_main and self.config.progress) as bar:
            self._bar = bar
            while self.state.step < self.total_steps:
                self.train_epoch(epoch)
                epoch += 1
        return time.time() - self._t0

    def train_epoch(self, epoch: int) -> None:
        """The epoch's batches (after those a resumed run already consumed), until the last step."""
        import torch

        acc, dl, st = self.acc, self.train_loader, self.state
        dl.set_epoch(epoch)
        in_epoch = st.batches_done - epoch * len(dl)
        for batch in acc.skip_first_batches(dl, in_epoch) if in_epoch else dl:
            loss, n = self.training_step(batch)
            st.batches_done += 1
            self._window += torch.tensor(
                [float(loss.detach()) * n, n, int(batch["num_tokens"])],
                dtype=torch.float64,
                device=acc.device,
            )
            if not acc.sync_gradients:
                continue
            self.scheduler.step()
            st.step += 1
            self.on_step_end()
            if st.step >= self.total_steps:
                return

    def training_step(self, batch: dict[str, Any]) -> tuple[Any, int]:
        """Forward + backward of one micro-batch (the optimizer steps once per --grad-accum)."""
        acc, cfg = self.acc, self.config
        with acc.accumulate(self.model):
            loss, n = lm_loss(self.model, batch, cfg.loss)
            acc.backward(loss)
            if acc.sync_gradients and cfg.max_grad_norm:
                acc.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad()
        return loss, n

    def on_step_end(self) -> None:
        """After an optimizer step: reduce the loss over processes, log, evaluate, checkpoint."""
        cfg, st = self.config, self.state
        red = self.acc.reduce(self._window, "sum")
        self._window.zero_()
        step_loss = float(red[0] / red[1]) if red[1] > 0 else float("nan")
        st.tokens += int(red[2])
        st.label_tokens += int(red[1])
        el = time.time() - self._t0
        tps = st.tokens / el if el > 0 else 0.0
        st.first_loss = step_loss if st.first_loss is None else st.first_loss
        st.last_loss = step_loss
        row = {
            "step": st.step,
            "loss": round(step_loss, 5),
            "lr": self.scheduler.get_last_lr()[0],
            "tokens": st.tokens,
            "tokens_per_s": round(tps, 1),
            "elapsed_s": round(el, 1),
        }
        before_end = st.step < self.total_steps
        if cfg.eval_every and st.step % cfg.eval_every == 0 and before_end:
            st.eval_loss = self.evaluate()
            row["eval_loss"] = st.eval_loss
        if st.step % max(cfg.log_every, 1) == 0 or "eval_loss" in row:
            self.log_row(row)
        self._bar.update(st.step, step_loss, tps)
        if cfg.save_every and st.step % cfg.save_every == 0 and before_end:
            self.save_checkpoint()

    def evaluate(self) -> float | None:
        """Mean loss over the eval set's trained tokens (all processes), or None without one."""
        import torch

        if self.eval_loader is None:
            return None
        acc, model = self.acc, self.model
        model.eval()
        tot = torch.zeros(2, dtype=torch.float64, device=acc.device)
        with torch.no_grad():
            for b in self.eval_loader:
                loss, n = lm_loss(model, b, self.config.loss)
                tot += torch.tensor([float(loss) * n, n], dtype=torch.float64, device=acc.device)
        tot = acc.reduce(tot, "sum")
        model.train()
        return float(tot[0] / tot[1]) if tot[1] > 0 else None

    # ------------------------------------------------------------------ output

    def summary(self, seconds: float) -> dict[str, Any]:
        """What ``train_summary.json`` holds."""
        st = self.state
        return {
            "config": asdict(self.config),
            "steps": st.step,
            "train_seconds": round(seconds, 1),
            "tokens": st.tokens,
            "label_tokens": st.label_tokens,
            "tokens_per_s": round(st.tokens / seconds, 1) if seconds else None,
            "first_loss": st.first_loss,
            "last_loss": st.last_loss,
            "eval_loss": st.eval_loss,
            "encode": self.encode_stats.to_dict() if self.encode_stats else None,
            "mixture": self.mix_report.to_dict() if self.mix_report else None,
            "collate": self.config.resolved_collate(),
            "num_processes": self.acc.num_processes,
            "trainable_params": self.n_trainable,
        }

    def save_model(self, summary: dict[str, Any]) -> None:
        """The final output (main process): model or adapter (--merge), tokenizer, calltune.json."""
        model = self.acc.unwrap_model(self.model)
        save_output(model, self.tokenizer, self.config, self.added_tokens, self.out, summary, self.acc)


def train(cfg: TrainConfig, log: Callable[[str], None] | None = None) -> TrainResult:
    """Train and write the output directory (see :mod:`calltune.train.artifacts`)."""
    return Trainer(cfg, log).train()
