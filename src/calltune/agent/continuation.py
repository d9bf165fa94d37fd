"""Letting a model go on after its last call, so that it can make the next one.

Small models asked for several things ("the weather in Boston and in Tokyo") often write one
call and end their turn. Given the chance to go on right after that call, they write the
next one: measured on the default model, the continuation after a fenced Boston call was the
Tokyo call. :func:`continue_calls` gives that chance when a turn is nothing but calls and
ended on the format's end-of-turn marker, keeps what it adds only while it is a new call,
and stops at the first continuation that is not. With the prefix cache of the llama.cpp
engine a continuation costs only its own tokens.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any

from ..engines.base import Engine, SamplingParams
from ..formats.base import ChatFormat
from ..types import ParseResult


def parse_with_tools(fmt: ChatFormat, text: str, tools: Sequence[dict[str, Any]]) -> ParseResult:
    """``fmt.parse`` told the offered tool names, for formats that use them (hermes accepts a
    fenced or bare JSON call only when it names a known tool)."""
    if "tool_names" in inspect.signature(fmt.parse).parameters:
        return fmt.parse(text, tool_names=[t["function"]["name"] for t in tools])  # type: ignore[call-arg]
    return fmt.parse(text)


def _key(name: str, args: dict[str, Any]) -> str:
    return name + "\0" + json.dumps(args, sort_keys=True, ensure_ascii=False)


def should_continue(fmt: ChatFormat, parsed: ParseResult, finish_reason: str, stop: str | None) -> bool:
    return (
        bool(parsed.tool_calls)
        and not parsed.errors
        and not parsed.content.strip()
        and finish_reason == "stop"
        and not fmt.stop_means_call(stop)
    )


def continue_calls(
    engine: Engine,
    fmt: ChatFormat,
    prompt: str | list[int],
    raw: str,
    parsed: ParseResult,
    parse: Callable[[str], ParseResult],
    params: SamplingParams,
    max_rounds: int = 4,
) -> tuple[str, ParseResult, dict[str, int]]:
    """Return ``(raw, parsed, usage)`` extended by any further calls the model writes when
    it is let go on after its last call. ``usage`` counts the extra tokens."""
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "rounds": 0}
    seen = {_key(c.name, c.arguments) for c in parsed.tool_calls}
    for _ in range(max_rounds):
        head = raw + "\n"
        if isinstance(prompt, list):
            cont_prompt: str | list[int] = prompt + engine.tokenizer.encode_text(head)
        else:
            cont_prompt = prompt + head
        comp = engine.generate(cont_prompt, params)
        usage["rounds"] += 1
        usage["prompt_tokens"] += comp.prompt_tokens
        usage["completion_tokens"] += comp.completion_tokens
        if comp.finish_reason != "stop" or not comp.text.strip():
            break
        candidate = parse(head + comp.text)
        new = candidate.tool_calls[len(parsed.tool_calls) :]
        if (
            candidate.errors
            or candidate.content.strip()
            or len(candidate.tool_calls) <= len(parsed.tool_calls)
            or any(_key(c.name, c.arguments) in seen for c in new)
        ):
            break
        # keep the ids the caller already has for the first calls
        for old, cur in zip(parsed.tool_calls, candidate.tool_calls, strict=False):
            cur.id = old.id
        seen.update(_key(c.name, c.arguments) for c in new)
        raw, parsed = head + comp.text, candidate
        if fmt.stop_means_call(comp.stop):
            break
    return raw, parsed, usage
