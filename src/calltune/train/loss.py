"""The causal-LM loss over labelled positions only.

Function-calling samples are mostly prompt (tool lists, observations) and a large vocabulary
makes the LM head the bulk of the cost (Gemma 3: 262k tokens). ``mode="labelled"`` passes a
boolean ``logits_to_keep`` mask to the model, so the final hidden states are gathered where
the *next* token has a label and the LM head runs on those rows only. ``mode="full"`` is the
plain way (full-vocabulary logits at every position), kept for comparison
(``bench/train_speed.py``). Both return the same value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from .encode import IGNORE

MODEL_INPUTS = ("input_ids", "attention_mask", "position_ids")
LOSS_MODES = ("labelled", "full")


def model_inputs(batch: Mapping[str, Any]) -> dict[str, Any]:
    return {k: batch[k] for k in MODEL_INPUTS if k in batch}


def lm_loss(
    model: Any, batch: Mapping[str, torch.Tensor], mode: str = "labelled"
) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the labelled tokens of ``batch`` and their number.

    ``labels`` are aligned with ``input_ids`` (``labels[i]`` is the target *at* position i,
    predicted from position i-1), as :func:`calltune.train.encode.encode_sample` builds them.
    """
    if mode not in LOSS_MODES:
        raise ValueError(f"loss mode must be one of {LOSS_MODES}, got {mode!r}")
    labels = batch["labels"]
    target = labels[:, 1:]
    valid = target != IGNORE
    n = int(valid.sum())
    inputs = model_inputs(batch)
    if mode == "labelled":
        keep = torch.zeros_like(labels, dtype=torch.bool)
        keep[:, :-1] = valid
        out = model(**inputs, logits_to_keep=keep, use_cache=False)
        logits = out.logits
        if logits.dim() == 3:  # the model ignored the mask (no logits_to_keep support)
            logits = logits[:, :-1][valid]
        tgt = target[valid]
    else:
        out = model(**inputs, use_cache=False)
        logits = out.logits[:, :-1].reshape(-1, out.logits.shape[-1])
        tgt = target.reshape(-1)
    if n == 0:
        return logits.sum() * 0.0, 0
    loss = F.cross_entropy(logits.float(), tgt, ignore_index=IGNORE, reduction="sum") / n
    return loss, n
