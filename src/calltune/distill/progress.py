"""What a distillation shows while it runs: one rich line per stage on stderr — a bar with
the time left where the work is counted (held-out requests), the time spent where it is not
(the GGUF export), and notes. Data generation and training keep their own bars
(:class:`calltune.datagen.pipeline.RichProgress`, :class:`calltune.train.progress.StepProgress`).
:class:`Quiet` shows nothing (tests, ``--no-progress``)."""

from __future__ import annotations

from typing import Any


class Quiet:
    """Shows nothing; the interface of :class:`RichStages`."""

    def note(self, text: str) -> None: ...
    def start(self, stage: str, total: int | None = None, done: int = 0) -> None: ...
    def advance(self, stage: str, text: str = "") -> None: ...
    def stop(self) -> None: ...


class RichStages(Quiet):
    """A rich progress line per stage (a bar and the time left when ``total`` is known)."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}

    def note(self, text: str) -> None:
        (self.bar.console if self.bar is not None else self.console).print(text, highlight=False)

    def start(self, stage: str, total: int | None = None, done: int = 0) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.stop()
        if total is None:
            columns: tuple[Any, ...] = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
            )
        else:
            columns = (
                TextColumn("{task.description:<10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[text]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
        self.bar = Progress(*columns, console=self.console)
        self.bar.start()
        self.tasks[stage] = self.bar.add_task(stage, total=total, completed=done, text="")

    def advance(self, stage: str, text: str = "") -> None:
        if self.bar is not None and stage in self.tasks:
            self.bar.update(self.tasks[stage], advance=1, text=text)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
            self.tasks.clear()
