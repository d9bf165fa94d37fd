"""Argument grounding: an argument the conversation does not support does not go out unexamined.

Small models fill in what nobody asked for: an optional ``unit`` the user never named, a
``county: null``, a made-up ``bio``, or a value copied from the example in the parameter's
description (``calculator("(3 + 4) * sqrt(2) / 7")`` for "What is 17 % of 2350?"). The check is
generic and costs no generation: an argument value is *grounded* when it can be found in the
conversation (every message but the assistant's own calls: the system prompt, the user's
words, tool results), or is the parameter's declared default (leaving it out means the same).

- an **optional** argument that is not grounded (or is ``null``) is left out of the call:
  the function's own default applies;
- a **required** argument whose value is not in the conversation but is the example in the
  tool's own description (what follows "e.g.", "for example", "such as", up to the end of its
  sentence; never one of the parameter's ``enum`` values), or that example with something
  added (``(3 + 4) * sqrt(2) / 7 + 8``), makes the call *ungrounded*: the turn generates again, shown the tools without the
  example and told so by a note naming the copied value (:data:`COPIED_NOTE`); if it copies
  again, once more with a note that does not quote the value (:data:`COPIED_NOTES`).

Grounding of a value: strings are compared case- and accent-insensitively after collapsing
punctuation and spaces (``"New York"`` is grounded by "new-york", ``"fahrenheit"`` by
"Fahrenheit"); a string is also grounded when each of its words (≥ 3 letters) appears in the
conversation. Numbers are grounded when the conversation holds the same number (``3``, ``3.0``,
``"3"``). Booleans, enums and empty values are judged the same way (their text); lists and
objects when every leaf is grounded.
"""

from __future__ import annotations

import copy
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..types import ToolCall

COPIED_NOTE = (
    "Note: the value {value!r} you gave for {param!r} of {name} is the example from the function's "
    "description, not something the user said. Use the values from the user's request; if a "
    "required value is missing, ask the user for it instead of calling."
)
#: the notes of the turn generated again, in order: the second does not quote the value back
#: (greedy decoding copied the quoted value once more, "(3 + 4) * sqrt(2) / 7 + 8")
COPIED_NOTES = (
    COPIED_NOTE,
    "Note: your call of {name} used the example from the function's description for {param!r}, "
    "not the user's values. Write {param!r} from the values in the user's request only (the "
    "example is gone from the description); if a required value is missing, ask the user for it "
    "instead of calling.",
)
_NUM = re.compile(r"-?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")
_GROUPED = re.compile(r"-?\b\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)


def _fold(text: str) -> str:
    """Lower case, accents off, every run of non-alphanumerics one space."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).casefold()
    return " ".join(re.split(r"[\W_]+", t, flags=re.UNICODE)).strip()


@dataclass
class Evidence:
    """The conversation's text, prepared once per turn."""

    folded: str
    numbers: set[float]
    words: set[str]

    @classmethod
    def of(cls, texts: Iterable[str]) -> Evidence:
        raw = "\n".join(t for t in texts if t)
        nums = set()
        for m in _NUM.findall(raw):
            try:
                nums.add(float(m.replace(",", ".")))
            except ValueError:
                continue
        # "500,000" and "1,234,567.5" are thousands, not a decimal comma (both readings are kept)
        nums.update(float(m.replace(",", "")) for m in _GROUPED.findall(raw))
        folded = _fold(raw)
        return cls(f" {folded} ", nums, set(folded.split()))

    def has_text(self, value: str) -> bool:
        v = _fold(value)
        if not v:
            return True  # nothing to ground
        if f" {v} " in self.folded or ((len(v) >= 4 or not v.isascii()) and v in self.folded):
            return True
        words = _WORD.findall(v)
        return bool(words) and all(w in self.words for w in words)

    def has(self, value: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return True  # a flag's truth is a reading of the request, not a copy of a value
        if isinstance(value, int | float):
            if float(value).is_integer() and abs(value) <= 1:
                return True  # 0 and 1 (first page, one item) are readings, not copies
            return any(math.isclose(float(value), n, rel_tol=1e-9, abs_tol=1e-9) for n in self.numbers)
        if isinstance(value, str):
            try:
                return self.has(float(value)) if _NUM.fullmatch(value.strip()) else self.has_text(value)
            except ValueError:
                return self.has_text(value)
        if isinstance(value, list):
            return all(self.has(v) for v in value)
        if isinstance(value, dict):
            return all(self.has(v) for v in value.values())
        return True


def conversation_texts(messages: Sequence[dict[str, Any]]) -> list[str]:
    """What the user, the system and the tools said (not the assistant's own calls)."""
    out: list[str] = []
    for m in messages:
        if m.get("role") == "assistant":
            continue
        c = m.get("content")
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, list):  # content parts
            out.extend(p.get("text", "") for p in c if isinstance(p, dict))
    return out


@dataclass
class Ungrounded:
    """One argument the check took out (optional) or flagged (required, copied)."""

    name: str
    param: str
    value: Any
    action: str  # "dropped" | "copied"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "param": self.param, "value": self.value, "action": self.action}


_EXAMPLE = re.compile(r"\b(e\.?\s?g\b|for example|for instance|example|such as|like)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[^\d\s])\.(?:\s|$)|[;\n]")


def _example_clause(text: str) -> tuple[str, str, str, str] | None:
    """``(before, all after the marker, the example, the rest after its sentence)`` of a
    description's example clause ("e.g. ...", "for example: ..."), or None without one."""
    m = _EXAMPLE.search(text)
    if m is None:
        return None
    after = text[m.end() :].lstrip(" .:,")
    example, *rest = _SENTENCE_END.split(after, maxsplit=1)
    return text[: m.start()], after, example, rest[0] if rest else ""


def _copied(value: Any, descriptions: Sequence[str], spec: dict[str, Any], evidence: Evidence) -> bool:
    """The value is a description's example (what follows "e.g."/"for example"/"such as" in
    the function's or the parameter's description), not one of the parameter's allowed
    values, and not in the conversation."""
    if not isinstance(value, str) or len(value.strip()) < 4 or value in (spec.get("enum") or []):
        return False
    v = _fold(value)
    for text in descriptions:
        clause = _example_clause(text)
        if clause is None:
            continue
        _, after, example, _ = clause
        example = _fold(example)
        # the value is (part of) the example, or the example with something added to it
        if v in _fold(after) or (len(example) >= 6 and f" {example} " in f" {v} "):
            return not evidence.has_text(value) and not evidence.has_text(example)
    return False


def ground_calls(
    calls: Sequence[ToolCall], messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]
) -> tuple[list[ToolCall], list[Ungrounded]]:
    """The calls with ungrounded optional arguments left out, and what was found (dropped
    optional arguments, copied required ones)."""
    functions = {t["function"]["name"]: t["function"] for t in tools if "function" in t}
    evidence = Evidence.of(conversation_texts(messages))
    out: list[ToolCall] = []
    found: list[Ungrounded] = []
    for call in calls:
        fn = functions.get(call.name)
        if fn is None or not isinstance(call.arguments, dict):
            out.append(call)
            continue
        schema = fn.get("parameters") or {}
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        args = dict(call.arguments)
        for param, value in list(args.items()):
            if param not in props:
                continue  # not declared: validation's business, not grounding's
            spec = props[param] or {}
            if param in required:
                texts = [fn.get("description") or "", spec.get("description") or ""]
                if _copied(value, texts, spec, evidence):
                    found.append(Ungrounded(call.name, param, value, "copied"))
                continue
            if "default" in spec and value == spec["default"]:
                continue  # the same as leaving it out, and what the user may have meant
            if not evidence.has(value):
                del args[param]
                found.append(Ungrounded(call.name, param, value, "dropped"))
        out.append(call if args == call.arguments else ToolCall(call.name, args, id=call.id))
    return out, found


def without_examples(tools: Sequence[dict[str, Any]], found: Sequence[Ungrounded]) -> list[dict[str, Any]]:
    """The tools with the example clause ("e.g. ..." to the end of its sentence) taken out of the
    descriptions of the functions whose example was copied: the turn generated again is shown
    no example to copy (greedy decoding copied it again with the note alone)."""
    names = {u.name for u in found if u.action == "copied"}

    def strip(text: str) -> str:
        clause = _example_clause(text)
        if clause is None:
            return text
        before, _, _, rest = clause
        head = before.rstrip(" ,(:;")
        return (head + (". " + rest.lstrip() if rest.strip() else "")).strip()

    out = []
    for t in tools:
        fn = t.get("function") or {}
        if fn.get("name") not in names:
            out.append(t)
            continue
        fn = copy.deepcopy(fn)
        fn["description"] = strip(fn.get("description") or "")
        for spec in ((fn.get("parameters") or {}).get("properties") or {}).values():
            if isinstance(spec, dict) and isinstance(spec.get("description"), str):
                spec["description"] = strip(spec["description"])
        out.append({**t, "function": fn})
    return out


def copied_note(found: Sequence[Ungrounded], retry: int = 0) -> str | None:
    """The note for the ``retry``-th turn generated again because of copied required values
    (None: no need, or no retry left)."""
    copied = [u for u in found if u.action == "copied"]
    if not copied or retry >= len(COPIED_NOTES):
        return None
    note = COPIED_NOTES[retry]
    return "\n".join(note.format(value=u.value, param=u.param, name=u.name) for u in copied)
