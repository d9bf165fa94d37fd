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

import json
import time
from collections.abc import Callable, Collection
from typing import Any

from ..engines.base import Completion, Engine, SamplingParams
from ..formats.base import ChatFormat
from ..types import ParseResult
from .history import call_key


def should_continue(fmt: ChatFormat, parsed: ParseResult, finish_reason: str, stop: str | None) -> bool:
    return (
        bool(parsed.tool_calls)
        and not parsed.errors
        and not parsed.content.strip()
        and finish_reason == "stop"
        and not fmt.stop_means_call(stop)
    )


def _stream_continuation(
    engine: Engine,
    fmt: ChatFormat,
    prompt: str | list[int],
    params: SamplingParams,
    seen: set[str],
    tool_names: Collection[str] | None,
) -> tuple[str, str, str | None, int, bool]:
    """Generate one continuation, stopping as soon as it is clearly not a new call (text,
    a parse error or a repeated call). Returns ``(text, finish_reason, stop,
    completion_tokens, aborted)``."""
    sp = fmt.stream_parser(tool_names)
    parts: list[str] = []
    finish, stop, n_tokens, aborted = "length", None, 0, False
    stream = engine.stream(prompt, params)
    try:
        for ch in stream:
            parts.append(ch.text)
            if ch.finish_reason is not None:
                finish, stop = ch.finish_reason, ch.stop
                n_tokens = int((ch.usage or {}).get("completion_tokens", 0))
                break
            for d in sp.feed(ch.text):
                if (
                    (d.kind == "content" and d.text.strip())
                    or d.kind == "error"
                    or (
                        d.kind == "tool_call_end"
                        and call_key(d.name or "", json.loads(d.text or "{}")) in seen
                    )
                ):
                    aborted = True
            if aborted:
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    text = "".join(parts)
    if aborted:
        n_tokens = len(engine.tokenizer.encode_text(text)) if text else 0
    return text, finish, stop, n_tokens, aborted


def continue_calls(
    engine: Engine,
    fmt: ChatFormat,
    prompt: str | list[int],
    raw: str,
    parsed: ParseResult,
    parse: Callable[[str], ParseResult],
    params: SamplingParams,
    max_rounds: int = 4,
    tool_names: Collection[str] | None = None,
) -> tuple[str, ParseResult, dict[str, int]]:
    """Return ``(raw, parsed, usage)`` extended by any further calls the model writes when
    it is let go on after its last call. ``usage`` counts the extra tokens.

    Each continuation is streamed and cut off as soon as it shows it is not a new call
    (prose, a broken call, a call already made), so a turn that was complete costs only a
    few tokens more. ``tool_names`` lets the format's stream parser recognise bare calls as
    they come."""
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "rounds": 0}
    seen = {call_key(c.name, c.arguments) for c in parsed.tool_calls}
    for _ in range(max_rounds):
        head = raw + "\n"
        if isinstance(prompt, list):
            cont_prompt: str | list[int] = prompt + engine.tokenizer.encode_text(head)
        else:
            cont_prompt = prompt + head
        text, finish, stop, n_tokens, aborted = _stream_continuation(
            engine, fmt, cont_prompt, params, seen, tool_names
        )
        usage["rounds"] += 1
        usage["prompt_tokens"] += engine.count_tokens(cont_prompt)
        usage["completion_tokens"] += n_tokens
        if aborted or finish != "stop" or not text.strip():
            break
        candidate = parse(head + text)
        new = candidate.tool_calls[len(parsed.tool_calls) :]
        if (
            candidate.errors
            or candidate.content.strip()
            or len(candidate.tool_calls) <= len(parsed.tool_calls)
            or any(call_key(c.name, c.arguments) in seen for c in new)
        ):
            break
        # keep the ids the caller already has for the first calls
        for old, cur in zip(parsed.tool_calls, candidate.tool_calls, strict=False):
            cur.id = old.id
        seen.update(call_key(c.name, c.arguments) for c in new)
        raw, parsed = head + text, candidate
        if fmt.stop_means_call(stop):
            break
    return raw, parsed, usage


def generate_until_repeat(
    engine: Engine,
    fmt: ChatFormat,
    prompt: str | list[int],
    params: SamplingParams,
    constraint: Any = None,
    tool_names: Collection[str] | None = None,
) -> Completion:
    """Generate a turn, ending it when the model writes a call it already made in this turn.

    Under a grammar that allows only calls (``required`` / named), a model that would end its
    turn with prose cannot, and small models then cycle through their calls again until
    ``max_tokens`` cuts the last one in half (measured: the default model wrote its three
    calls, then repeated them, 384 tokens, the 8th call cut off). The text is cut right after
    the last new call, so the turn parses into the distinct calls and ends as ``stop``."""
    sp = fmt.stream_parser(tool_names)
    seen: set[str] = set()
    chars: list[str] = []  # fed one character at a time, to cut exactly after a call
    repeated, end_of_new = False, 0
    finish, stop, usage = "length", None, None
    t0 = time.perf_counter()
    stream = engine.stream(prompt, params, constraint)
    try:
        for ch in stream:
            for c in ch.text:
                chars.append(c)
                for d in sp.feed(c):
                    if d.kind != "tool_call_end":
                        continue
                    key = call_key(d.name or "", json.loads(d.text or "{}"))
                    repeated = repeated or key in seen
                    seen.add(key)
                    if not repeated:
                        end_of_new = len(chars)
                if repeated:
                    break
            if repeated:
                break
            if ch.finish_reason is not None:
                finish, stop, usage = ch.finish_reason, ch.stop, ch.usage
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    n_tokens = int((usage or {}).get("completion_tokens", 0))
    n_prompt = int((usage or {}).get("prompt_tokens", 0))
    text = "".join(chars)
    if repeated:
        n_prompt = len(prompt) if isinstance(prompt, list) else len(engine.tokenizer.encode_text(prompt))
        n_tokens = len(engine.tokenizer.encode_text(text)) if text else 0
        text, finish, stop = text[:end_of_new], "stop", None
    return Completion(
        text=text,
        finish_reason=finish,
        stop=stop,
        prompt_tokens=n_prompt,
        completion_tokens=n_tokens,
        latency_s=time.perf_counter() - t0,
    )
