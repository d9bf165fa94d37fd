"""Helpers shared by the chat formats: message preparation, tool lists, argument decoding, fences."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..errors import CalltuneError
from ..messages import MessageError, normalize_messages


class FormatError(CalltuneError, ValueError):
    """Messages or tools that a chat format cannot render."""


#: default loss per role (DESIGN.md §3): only what the model generates is trained
DEFAULT_LOSS = {"system": False, "user": False, "assistant": True, "tool": False}


def prepare_messages(messages: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
    """Normalise OpenAI-schema messages and pair each with its loss flag
    (the message's ``"loss"`` if given, else :data:`DEFAULT_LOSS` for its role)."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise FormatError("messages must be a list of message dicts")
    try:
        norm = normalize_messages(list(messages))
    except MessageError as e:
        raise FormatError(str(e)) from e
    out = []
    for raw, m in zip(messages, norm, strict=True):
        loss = raw.get("loss")
        if loss is None:
            loss = DEFAULT_LOSS[m["role"]]
        elif not isinstance(loss, bool):
            raise FormatError(f"message 'loss' must be true or false, got {loss!r}")
        out.append((m, loss))
    return out


def function_dicts(tools: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The ``function`` dicts of OpenAI tool dicts (bare function dicts are accepted too)."""
    out = []
    for i, t in enumerate(tools or []):
        if not isinstance(t, dict):
            raise FormatError(f"tools[{i}] must be a dict, got {type(t).__name__}")
        fn = t.get("function") if t.get("type", "function") == "function" and "function" in t else t
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise FormatError(f"tools[{i}] has no function name")
        out.append(fn)
    return out


def openai_tools(tools: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Tools as full OpenAI tool dicts ``{"type": "function", "function": {...}}``."""
    return [{"type": "function", "function": fn} for fn in function_dicts(tools)]


def call_arguments(call: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(name, arguments dict) of a normalised OpenAI tool call."""
    fn = call.get("function") or {}
    name = fn.get("name") or ""
    args = fn.get("arguments") or "{}"
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise FormatError(f"tool call {name!r} has arguments that are not valid JSON: {e}") from e
    if not isinstance(args, dict):
        raise FormatError(f"tool call {name!r} arguments must be a JSON object, got {type(args).__name__}")
    return name, args


def is_code_call(name: str, args: dict[str, Any]) -> bool:
    """A call of the code interpreter (``python`` / ``interpreter`` with a ``code`` string)."""
    return name in ("python", "interpreter") and isinstance(args.get("code"), str)


def strip_fence(text: str) -> str:
    """The inside of a ```lang ... ``` block (text unchanged when it is not fenced)."""
    s = text.strip()
    if s.startswith("```"):
        nl = s.find("\n")
        s = "" if nl == -1 else s[nl + 1 :]
        if s.rstrip().endswith("```"):
            s = s.rstrip()[:-3]
    return s.strip()


def fence(text: str, lang: str) -> str:
    """``text`` as a ```lang block."""
    return f"```{lang}\n{text}\n```"
