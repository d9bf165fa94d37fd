"""What a system under test returns for one BFCL case, and the system protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..types import ToolCall


@dataclass
class SystemOutput:
    """What a system did with one case."""

    raw: str
    calls: list[ToolCall] = field(default_factory=list)
    prompt: str = ""
    parse_errors: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    finish_reason: str = "stop"
    guided: bool = False
    #: the output before call continuation added to it (None when there was no continuation)
    raw_first: str | None = None
    completion_tokens_first: int | None = None
    #: the relevance check's verdicts and the functions whose calls it dropped
    relevance: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    #: the output with the calls the check dropped, when the turn was generated again
    raw_called: str | None = None


class System(Protocol):
    """A system under test. ``name`` labels its results (file names, tables)."""

    name: str

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput: ...
