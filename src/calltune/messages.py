"""Normalisation of OpenAI-schema messages (legacy roles included)."""

from __future__ import annotations

import json
from typing import Any

from .errors import CalltuneError
from .types import new_call_id


class MessageError(CalltuneError, ValueError):
    """A message list that breaks the OpenAI schema or the role-order rules."""

    #: the request field an API error names (OpenAI's ``param``), and its ``code``
    param: str = "messages"
    code: str = "invalid_messages"


class UnsupportedContentError(MessageError):
    """A content part the models calltune serves cannot read: an image, audio, a file (they read
    text only). Dropping it would answer a question the user did not ask."""

    code = "unsupported_content_type"

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


#: what a content part that is not text is, in an error message
_PART_KINDS = {"image_url": "images", "input_audio": "audio inputs", "file": "files"}


def _content_text(content: Any, index: int = 0) -> str:
    """The text of a message's ``content``; a part that is not text raises
    :class:`UnsupportedContentError` (``index``: the message's place, for the error)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        parts = []
        for j, p in enumerate(content):
            if isinstance(p, str):
                parts.append(p)
                continue
            kind = p.get("type") if isinstance(p, dict) else None
            if kind == "text":
                parts.append(str(p.get("text", "")))
                continue
            what = _PART_KINDS.get(str(kind), f"content parts of type {kind!r}")
            raise UnsupportedContentError(
                f"Invalid content type {kind!r} in messages[{index}].content[{j}]: {what} are not supported "
                "by this model, which reads text only.",
                param=f"messages.[{index}].content.[{j}].type",
            )
        return "".join(parts)
    return json.dumps(content, ensure_ascii=False)


def normalize_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return a copy of ``messages`` in the canonical OpenAI form.

    - ``function`` (legacy) and ``observation`` (ChatGLM3) roles become ``tool``;
      a tool message without ``tool_call_id`` is matched to the oldest unanswered call.
    - a legacy assistant ``function_call`` becomes ``tool_calls``.
    - text content parts are flattened to text; tool-call ``arguments`` become JSON strings.
    Raises :class:`MessageError` on unknown roles or a tool result with no call to answer, and
    :class:`UnsupportedContentError` on a part that is not text (an image, audio, a file).
    """
    out: list[dict[str, Any]] = []
    pending: list[tuple[str, str]] = []  # (id, name) of calls not yet answered
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise MessageError(f"messages[{i}] must be an object with a 'role'")
        role = m["role"]
        if role == "developer":
            role = "system"
        if role in ("system", "user"):
            out.append({"role": role, "content": _content_text(m.get("content"), i)})
            pending = []
        elif role == "assistant":
            msg: dict[str, Any] = {"role": "assistant", "content": _content_text(m.get("content"), i)}
            calls = []
            raw_calls = list(m.get("tool_calls") or [])
            if m.get("function_call"):
                raw_calls.append({"type": "function", "function": m["function_call"]})
            for c in raw_calls:
                fn = c.get("function") or {}
                args = fn.get("arguments", "{}")
                if not isinstance(args, str):
                    args = json.dumps(args, ensure_ascii=False)
                cid = c.get("id") or new_call_id()
                calls.append(
                    {
                        "id": cid,
                        "type": "function",
                        "function": {"name": fn.get("name", ""), "arguments": args},
                    }
                )
            if calls:
                msg["tool_calls"] = calls
                pending = [(c["id"], c["function"]["name"]) for c in calls]
            if m.get("metadata") == "interpreter" or m.get("name") == "interpreter":
                msg["name"] = "interpreter"
            out.append(msg)
        elif role in ("tool", "function", "observation"):
            cid = m.get("tool_call_id")
            name = m.get("name")
            if cid is None:
                if pending:
                    cid, pname = pending.pop(0)
                    name = name or pname
                elif role == "observation":
                    cid = ""
                else:
                    raise MessageError(f"messages[{i}]: a '{role}' message with no tool call to answer")
            else:
                match = [p for p in pending if p[0] == cid]
                if match:
                    pending.remove(match[0])
                    name = name or match[0][1]
                elif not any(cid == c["id"] for o in out for c in o.get("tool_calls", [])):
                    raise MessageError(f"messages[{i}]: tool_call_id {cid!r} matches no earlier tool call")
            out.append(
                {
                    "role": "tool",
                    "content": _content_text(m.get("content"), i),
                    "tool_call_id": cid,
                    "name": name,
                }
            )
        else:
            raise MessageError(f"messages[{i}]: unknown role {role!r}")
    return out
