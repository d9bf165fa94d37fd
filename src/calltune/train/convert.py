"""Converters between the seed format and OpenAI chat samples / ShareGPT (LLaMA-Factory).

- OpenAI: ``{"messages": [...], "tools": [...]}`` with assistant ``tool_calls`` and ``tool``
  results (legacy ``functions``/``function_call``/``function`` role accepted).
- ShareGPT, LLaMA-Factory style: ``{"conversations": [{"from": "human"|"gpt"|"function_call"|
  "observation"|"system", "value": ...}], "system": str, "tools": <JSON string or list>}``;
  a ``function_call`` value is ``{"name", "arguments"}`` (JSON text) or a list of them
  (parallel calls, answered by one ``observation`` holding a JSON list of results).

Seed → OpenAI is also what :func:`calltune.train.encode.encode_sample` uses, so the
format object renders training samples exactly as it renders inference requests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import CalltuneError
from ..messages import MessageError, normalize_messages
from .data import DataError, iter_records, openai_tools, tool_entries, tool_function, write_samples


class ConvertError(CalltuneError, ValueError):
    """A sample that cannot be converted (the message says why and where)."""


def observation_text(obs: Any) -> str:
    """An observation as the model sees it: strings as-is, anything else JSON (ensure_ascii=False)."""
    if isinstance(obs, str):
        return obs
    return json.dumps(obs, ensure_ascii=False)


def _params(p: Any) -> dict[str, Any]:
    if isinstance(p, str):
        p = json.loads(p) if p.strip() else {}
    return dict(p or {})


# --------------------------------------------------------------------------- seed -> OpenAI
def seed_to_openai(sample: dict[str, Any], merge: bool = True) -> dict[str, Any]:
    """``{"messages", "tools"}`` for a seed sample. Each message keeps its ``loss`` flag;
    tool results get ``"loss": False`` (observations are never trained).

    ``merge``: an assistant text message directly followed by a ``tool`` entry with the same
    loss becomes one assistant message with content and ``tool_calls`` (the usual OpenAI form).
    """
    msgs: list[dict[str, Any]] = []
    k = 0
    for m in sample["conversations"]:
        role = m["role"]
        if role != "tool":
            out = {"role": role, "content": m.get("content", "")}
            if "loss" in m:
                out["loss"] = m["loss"]
            msgs.append(out)
            continue
        calls, results = [], []
        for c in tool_entries(m):
            cid = f"call_{k}"
            k += 1
            name = c["name"]
            calls.append(
                {
                    "id": cid,
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": json.dumps(_params(c.get("parameters")), ensure_ascii=False),
                    },
                }
            )
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": cid,
                    "name": name,
                    "content": observation_text(c.get("observation", "")),
                    "loss": False,
                }
            )
        prev = msgs[-1] if msgs else None
        if (
            merge
            and prev is not None
            and prev["role"] == "assistant"
            and "tool_calls" not in prev
            and prev.get("loss", True) == m.get("loss", True)
        ):
            prev["tool_calls"] = calls
        else:
            a: dict[str, Any] = {"role": "assistant", "content": "", "tool_calls": calls}
            if "loss" in m:
                a["loss"] = m["loss"]
            msgs.append(a)
        msgs.extend(results)
    out: dict[str, Any] = {"messages": msgs}
    if sample.get("tools"):
        out["tools"] = openai_tools(sample["tools"])
    return out


# --------------------------------------------------------------------------- OpenAI -> seed
def openai_to_seed(sample: dict[str, Any]) -> dict[str, Any]:
    """A seed sample from an OpenAI chat sample (``messages`` + ``tools``/``functions``)."""
    if not isinstance(sample, dict) or not isinstance(sample.get("messages"), list):
        raise ConvertError("an OpenAI sample needs a 'messages' list")
    raw = sample["messages"]
    try:
        msgs = normalize_messages(raw)
    except MessageError as e:
        raise ConvertError(str(e)) from None
    losses = [m.get("loss") if isinstance(m, dict) else None for m in raw]
    conv: list[dict[str, Any]] = []
    i = 0
    while i < len(msgs):
        m = msgs[i]
        loss = losses[i]
        role = m["role"]
        if role == "tool":
            raise ConvertError(f"messages[{i}]: a tool result that answers no call")
        if role == "assistant" and m.get("tool_calls"):
            if m.get("content"):
                conv.append(
                    {
                        "role": "assistant",
                        "content": m["content"],
                        **({"loss": loss} if loss is not None else {}),
                    }
                )
            pending = {c["id"]: c for c in m["tool_calls"]}
            results: dict[str, str] = {}
            j = i + 1
            while j < len(msgs) and msgs[j]["role"] == "tool":
                results[msgs[j]["tool_call_id"]] = msgs[j]["content"]
                j += 1
            calls = []
            for c in m["tool_calls"]:
                if c["id"] not in results:
                    raise ConvertError(
                        f"messages[{i}]: tool call {c['function']['name']!r} ({c['id']}) has no tool result"
                    )
                try:
                    params = json.loads(c["function"]["arguments"] or "{}")
                except json.JSONDecodeError:
                    raise ConvertError(
                        f"messages[{i}]: arguments of {c['function']['name']!r} are not JSON: {c['function']['arguments'][:80]!r}"
                    ) from None
                calls.append(
                    {"name": c["function"]["name"], "parameters": params, "observation": results[c["id"]]}
                )
            extra = set(results) - set(pending)
            if extra:
                raise ConvertError(f"messages[{i + 1}]: tool results for unknown call ids {sorted(extra)}")
            entry: dict[str, Any] = (
                {"role": "tool", **calls[0]} if len(calls) == 1 else {"role": "tool", "calls": calls}
            )
            if loss is not None:
                entry["loss"] = loss
            conv.append(entry)
            i = j
            continue
        out = {"role": role, "content": m.get("content") or ""}
        if loss is not None:
            out["loss"] = loss
        conv.append(out)
        i += 1
    seed: dict[str, Any] = {"conversations": conv}
    tools = sample.get("tools") or [
        {"type": "function", "function": f} for f in sample.get("functions") or []
    ]
    if tools:
        seed["tools"] = [tool_function(t) for t in tools]
    return seed


# --------------------------------------------------------------------------- ShareGPT
_SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "function_call": "function_call",
    "observation": "observation",
    "function": "observation",
    "tool": "observation",
}


def sharegpt_to_seed(sample: dict[str, Any]) -> dict[str, Any]:
    """A seed sample from a LLaMA-Factory ShareGPT sample."""
    conv_in = sample.get("conversations") if isinstance(sample, dict) else None
    if not isinstance(conv_in, list):
        raise ConvertError("a ShareGPT sample needs a 'conversations' list")
    conv: list[dict[str, Any]] = []
    if sample.get("system"):
        conv.append({"role": "system", "content": sample["system"]})
    pending: list[dict[str, Any]] | None = None
    for i, turn in enumerate(conv_in):
        if not isinstance(turn, dict):
            raise ConvertError(f"conversations[{i}] must be an object")
        tag = turn.get("from", turn.get("role"))
        value = turn.get("value", turn.get("content", ""))
        role = _SHAREGPT_ROLES.get(tag)
        if role is None:
            raise ConvertError(f"conversations[{i}]: unknown 'from' {tag!r}")
        if pending is not None and role != "observation":
            raise ConvertError(f"conversations[{i - 1}]: a function_call must be followed by an observation")
        if role == "function_call":
            try:
                val = json.loads(value) if isinstance(value, str) else value
            except json.JSONDecodeError:
                raise ConvertError(
                    f"conversations[{i}]: function_call value is not JSON: {str(value)[:80]!r}"
                ) from None
            items = val if isinstance(val, list) else [val]
            pending = []
            for it in items:
                if not isinstance(it, dict) or "name" not in it:
                    raise ConvertError(f"conversations[{i}]: function_call needs {{'name', 'arguments'}}")
                try:
                    pending.append({"name": it["name"], "parameters": _params(it.get("arguments", {}))})
                except json.JSONDecodeError:
                    raise ConvertError(
                        f"conversations[{i}]: arguments of {it['name']!r} are not JSON"
                    ) from None
            continue
        if role == "observation":
            if pending is None:
                raise ConvertError(f"conversations[{i}]: an observation with no function_call before it")
            if len(pending) == 1:
                conv.append({"role": "tool", **pending[0], "observation": value})
            else:
                try:
                    obs = json.loads(value) if isinstance(value, str) else value
                except json.JSONDecodeError:
                    obs = None
                if not isinstance(obs, list) or len(obs) != len(pending):
                    raise ConvertError(
                        f"conversations[{i}]: {len(pending)} parallel calls need an observation that is a JSON list of {len(pending)} results"
                    )
                conv.append(
                    {
                        "role": "tool",
                        "calls": [{**c, "observation": o} for c, o in zip(pending, obs, strict=True)],
                    }
                )
            pending = None
            continue
        conv.append({"role": role, "content": value})
    if pending is not None:
        raise ConvertError("the conversation ends with a function_call that has no observation")
    seed: dict[str, Any] = {"conversations": conv}
    tools = sample.get("tools")
    if isinstance(tools, str) and tools.strip():
        try:
            tools = json.loads(tools)
        except json.JSONDecodeError:
            raise ConvertError("'tools' is a string that is not JSON") from None
    if tools:
        seed["tools"] = [tool_function(t) for t in tools]
    return seed


def seed_to_sharegpt(sample: dict[str, Any]) -> dict[str, Any]:
    """A LLaMA-Factory ShareGPT sample from a seed sample (per-message ``loss`` has no place there)."""
    out: dict[str, Any] = {"conversations": []}
    conv = list(sample["conversations"])
    if conv and conv[0]["role"] == "system":
        out["system"] = conv.pop(0)["content"]
    names = {"user": "human", "assistant": "gpt"}
    for m in conv:
        if m["role"] == "tool":
            calls = tool_entries(m)
            fc = [{"name": c["name"], "arguments": _params(c.get("parameters"))} for c in calls]
            if "calls" in m:
                out["conversations"].append(
                    {"from": "function_call", "value": json.dumps(fc, ensure_ascii=False)}
                )
                obs = json.dumps([c.get("observation") for c in calls], ensure_ascii=False)
            else:
                out["conversations"].append(
                    {"from": "function_call", "value": json.dumps(fc[0], ensure_ascii=False)}
                )
                obs = observation_text(calls[0].get("observation"))
            out["conversations"].append({"from": "observation", "value": obs})
        else:
            out["conversations"].append({"from": names[m["role"]], "value": m["content"]})
    if sample.get("tools"):
        out["tools"] = json.dumps([tool_function(t) for t in sample["tools"]], ensure_ascii=False)
    return out


CONVERTERS = {"openai": openai_to_seed, "sharegpt": sharegpt_to_seed, "seed": lambda s: s}


def convert_file(
    src: str | Path, dst: str | Path, from_: str, skip_invalid: bool = False
) -> tuple[int, list[str]]:
    """Convert every sample of ``src`` (JSON list or JSONL) to the seed format in ``dst``.

    Returns ``(written, problems)``. Without ``skip_invalid`` the first problem raises
    :class:`ConvertError` with its ``file:line``; with it bad samples are dropped and listed.
    """
    if from_ not in CONVERTERS:
        raise ConvertError(f"unknown source format {from_!r}; choose one of {', '.join(CONVERTERS)}")
    conv = CONVERTERS[from_]
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        records = list(iter_records(src))
    except DataError as e:
        raise ConvertError(str(e)) from None
    for r in records:
        try:
            out.append(conv(r.sample))
        except (ConvertError, KeyError, TypeError) as e:
            msg = f"{r.location} (sample {r.index}): {e}"
            if not skip_invalid:
                raise ConvertError(msg) from None
            problems.append(msg)
    write_samples(dst, out)
    return len(out), problems


def convert_samples(samples: Sequence[dict[str, Any]], from_: str) -> list[dict[str, Any]]:
    return [CONVERTERS[from_](s) for s in samples]
