"""The training progress bar (rich): steps, loss, tokens/s, elapsed time and ETA."""

from __future__ import annotations

from types import TracebackType
from typing import Any


class StepProgress:
    """A context manager around a rich progress bar; does nothing when ``enabled`` is false."""

    def __init__(self, total: int, completed: int = 0, enabled: bool = True) -> None:
        self.total = total
        self.completed = completed
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> StepProgress:
        if not self.enabled:
            return self
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[tps]} tok/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        self._bar.start()
        self._task = self._bar.add_task(
            "train", total=self.total, completed=self.completed, loss="-", tps="-"
        )
        return self

    def update(self, step: int, loss: float, tokens_per_s: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=step, loss=f"{loss:.4f}", tps=f"{tokens_per_s:,.0f}")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
