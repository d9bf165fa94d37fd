"""Shared value types: tool calls, parse results, streaming deltas.

Messages everywhere use the OpenAI chat schema (plain dicts):
``{"role": "system"|"user"|"assistant"|"tool", "content": str|None,
"tool_calls": [{"id", "type": "function", "function": {"name", "arguments": <json str>}}],
"tool_call_id": str}``. The legacy ``function`` role and ChatGLM3's ``observation``
role are accepted on input and normalised to ``tool`` by :func:`calltune.messages.normalize_messages`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


@dataclass
class ToolCall:
    """One call the model made. ``arguments`` is the parsed JSON object."""

    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=new_call_id)

    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False)

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments_json()},
        }

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass
class ParseError:
    """A call the model tried to make but that could not be parsed safely."""

    message: str
    raw: str = ""
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "raw": self.raw[:500], "name": self.name}


@dataclass
class ParseResult:
    """What a chat format reads out of one assistant turn."""

    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    # code for the ChatGLM3 ``interpreter`` role (one entry per code block)
    code: list[str] = field(default_factory=list)
    #: what a reasoning model thought before it answered (``<think>…</think>``), never content
    reasoning: str = ""

    def to_message(self) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            msg["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        return msg


@dataclass
class Delta:
    """An incremental parser event.

    kind == "content": ``text`` is new visible content.
    kind == "reasoning": ``text`` is more of what a reasoning model thinks before it answers.
    kind == "tool_call_start": a new call at ``index`` with ``id`` and ``name``.
    kind == "tool_call_args": ``text`` is the next piece of the call's JSON arguments, sent as
      the model writes them. Concatenating all args pieces of a call gives exactly
      ``ToolCall.arguments_json()``.
    kind == "tool_call_end": the call at ``index`` is complete; ``text`` is its whole arguments
      JSON (the concatenation of its args pieces).
    kind == "tool_call_abort": the call started at ``index`` turned out not to be a call (its
      text could not be parsed, or was content after all); forget its deltas. A later call may
      take the same ``index``.
    kind == "error": ``text`` describes a call that failed to parse.
    """

    kind: Literal[
        "content",
        "reasoning",
        "tool_call_start",
        "tool_call_args",
        "tool_call_end",
        "tool_call_abort",
        "error",
    ]
    text: str = ""
    index: int = 0
    id: str | None = None
    name: str | None = None
