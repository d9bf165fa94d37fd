"""The record of one agent run: every prompt, raw output, call, observation and timing."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..turn.core import Attempt


@dataclass
class StepTrace(Attempt):
    """One generation of the agent's run (a turn's :class:`~calltune.turn.Attempt`) and what the
    agent did with its calls."""

    index: int = 0
    observations: list[dict[str, Any]] = field(default_factory=list)
    tools_s: float = 0.0
    observations_seen: bool = False
    #: the step's calls were given (``Agent.run(first_calls=...)``), not generated
    planned: bool = False


@dataclass
class Trace:
    model: str
    format: str
    tool_choice: str  # as spelled in the trace: auto | none | required | named:<tool>
    tools: list[dict[str, Any]]
    steps: list[StepTrace] = field(default_factory=list)
    answer: str = ""
    stopped: str = ""  # "answer" | "max_steps" | "error" | "length"
    error: str | None = None
    total_s: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, default=str)

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return [c for s in self.steps for c in s.tool_calls]

    @property
    def observations(self) -> list[dict[str, Any]]:
        return [o for s in self.steps for o in s.observations]
