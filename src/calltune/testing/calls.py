"""Tool calls spelt as a model writes them, to script an engine with."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from calltune.formats import ChatFormat, get_format


def hermes_call(name: str, args: dict[str, Any]) -> str:
    """A Hermes tool call block: ``<tool_call>\\n{"name": ..., "arguments": ...}\\n</tool_call>``."""
    body = json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def model_turn(fmt: ChatFormat | str, calls: Sequence[tuple[str, dict[str, Any]]], content: str = "") -> str:
    """What a model speaking ``fmt`` writes for an assistant message with ``content`` and ``calls``
    (``(name, arguments)`` pairs): the message rendered by the format after its generation prompt,
    without the stop string that ends it."""
    fmt = get_format(fmt)
    dialogue = [{"role": "user", "content": "Go."}]
    tool_calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
        for i, (n, a) in enumerate(calls)
    ]
    message = {"role": "assistant", "content": content, "tool_calls": tool_calls}
    prompt = fmt.render(dialogue)
    full = fmt.render([*dialogue, message], add_generation_prompt=False)
    assert full.startswith(prompt)
    turn = full[len(prompt) :]
    for stop in fmt.stop:
        if turn.rstrip("\n").endswith(stop):
            return turn.rstrip("\n")[: -len(stop)]
    return turn
