"""The three ways to fine-tune: every weight (``full``), LoRA, P-Tuning v2 (PEFT prefix tuning)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .config import METHODS, TrainConfig, TrainError


def apply_method(model: Any, cfg: TrainConfig, new_token_ids: Sequence[int] = ()) -> Any:
    """Full fine-tuning: every weight trains; LoRA (+ the embedding rows of ``new_token_ids``,
    the added role markers) or P-Tuning v2 (prefix tuning): a PEFT model."""
    if cfg.method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    from peft import LoraConfig, PrefixTuningConfig, get_peft_model

    if cfg.method == "lora":
        targets: Any = cfg.lora_targets if cfg.lora_targets == "all-linear" else cfg.lora_targets.split(",")
        pcfg: Any = LoraConfig(
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
