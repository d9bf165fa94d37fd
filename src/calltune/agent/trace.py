"""The record of one agent run: every prompt, raw output, call, observation and timing."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class StepTrace:
    index: int
    prompt: str
    raw_output: str
    finish_reason: str
    stop: str | None
    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    parse_errors: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    tools_s: float = 0.0
    guided: bool = False
    note: str = ""
    observations_seen: bool = False
    #: the relevance check's verdicts on this turn's calls (see calltune.agent.relevance)
    relevance: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Trace:
    model: str
    format: str
    tool_choice: str
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
