"""Fan-out: one call whose single-valued argument names several things becomes one call each.

Asked about "the history of Christianity in Egypt and Turkey", a small model often writes one
call, ``track_history(region="Egypt and Turkey")``, where the function takes one region: the
request needs two calls. The check is generic and costs no generation. A call is fanned out
when

- the turn may make parallel calls;
- one of its arguments is declared as a plain ``string`` (no ``enum``, no ``format``, no
  pattern; not an array) whose description does not say it takes several values ("comma
  separated", "list of", "one or more", ...);
- the value joins two to four parts of at most five words each (no line break) with ``;``, `` and ``, `` & ``, ``、``, ``和``, ``及`` or
  ``以及`` (commas alone never split: "Paris, France" is one place); and
- every part, on its own, is something the user said (the last user message holds each part's
  text), the parts differ from one another, and no other call of the same function already
  has that part as the argument's value.

The parts keep the call's other arguments. Where two arguments of one call are joined with the
same number of parts (``city="A and B"``, ``state="X and Y"``), they are zipped. A call whose
joined value the user wrote as a name with "and" in it ("Procter and Gamble") is split too —
the price of a check that reads no meaning; ``TurnSettings.fan_out`` turns it off, and the BFCL
runner's rescore measures both (``--keep-merged``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..types import ToolCall, new_call_id
from .grounding import Evidence

_JOIN = re.compile(r"\s*;\s*|\s+and\s+|\s*&\s*|\s*、\s*|\s*以及\s*|\s*和\s*|\s*及\s*", re.IGNORECASE)
_MANY = re.compile(
    r"comma[- ]separated|separated by|list of|one or more|multiple|several|\(s\)|e\.g\.[^.]*,",
    re.IGNORECASE,
)
MAX_PARTS = 4
#: a part longer than this many words is a phrase or a sentence, not a thing named: a note,
#: a message or a tweet that says "wash & vacuum on Sunday" is one value (BFCL's memory
#: prerequisite notes and a tweet's content were split in two before this limit)
MAX_PART_WORDS = 5


@dataclass
class FannedOut:
    """One call split into several: its function, the arguments split and the parts' count."""

    name: str
    params: list[str]
    parts: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params, "parts": self.parts}


def _single_string(spec: dict[str, Any]) -> bool:
    if spec.get("type") != "string" or any(k in spec for k in ("enum", "format", "pattern", "const")):
        return False
    return not _MANY.search(spec.get("description") or "")


def _parts(value: Any, user: Evidence) -> list[str] | None:
    if not isinstance(value, str):
        return None
    parts = [p.strip() for p in _JOIN.split(value.strip())]
    if not 2 <= len(parts) <= MAX_PARTS or any(not p for p in parts):
        return None
    if "\n" in value.strip() or any(len(p.split()) > MAX_PART_WORDS for p in parts):
        return None
    if len({p.casefold() for p in parts}) != len(parts):
        return None
    if not all(user.has_text(p) for p in parts):
        return None
    return parts


def fan_out(
    calls: Sequence[ToolCall], user_text: str, tools: Sequence[dict[str, Any]]
) -> tuple[list[ToolCall], list[FannedOut]]:
    """The calls with joined single-valued arguments split into one call per part, and what was split."""
    functions = {t["function"]["name"]: t["function"] for t in tools if "function" in t}
    user = Evidence.of([user_text])
    out: list[ToolCall] = []
    found: list[FannedOut] = []
    for call in calls:
        fn = functions.get(call.name)
        props = ((fn or {}).get("parameters") or {}).get("properties") or {}
        if not isinstance(call.arguments, dict):
            out.append(call)
            continue
        split: dict[str, list[str]] = {}
        for param, value in call.arguments.items():
            spec = props.get(param)
            if isinstance(spec, dict) and _single_string(spec):
                parts = _parts(value, user)
                if parts is not None:
                    split[param] = parts
        counts = {len(p) for p in split.values()}
        if len(counts) != 1:  # nothing joined, or joined in different numbers: leave it
            out.append(call)
            continue
        n = counts.pop()
        taken = {
            (p, str(c.arguments.get(p)).casefold())
            for c in calls
            if c is not call and c.name == call.name and isinstance(c.arguments, dict)
            for p in split
        }
        if any((p, v.casefold()) in taken for p, vs in split.items() for v in vs):
            out.append(call)  # the parts are already called separately
            continue
        for i in range(n):
            args = {**call.arguments, **{p: vs[i] for p, vs in split.items()}}
            out.append(ToolCall(call.name, args, id=call.id if i == 0 else new_call_id()))
        found.append(FannedOut(call.name, sorted(split), n))
    return out, found


def fanned_note(found: Sequence[FannedOut]) -> str:
    return "; ".join(f"{f.name} split into {f.parts} calls ({', '.join(f.params)})" for f in found)


__all__ = ["FannedOut", "fan_out", "fanned_note"]
