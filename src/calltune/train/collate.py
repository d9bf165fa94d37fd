"""Batching without padding waste: dynamic padding, or packing with isolated samples.

Modes:

- ``pad``: each batch is padded to its own longest sample (dynamic padding).
- ``pack``: samples are packed into rows of at most ``max_length`` tokens. Every sample
  restarts ``position_ids`` at 0 and no ``attention_mask`` is passed, so transformers
  builds a block-diagonal causal mask from the position ids (``find_packed_sequence_indices``,
  flash-attention-style packing): a packed sample never attends to its neighbours, and its
  logits equal those of the sample alone (tested). Its first label is -100, so nothing is
  predicted across a boundary.
- ``max``: every sample padded to ``max_length`` (what the seed's MultiTurnDataset does;
  kept for comparison in ``bench/train_speed.py``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .encode import IGNORE

MODES = ("pad", "pack", "max")


def _ids(item: Any) -> list[int]:
    return list(item["input_ids"])


def _labels(item: Any) -> list[int]:
    return list(item["labels"])


def pack_items(items: Sequence[Any], max_length: int, seed: int | None = 0) -> list[list[Any]]:
    """Greedy first-fit packing of (optionally shuffled) items into rows of <= ``max_length`` tokens."""
    order = list(range(len(items)))
    if seed is not None:
        random.Random(seed).shuffle(order)
    packs: list[list[Any]] = []
    room: list[int] = []
    for i in order:
        n = len(_ids(items[i]))
        for p, r in enumerate(room):
            if n <= r:
                packs[p].append(items[i])
                room[p] -= n
                break
        else:
            packs.append([items[i]])
            room.append(max(max_length - n, 0))
    return packs


@dataclass
class Collator:
    """Turns a list of units (samples, or packs of samples in ``pack`` mode) into tensors."""

    mode: str = "pad"
    pad_id: int = 0
    max_length: int | None = None
    pad_to_multiple_of: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"collate mode must be one of {MODES}, got {self.mode!r}")
        if self.mode == "max" and not self.max_length:
            raise ValueError("mode 'max' needs max_length")

    def _target_len(self, longest: int) -> int:
        if self.mode == "max":
            return max(int(self.max_length or 0), longest)
        n = longest
        m = self.pad_to_multiple_of
        if m:
            n = (n + m - 1) // m * m
        return n

    def __call__(self, units: Sequence[Any]) -> dict[str, torch.Tensor]:
        if self.mode == "pack":
            return self._packed([u if isinstance(u, list) else [u] for u in units])
        rows = [(_ids(u), _labels(u)) for u in units]
        L = self._target_len(max(len(r[0]) for r in rows))
        ids = torch.full((len(rows), L), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), L), IGNORE, dtype=torch.long)
        att = torch.zeros((len(rows), L), dtype=torch.long)
        for b, (i, lab) in enumerate(rows):
            ids[b, : len(i)] = torch.tensor(i)
            labels[b, : len(lab)] = torch.tensor(lab)
            att[b, : len(i)] = 1
        real = sum(len(r[0]) for r in rows)
        return {"input_ids": ids, "labels": labels, "attention_mask": att, "num_tokens": torch.tensor(real)}

    def _packed(self, packs: Sequence[Sequence[Any]]) -> dict[str, torch.Tensor]:
        rows = []
        for pack in packs:
            ids: list[int] = []
            labels: list[int] = []
            pos: list[int] = []
            for item in pack:
                i = _ids(item)
                lab = _labels(item)
                lab = [IGNORE] + lab[1:]  # never predict across a boundary
                ids += i
                labels += lab
                pos += list(range(len(i)))
            rows.append((ids, labels, pos))
        L = self._target_len(max(len(r[0]) for r in rows))
        t_ids = torch.full((len(rows), L), self.pad_id, dtype=torch.long)
        t_lab = torch.full((len(rows), L), IGNORE, dtype=torch.long)
        t_pos = torch.zeros((len(rows), L), dtype=torch.long)
        for b, (ids, labels, pos) in enumerate(rows):
            n = len(ids)
            t_ids[b, :n] = torch.tensor(ids)
            t_lab[b, :n] = torch.tensor(labels)
            t_pos[b, :n] = torch.tensor(pos)
            # padding forms its own pseudo-sequence (positions restart), never attended by real tokens
            t_pos[b, n:] = torch.arange(L - n)
        real = sum(len(r[0]) for r in rows)
        return {"input_ids": t_ids, "labels": t_lab, "position_ids": t_pos, "num_tokens": torch.tensor(real)}


def make_units(items: Sequence[Any], mode: str, max_length: int | None, seed: int = 0) -> list[Any]:
    """The dataset units for a DataLoader: samples (``pad``/``max``) or packs (``pack``)."""
    if mode == "pack":
        if not max_length:
            raise ValueError("packing needs max_length (the row length)")
        return pack_items(items, max_length, seed=seed)
    return list(items)


def batch_tokens(batch: Mapping[str, torch.Tensor]) -> tuple[int, int, int]:
    """(real tokens, padded slots, labelled tokens) of a collated batch."""
    total = batch["input_ids"].numel()
    real = int(batch["num_tokens"]) if "num_tokens" in batch else total
    labelled = int((batch["labels"] != IGNORE).sum())
    return real, total, labelled
