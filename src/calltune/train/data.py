"""The seed training-data format (DESIGN.md §3): reading files with their locations.

A data file is a JSON list of samples or JSONL (one sample per line). A sample::

    {"tools": [<OpenAI tool dict or bare function dict>, ...],
     "conversations": [
        {"role": "system", "content": "..."},
        {"role": "user", "content": "..."},
        {"role": "assistant", "content": "..."},
        {"role": "tool", "name": "f", "parameters": {...}, "observation": <any JSON>},
        {"role": "tool", "calls": [{"name": ..., "parameters": ..., "observation": ...}, ...]},
        {"role": "assistant", "content": "...", "loss": false}]}

A ``tool`` entry is one call followed by its observation; consecutive ``tool`` entries are
sequential calls. A ``tool`` entry with ``calls`` is one turn of parallel calls (calltune's
extension of the seed format). Every message may carry ``"loss": bool``.

Every sample read from a file keeps its location (``file:line``) so that validation
errors point at it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CalltuneError

ROLES = ("system", "user", "assistant", "tool")


class DataError(CalltuneError, ValueError):
    """A data file that cannot be read (bad JSON, wrong top-level shape)."""


@dataclass
class Record:
    """One sample and where it came from."""

    sample: Any
    source: str
    line: int
    index: int

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _iter_json_list(text: str, source: str) -> Iterator[Record]:
    dec = json.JSONDecoder()
    i = text.index("[") + 1
    n = len(text)
    index = 0

    def skip_ws(j: int) -> int:
        while j < n and text[j] in " \t\r\n":
            j += 1
        return j

    i = skip_ws(i)
    if i < n and text[i] == "]":
        return
    while True:
        i = skip_ws(i)
        try:
            obj, end = dec.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise DataError(f"{source}:{_line_of(text, e.pos)}: invalid JSON: {e.msg}") from None
        yield Record(obj, source, _line_of(text, i), index)
        index += 1
        i = skip_ws(end)
        if i < n and text[i] == ",":
            i += 1
            continue
        if i < n and text[i] == "]":
            return
        raise DataError(f"{source}:{_line_of(text, i)}: expected ',' or ']' in the sample list")


def iter_records(path: str | Path) -> Iterator[Record]:
    """Yield every sample of a JSON-list or JSONL file with its ``file:line`` location.

    Raises :class:`DataError` (with the location) on malformed JSON.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    text = p.read_text(encoding="utf-8")
    source = str(path)
    stripped = text.lstrip()
    if not stripped:
        return
    if stripped[0] == "[":
        yield from _iter_json_list(text, source)
        return
    index = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{source}:{lineno}: invalid JSON: {e.msg} (column {e.colno})") from None
        yield Record(obj, source, lineno, index)
        index += 1


def load_records(paths: str | Path | Sequence[str | Path]) -> list[Record]:
    """All records of one or several files, in order."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Record] = []
    for p in paths:
        out.extend(iter_records(p))
    return out


def load_samples(paths: str | Path | Sequence[str | Path]) -> list[dict[str, Any]]:
    """The samples of one or several files (no validation; see :mod:`calltune.train.validate`)."""
    return [r.sample for r in load_records(paths)]


def write_samples(path: str | Path, samples: Iterable[dict[str, Any]]) -> int:
    """Write samples as JSONL (``.jsonl``) or a JSON list (anything else). Returns the count."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    items = list(samples)
    if p.suffix == ".jsonl":
        with p.open("w", encoding="utf-8") as f:
            for s in items:
                f.write(json.dumps(s, ensure_ascii=False) + "\n")
    else:
        p.write_text(json.dumps(items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(items)


def tool_entries(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """The calls of a seed ``tool`` message: ``[{"name", "parameters", "observation"}]``."""
    if "calls" in msg:
        return list(msg["calls"])
    return [{k: msg.get(k) for k in ("name", "parameters", "observation")}]


def tool_function(t: dict[str, Any]) -> dict[str, Any]:
    """The function dict of a tool given as an OpenAI tool dict or as a bare function dict."""
    if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict):
        return t["function"]
    return t


def openai_tools(tools: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Tools as OpenAI tool dicts ``{"type": "function", "function": {...}}``."""
    return [{"type": "function", "function": tool_function(t)} for t in (tools or [])]
