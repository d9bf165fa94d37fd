"""Fine-tuning for tool use: seed-format data, converters, validation, inference-exact
masks, AgentTuning mixing, packing, labelled-positions loss, full / LoRA / P-Tuning v2.

Importing this package does not import torch; :func:`train` does.
"""

from __future__ import annotations

from typing import Any

from .convert import openai_to_seed, seed_to_openai, seed_to_sharegpt, sharegpt_to_seed
from .data import Record, load_records, load_samples, write_samples
from .encode import EncodedSample, encode_sample
from .mixing import MixReport, mix
from .validate import check_records, validate_sample

__all__ = [
    "EncodedSample",
    "MixReport",
    "Record",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "check_records",
    "encode_sample",
    "load_records",
    "load_samples",
    "load_trained",
    "mix",
    "openai_to_seed",
    "seed_to_openai",
    "seed_to_sharegpt",
    "sharegpt_to_seed",
    "train",
    "validate_sample",
    "write_samples",
]


def __getattr__(name: str) -> Any:
    if name in ("train", "Trainer", "TrainConfig", "TrainResult"):
        from . import trainer

        return getattr(trainer, name)
    if name == "load_trained":
        from .artifacts import load_trained

        return load_trained
    raise AttributeError(name)
