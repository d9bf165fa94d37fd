"""What a system under test returns for one BFCL case, and the system protocol."""

from __future__ import annotations

from collections.abc import Sequence
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
    #: arguments the grounding check left out or flagged
    ungrounded: list[dict[str, Any]] = field(default_factory=list)
    #: calls split into one call per named thing (fan-out)
    fanned: list[dict[str, Any]] = field(default_factory=list)
    #: arguments written out as the string their schema declares
    coerced: list[dict[str, Any]] = field(default_factory=list)


class System(Protocol):
    """A system under test. ``name`` labels its results (file names, tables)."""

    name: str

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput: ...


def merge_consecutive(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join back-to-back messages of the same plain role (system/user), which some BFCL cases
    have and which chat protocols forbid (ChatGLM3: never two user messages in a row)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if out and m["role"] in ("user", "system") and out[-1]["role"] == m["role"]:
            out[-1] = {**out[-1], "content": f"{out[-1].get('content') or ''}\n\n{m.get('content') or ''}"}
        else:
            out.append(dict(m))
    return out
