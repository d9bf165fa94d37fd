"""Checkpoint directories of a training run: ``OUT/checkpoints/step-N``.

Each holds accelerate's state (model, optimizer, scheduler, RNG) and ``trainer_state.json``
(``{"step": N, "batches_done": B}``: the data position to resume at). Only directories with
that file count, so a checkpoint cut while being written is ignored on ``--resume``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

STATE_FILE = "trainer_state.json"


def checkpoint_dir(out: Path, step: int) -> Path:
    return out / "checkpoints" / f"step-{step}"


def _steps(out: Path) -> list[tuple[int, Path]]:
    ck = out / "checkpoints"
    if not ck.is_dir():
        return []
    return sorted((int(p.name.split("-")[1]), p) for p in ck.glob("step-*"))


def latest_checkpoint(out: Path) -> Path | None:
    """The newest complete checkpoint under ``out``, or None."""
    done = [p for _, p in _steps(out) if (p / STATE_FILE).is_file()]
    return done[-1] if done else None


def write_state(ck: Path, step: int, batches_done: int) -> None:
    (ck / STATE_FILE).write_text(json.dumps({"step": step, "batches_done": batches_done}))


def read_state(ck: Path) -> dict[str, Any]:
    return json.loads((ck / STATE_FILE).read_text())


def prune_checkpoints(out: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints (``keep <= 0``: keep all)."""
    if keep <= 0:
        return
    for _, old in _steps(out)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
