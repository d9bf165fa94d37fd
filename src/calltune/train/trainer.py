"""Supervised fine-tuning for tool use: full, LoRA, P-Tuning v2 (PEFT prefix tuning).

A plain training loop on ``accelerate`` (not TRL's ``SFTTrainer``): calltune's samples come
with their own labels (inference-exact masks through the format object), are packed with
position-id isolation, and the loss runs the LM head on labelled positions only
(:mod:`calltune.train.loss`); SFTTrainer would re-tokenise and compute full logits. The
same loop runs single-process or under ``accelerate launch`` (DDP, FSDP, DeepSpeed ZeRO).

Defaults follow the seed/AgentTuning recipe: AdamW, cosine schedule, 2 % warm-up,
lr 5e-5 for full fine-tuning (LoRA 2e-4, prefix tuning 1e-2), gradient accumulation
to an effective batch, bf16 where the accelerator supports it.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .artifacts import load_model, load_tokenizer, resolve_base, write_meta
from .collate import MODES, Collator, make_units
from .data import load_records
from .encode import IGNORE, EncodedSample, add_format_tokens, bos_id, encode_dataset, get_format_obj
from .loss import LOSS_MODES, lm_loss
from .mixing import mix
from .validate import filter_valid
from ..errors import CalltuneError

METHODS = ("full", "lora", "ptuning")
DEFAULT_LR = {"full": 5e-5, "lora": 2e-4, "ptuning": 1e-2}


class TrainError(CalltuneError, ValueError):
    pass


@dataclass
class TrainConfig:
    model: str
    data: list[str]
    out: str
    format: str = "chatglm3"
    method: str = "lora"
    gguf_file: str | None = None
    general: list[str] = field(default_factory=list)
    eta: float = 0.2
    mix_by: str = "tokens"
    epochs: float = 1.0
    max_steps: int | None = None
    lr: float | None = None
    batch_size: int = 4
    grad_accum: int = 4
    max_length: int = 1024
    collate: str = "auto"  # auto (pack; pad for ptuning) | pack | pad | max
    loss: str = "labelled"  # labelled | full
    warmup_ratio: float = 0.02
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    eval_ratio: float = 0.05
    eval_data: list[str] = field(default_factory=list)
    eval_every: int = 50
    save_every: int = 100
    save_total_limit: int = 2
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all-linear"
    num_virtual_tokens: int = 16
    precision: str = "auto"  # auto | bf16 | fp16 | fp32
    gradient_checkpointing: bool = False
    seed: int = 0
    resume: bool | str = False
    merge: bool = False
    skip_invalid: bool = False
    progress: bool = True
    log_every: int = 1

    def resolved_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.method]

    def resolved_collate(self) -> str:
        if self.collate != "auto":
            return self.collate
        # prefix tuning passes a KV cache, which disables position-id packing isolation
        return "pad" if self.method == "ptuning" else "pack"


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


def _precision(p: str) -> str:
    import torch

    if p == "auto":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return "bf16"
        return "no"
    return {"fp32": "no", "no": "no", "bf16": "bf16", "fp16": "fp16"}[p]


def _read_split(paths: list[str], skip_invalid: bool, log: Callable[[str], None]) -> list[Any]:
    records = load_records(paths)
    keep, rep = filter_valid(records, skip_invalid=skip_invalid)
    if rep.invalid:
        log(f"dropped {rep.invalid} invalid samples of {rep.total} (--skip-invalid)")
    return keep


def _apply_method(model: Any, cfg: TrainConfig, new_token_ids: list[int]) -> Any:
    if cfg.method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    from peft import LoraConfig, PrefixTuningConfig, get_peft_model

    if cfg.method == "lora":
        targets: Any = cfg.lora_targets if cfg.lora_targets == "all-linear" else cfg.lora_targets.split(",")
        pcfg = LoraConfig(
            task_type="CAUSAL_LM",
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=targets,
            # new role markers get trainable embedding rows (tied LM-head rows follow)
            trainable_token_indices=list(new_token_ids) or None,
        )
    elif cfg.method == "ptuning":
        pcfg = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=cfg.num_virtual_tokens)
    else:
        raise TrainError(f"unknown method {cfg.method!r}; choose one of {', '.join(METHODS)}")
    return get_peft_model(model, pcfg)


def _latest_checkpoint(out: Path) -> Path | None:
    ck = out / "checkpoints"
    if not ck.is_dir():
        return None
    steps = sorted(
        (int(p.name.split("-")[1]), p) for p in ck.glob("step-*") if (p / "trainer_state.json").is_file()
    )
    return steps[-1][1] if steps else None


def train(cfg: TrainConfig, log: Callable[[str], None] | None = None) -> TrainResult:
    """Train and write the output directory (see :mod:`calltune.train.artifacts`)."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader
    from transformers import get_cosine_schedule_with_warmup

    if cfg.method not in METHODS:
        raise TrainError(f"unknown method {cfg.method!r}; choose one of {', '.join(METHODS)}")
    mode = cfg.resolved_collate()
    if mode not in MODES:
        raise TrainError(f"unknown --collate {mode!r}; choose one of auto, {', '.join(MODES)}")
    if cfg.loss not in LOSS_MODES:
        raise TrainError(f"unknown --loss {cfg.loss!r}; choose one of {', '.join(LOSS_MODES)}")
    if cfg.mix_by not in ("tokens", "samples"):
        raise TrainError(f"unknown --mix-by {cfg.mix_by!r}; choose tokens or samples")
    if cfg.method == "ptuning" and mode == "pack":
        raise TrainError(
            "prefix tuning cannot use packing (its KV prefix disables packed-sample isolation); use --collate pad"
        )
    # on a machine without an accelerator, say so: processes started by torchrun (accelerate's
    # multi-process launcher) then form a gloo process group on the CPU
    acc = Accelerator(
        gradient_accumulation_steps=cfg.grad_accum,
        mixed_precision=_precision(cfg.precision),
        cpu=not torch.cuda.is_available(),
    )
    main = acc.is_main_process
    if (
        acc.num_processes == 1
        and os.environ.get("MASTER_PORT")
        and os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true"
    ):
        # `accelerate launch --cpu --num_processes N` needs mpirun (--mpirun_hostfile) to start N processes
        (log or print)(
            "note: accelerate started one CPU process; for N CPU processes without MPI use "
            "`accelerate launch --multi_gpu --num_processes N` or --config_file examples/accelerate/ddp_cpu.yaml"
        )
    out = Path(cfg.out)

    def say(msg: str) -> None:
        if main:
            (log or print)(msg)

    set_seed(cfg.seed)
    fmt = get_format_obj(cfg.format)
    t_load = time.time()
    tok = load_tokenizer(cfg.model, cfg.gguf_file)
    added = add_format_tokens(tok, fmt)
    new_ids = [tok.convert_tokens_to_ids(t) for t in added]
    if added:
        say(f"added the format's role markers as special tokens: {added} -> ids {new_ids}")

    # ---- data
    agent_recs = _read_split(cfg.data, cfg.skip_invalid, say)
    agent_enc, agent_st = encode_dataset(
        [r.sample for r in agent_recs], tok, fmt, cfg.max_length, [r.location for r in agent_recs]
    )
    say(
        f"agent data: {agent_st.samples} samples, {agent_st.tokens} tokens, {agent_st.label_tokens} trained; "
        f"{agent_st.truncated} truncated, {agent_st.dropped} dropped (too long)"
    )
    rng = random.Random(cfg.seed)
    if cfg.eval_data:
        ev_recs = _read_split(cfg.eval_data, cfg.skip_invalid, say)
        eval_enc, _ = encode_dataset([r.sample for r in ev_recs], tok, fmt, cfg.max_length)
        train_agent = agent_enc
    else:
        order = list(range(len(agent_enc)))
        rng.shuffle(order)
        n_eval = int(round(len(order) * cfg.eval_ratio)) if cfg.eval_ratio > 0 else 0
        if n_eval == 0 and cfg.eval_ratio > 0 and len(order) >= 10:
            n_eval = 1
        eval_enc = [agent_enc[i] for i in order[:n_eval]]
        train_agent = [agent_enc[i] for i in order[n_eval:]]
    mix_report = None
    if cfg.general:
        gen_recs = _read_split(cfg.general, cfg.skip_invalid, say)
        gen_enc, gen_st = encode_dataset([r.sample for r in gen_recs], tok, fmt, cfg.max_length)
        say(f"general data: {gen_st.samples} samples, {gen_st.label_tokens} trained tokens")
        train_items, mix_report = mix(
            train_agent, gen_enc, cfg.eta, weight=lambda e: e.n_labels, by=cfg.mix_by, seed=cfg.seed
        )
        say(mix_report.summary())
    else:
        train_items = list(train_agent)
    if not train_items:
        raise TrainError("no training samples left")

    units = make_units(train_items, mode, cfg.max_length, seed=cfg.seed)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    collator = Collator(mode=mode, pad_id=pad_id, max_length=cfg.max_length)
    g = torch.Generator()
    g.manual_seed(cfg.seed)
    dl = DataLoader(units, batch_size=cfg.batch_size, shuffle=True, collate_fn=collator, generator=g)
    eval_dl = (
        DataLoader(eval_enc, batch_size=cfg.batch_size, shuffle=False, collate_fn=Collator("pad", pad_id))
        if eval_enc
        else None
    )

    # ---- model
    model = load_model(cfg.model, cfg.gguf_file)
    if added:
        model.resize_token_embeddings(len(tok), mean_resizing=True)
    say(f"loaded {cfg.model} in {time.time() - t_load:.1f}s")
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        if cfg.method != "full":
            model.enable_input_require_grads()
    model = _apply_method(model, cfg, new_ids)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_all = sum(p.numel() for p in model.parameters())
    say(f"method {cfg.method}: {n_train:,} trainable parameters of {n_all:,} ({100 * n_train / n_all:.2f}%)")

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.resolved_lr(), weight_decay=cfg.weight_decay)
    model, opt, dl = acc.prepare(model, opt, dl)
    if eval_dl is not None:
        eval_dl = acc.prepare(eval_dl)
    per_epoch = max(1, math.ceil(len(dl) / cfg.grad_accum))
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * per_epoch))
    warmup = math.ceil(cfg.warmup_ratio * total)
    sched = get_cosine_schedule_with_warmup(opt, warmup, total)
    acc.register_for_checkpointing(sched)

    # ---- resume
    step = 0
    skip_batches = 0
    if cfg.resume:
        ck = Path(cfg.resume) if isinstance(cfg.resume, str) else _latest_checkpoint(out)
        if ck is None:
            say(f"--resume: no checkpoint under {out / 'checkpoints'}; starting from scratch")
        else:
            acc.load_state(str(ck))
            st = json.loads((ck / "trainer_state.json").read_text())
            step = st["step"]
            skip_batches = st["batches_done"]
            say(f"resumed from {ck} at step {step}")

    history: list[dict[str, Any]] = []
    if main:
        out.mkdir(parents=True, exist_ok=True)
        if not cfg.resume:
            (out / "train_log.jsonl").unlink(missing_ok=True)

    def log_row(row: dict[str, Any]) -> None:
        history.append(row)
        if main:
            with (out / "train_log.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

    def evaluate() -> float | None:
        if eval_dl is None:
            return None
        model.eval()
        tot = torch.zeros(2, dtype=torch.float64, device=acc.device)
        with torch.no_grad():
            for b in eval_dl:
                loss, n = lm_loss(model, b, cfg.loss)
                tot += torch.tensor([float(loss) * n, n], dtype=torch.float64, device=acc.device)
        tot = acc.reduce(tot, "sum")
        model.train()
        return float(tot[0] / tot[1]) if tot[1] > 0 else None

    def save_checkpoint(batches_done: int) -> None:
        ck = out / "checkpoints" / f"step-{step}"
        acc.save_state(str(ck))
        if main:
            (ck / "trainer_state.json").write_text(json.dumps({"step": step, "batches_done": batches_done}))
            cks = sorted((int(p.name.split("-")[1]), p) for p in (out / "checkpoints").glob("step-*"))
            for _, old in cks[: -cfg.save_total_limit] if cfg.save_total_limit > 0 else []:
                shutil.rmtree(old, ignore_errors=True)
        acc.wait_for_everyone()

    progress = None
    task = None
    if main and cfg.progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[tps]} tok/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        progress.start()
        task = progress.add_task("train", total=total, completed=step, loss="-", tps="-")

    model.train()
    t0 = time.time()
    tokens_seen = 0
    labels_seen = 0
    acc_loss = torch.zeros(3, dtype=torch.float64, device=acc.device)  # loss*n, n, tokens
    batches_done = skip_batches
    eval_loss: float | None = None
    first_loss = None
    last_loss = None
    epoch = batches_done // max(len(dl), 1)
    try:
        while step < total:
            dl.set_epoch(epoch)
            in_epoch = batches_done - epoch * len(dl)
            it = acc.skip_first_batches(dl, in_epoch) if in_epoch else dl
            for batch in it:
                with acc.accumulate(model):
                    loss, n = lm_loss(model, batch, cfg.loss)
                    acc.backward(loss)
                    if acc.sync_gradients and cfg.max_grad_norm:
                        acc.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                    opt.step()
                    opt.zero_grad()
                batches_done += 1
                acc_loss += torch.tensor(
                    [float(loss.detach()) * n, n, int(batch["num_tokens"])],
                    dtype=torch.float64,
                    device=acc.device,
                )
                if not acc.sync_gradients:
                    continue
                sched.step()
                step += 1
                red = acc.reduce(acc_loss, "sum")
                acc_loss.zero_()
                step_loss = float(red[0] / red[1]) if red[1] > 0 else float("nan")
                tokens_seen += int(red[2])
                labels_seen += int(red[1])
                el = time.time() - t0
                tps = tokens_seen / el if el > 0 else 0.0
                first_loss = step_loss if first_loss is None else first_loss
                last_loss = step_loss
                row = {
                    "step": step,
                    "loss": round(step_loss, 5),
                    "lr": sched.get_last_lr()[0],
                    "tokens": tokens_seen,
                    "tokens_per_s": round(tps, 1),
                    "elapsed_s": round(el, 1),
                }
                if cfg.eval_every and step % cfg.eval_every == 0 and step < total:
                    eval_loss = evaluate()
                    row["eval_loss"] = eval_loss
                if step % max(cfg.log_every, 1) == 0 or "eval_loss" in row:
                    log_row(row)
                if progress is not None:
                    progress.update(task, completed=step, loss=f"{step_loss:.4f}", tps=f"{tps:,.0f}")
                if cfg.save_every and step % cfg.save_every == 0 and step < total:
                    save_checkpoint(batches_done)
                if step >= total:
                    break
            else:
                epoch += 1
                continue
            break
    finally:
        if progress is not None:
            progress.stop()
    seconds = time.time() - t0
    eval_loss = evaluate()
    if eval_loss is not None:
        say(f"eval loss {eval_loss:.4f} on {len(eval_enc)} held-out samples")
        log_row({"step": step, "eval_loss": eval_loss})

    # ---- output
    acc.wait_for_everyone()
    summary = {
        "config": asdict(cfg),
        "steps": step,
        "train_seconds": round(seconds, 1),
        "tokens": tokens_seen,
        "label_tokens": labels_seen,
        "tokens_per_s": round(tokens_seen / seconds, 1) if seconds else None,
        "first_loss": first_loss,
        "last_loss": last_loss,
        "eval_loss": eval_loss,
        "encode": agent_st.to_dict(),
        "mixture": mix_report.to_dict() if mix_report else None,
        "collate": mode,
        "num_processes": acc.num_processes,
        "trainable_params": n_train,
    }
    if main:
        save_output(acc.unwrap_model(model), tok, cfg, added, out, summary, acc)
        say(f"wrote {out} ({step} steps, {seconds:.0f}s, {summary['tokens_per_s']} tok/s)")
    acc.wait_for_everyone()
    return TrainResult(
        out=str(out),
        steps=step,
        seconds=seconds,
        tokens=tokens_seen,
        label_tokens=labels_seen,
        tokens_per_s=summary["tokens_per_s"] or 0.0,
        first_loss=first_loss,
        last_loss=last_loss,
        eval_loss=eval_loss,
        history=history,
        summary=summary,
        is_main_process=main,
    )


def save_output(
    model: Any,
    tok: Any,
    cfg: TrainConfig,
    added: list[str],
    out: Path,
    summary: dict[str, Any],
    acc: Any = None,
) -> None:
    """Write the model/adapter, tokenizer, ``calltune.json`` and ``train_summary.json``."""
    out.mkdir(parents=True, exist_ok=True)
    base, gguf = resolve_base(cfg.model, cfg.gguf_file)
    save = acc.save if acc is not None else None
    merged = False
    if cfg.method == "full":
        model.save_pretrained(str(out), save_function=save) if save else model.save_pretrained(str(out))
    else:
        if cfg.merge:
            if cfg.method != "lora":
                raise TrainError("--merge needs --method lora (a prefix cannot be merged into the weights)")
            model.save_pretrained(str(out / "adapter"), save_embedding_layers=False)
            save_tokenizer(tok, out / "adapter")
            merged_model = model.merge_and_unload()
            merged_model.save_pretrained(str(out))
            merged = True
        elif cfg.method == "lora":
            # new marker rows live in the adapter (trainable tokens): no need for the whole embedding
            model.save_pretrained(str(out), save_embedding_layers=False)
        else:
            model.save_pretrained(str(out))
    save_tokenizer(tok, out)
    meta: dict[str, Any] = {
        "format": getattr(get_format_obj(cfg.format), "name", cfg.format),
        "base_model": base,
        "adapter": cfg.method != "full" and not merged,
        "method": cfg.method,
        "merged": merged,
        "added_tokens": added,
    }
    if gguf and meta["adapter"]:
        # the base the adapter goes on is a GGUF file in base_model's directory (a full or merged
        # model is saved as safetensors in OUT: no gguf_file, which would name a file in OUT)
        meta["gguf_file"] = gguf
    write_meta(out, meta)
    (out / "train_summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n"
    )


def save_tokenizer(tok: Any, out: Path) -> None:
    """Save the tokenizer; record ``add_bos_token`` when the model wants BOS (training put it
    in front of every sample, so inference must too)."""
    tok.save_pretrained(str(out))
    if bos_id(tok) is not None:
        f = out / "tokenizer_config.json"
        d = json.loads(f.read_text(encoding="utf-8"))
        d["add_bos_token"] = True
        f.write_text(json.dumps(d, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def label_count(items: list[EncodedSample]) -> int:
    return sum(sum(1 for x in e.labels if x != IGNORE) for e in items)
